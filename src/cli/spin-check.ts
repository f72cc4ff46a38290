/**
 * Runs the real Spin verifier on an emitted model (Node only: files and child
 * processes). `spin -a` writes pan.c, gcc compiles it, ./pan searches with
 * `-c0` so it keeps going past the first error and reports every invariant
 * that breaks. Used by the cross-check test and the bench.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROMELA_INVARIANT } from '../sim/promela';
import { INVARIANT_IDS } from '../sim/types';
import type { InvariantId } from '../sim/types';

export interface SpinRun {
  /** Invariant id → holds, as pan found it. */
  verdicts: Record<InvariantId, boolean>;
  /** pan's "states, stored". */
  states: number;
  /** Wall time of ./pan alone, and of spin -a + gcc. */
  panMs: number;
  buildMs: number;
  /** pan's full output, for a failing test's message. */
  output: string;
}

const byBit = new Map<string, InvariantId>(
  Object.entries(PROMELA_INVARIANT).map(([id, bit]) => [bit, id as InvariantId]),
);

/** Reads pan's report: every "assertion violated (<bit>)" and "invalid end state" line. */
export function parsePan(output: string): Omit<SpinRun, 'panMs' | 'buildMs'> {
  const verdicts = Object.fromEntries(INVARIANT_IDS.map((id) => [id, true])) as Record<InvariantId, boolean>;
  for (const m of output.matchAll(/^pan:\d+: assertion violated \(?([a-z_]+)\)? /gm)) {
    const id = byBit.get(m[1]);
    if (!id) throw new Error(`pan reported an assertion this model does not make: ${m[1]}`);
    verdicts[id] = false;
  }
  if (/^pan:\d+: invalid end state/m.test(output)) verdicts['no-deadlock'] = false;
  const stored = /^[ \t]*(\d+) states, stored/m.exec(output);
  if (!stored) throw new Error(`pan's output has no state count:\n${output}`);
  if (!/errors: \d+/.test(output)) throw new Error(`pan did not finish:\n${output}`);
  return { verdicts, states: Number(stored[1]), output };
}

/**
 * `optimize` compiles pan with -O2 (the bench: pan's own speed); without it
 * -O0, which compiles several times faster and searches these models about as
 * fast (the tests).
 */
export function runSpin(model: string, options: { optimize?: boolean } = {}): SpinRun {
  const dir = mkdtempSync(path.join(tmpdir(), 'iommufd-review-spin-'));
  try {
    writeFileSync(path.join(dir, 'model.pml'), model);
    const t0 = performance.now();
    execFileSync('spin', ['-a', 'model.pml'], { cwd: dir, stdio: 'pipe' });
    execFileSync('gcc', [options.optimize ? '-O2' : '-O0', '-DSAFETY', '-DNOBOUNDCHECK', '-o', 'pan', 'pan.c'], {
      cwd: dir,
      stdio: 'pipe',
    });
    const t1 = performance.now();
    // -c0: do not stop at the first error; -w20: a hash table sized for these models; -m: room for deep paths
    const out = execFileSync('./pan', ['-c0', '-w20', '-m100000'], {
      cwd: dir,
      stdio: 'pipe',
      maxBuffer: 64 << 20,
    }).toString();
    const t2 = performance.now();
    return { ...parsePan(out), panMs: t2 - t1, buildMs: t1 - t0 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
