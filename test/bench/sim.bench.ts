/**
 * The replace-flow simulator: states explored, states per second and time of
 * the exhaustive search (goal for merged with every thread and fault: under
 * 1 s), and Spin on the model emitted for the same scenario, side by side.
 */
import { programsFor, simulate, SIM_FAULTS, SIM_THREADS } from '../../src/sim';
import type { SimulationRequest } from '../../src/sim';
import { emitPromela } from '../../src/sim/promela';
import { runSpin } from '../../src/cli/spin-check';
import { measure, ms } from './stats';

const ALL = { threads: [...SIM_THREADS], faults: [...SIM_FAULTS] };

const SCENARIOS: { name: string; req: SimulationRequest }[] = [
  { name: 'merged, all threads+faults, status-quo', req: { variant: 'merged', contract: 'status-quo', ...ALL } },
  { name: 'merged, all threads+faults, usable', req: { variant: 'merged', contract: 'usable', ...ALL } },
  { name: 'v8, all threads+faults, status-quo', req: { variant: 'v8', contract: 'status-quo', ...ALL } },
  { name: 'v7, all threads+faults, status-quo', req: { variant: 'v7', contract: 'status-quo', ...ALL } },
  {
    name: 'unmap-under-lock, all threads+faults',
    req: { variant: 'unmap-under-lock', contract: 'status-quo', ...ALL },
  },
];

export async function run(_ctx: {
  kernelDir: string;
}): Promise<{ title: string; columns: string[]; rows: (string | number)[][]; json: unknown }> {
  const rows: (string | number)[][] = [];
  const json: unknown[] = [];
  for (const { name, req } of SCENARIOS) {
    const result = simulate(req);
    const t = await measure(() => simulate(req), { warmup: 2, reps: 7 });
    const spin = runSpin(emitPromela(programsFor(req), req.contract, name), { optimize: true });
    const ours = Object.fromEntries(result.invariants.map((i) => [i.id, i.holds]));
    const agree = JSON.stringify(ours) === JSON.stringify(spin.verdicts);
    const statesPerSec = Math.round(result.states / (t.median / 1000));
    const broken = result.invariants.filter((i) => !i.holds).map((i) => i.id);
    rows.push([
      name,
      result.states,
      result.transitions,
      ms(t.median),
      ms(t.p95),
      statesPerSec,
      spin.states,
      ms(spin.panMs),
      ms(spin.buildMs),
      agree ? 'yes' : 'NO',
      broken.join(', ') || 'none',
    ]);
    json.push({
      name,
      request: req,
      states: result.states,
      transitions: result.transitions,
      explorerMs: t,
      statesPerSec,
      spin: { states: spin.states, panMs: spin.panMs, buildMs: spin.buildMs, verdicts: spin.verdicts },
      verdicts: ours,
      agree,
    });
  }
  return {
    title: 'Replace-flow simulator: exhaustive explorer vs Spin (goal: merged, all threads and faults, < 1 s)',
    columns: [
      'scenario',
      'states',
      'transitions',
      'explorer ms (median)',
      'p95 ms',
      'states/s',
      'spin states',
      'spin pan ms',
      'spin -a+gcc ms',
      'verdicts agree',
      'violated',
    ],
    rows,
    json,
  };
}
