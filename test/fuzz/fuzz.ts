/**
 * The fuzzer: seeded, deterministic property runs of each command over the
 * generators, every case through the built CLI. Used with a short budget by
 * the test suite (fuzz.test.ts) and with any budget by `npm run fuzz`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { parseMailDiff } from '../../src/patch/diff';
import { parseSeries } from '../../src/patch/series';
import { reviewSeriesFrom } from '../../src/review/from-series';
import { addThread, createSession } from '../../src/review/session';
import { serializeSession } from '../../src/review/store';
import { checkCase, patchCase, replyCase, simulateCase, type FuzzCase } from './generators';
import { runCase, saveFailure, type Verdict } from './harness';

const root = path.resolve(__dirname, '../../..');

/** A real session file to mutate: the bundled v8 series with two comment threads. */
export async function baseSession(): Promise<string> {
  const name = 'v8.mbox';
  const text = readFileSync(path.join(root, 'examples/series', name), 'utf8');
  const series = await parseSeries(text, name);
  const review = reviewSeriesFrom(series, series.patches.map(parseMailDiff), { [name]: text });
  let s = createSession(review, 'Rui Reviewer <rui@example.net>');
  const first = review.patches[0].id;
  s = addThread(s, first, { kind: 'patch' }, 'Looks fine overall.', '2026-07-02T09:00:00.000Z').session;
  s = addThread(
    s,
    first,
    { kind: 'diff', file: 'drivers/iommu/iommufd/device.c', side: 'new', line: 40, text: 'x' },
    'Why drop the lock here?',
    '2026-07-02T09:01:00.000Z',
  ).session;
  return serializeSession(s);
}

export type Target = FuzzCase['target'];
export const TARGETS: readonly Target[] = ['check', 'patch', 'simulate', 'reply'];

export interface FuzzFailure {
  target: Target;
  reason: string;
  args: string[];
  saved?: string;
}

/**
 * Runs `runs` cases of each target with `seed`; every failing case is
 * collected (and saved under `saveDir` when given). The run goes on after a
 * failure, with no shrinking: each case costs a process, and the raw input
 * with its command is what a fix needs.
 */
export async function fuzz(options: {
  runs: Partial<Record<Target, number>>;
  seed: number;
  saveDir?: string;
  log?: (line: string) => void;
}): Promise<{ cases: number; failures: FuzzFailure[] }> {
  const arbs: Record<Target, fc.Arbitrary<FuzzCase>> = {
    check: checkCase,
    patch: patchCase,
    simulate: simulateCase,
    reply: replyCase(await baseSession()),
  };
  const failures: FuzzFailure[] = [];
  let cases = 0;
  for (const target of TARGETS) {
    const numRuns = options.runs[target] ?? 0;
    if (numRuns <= 0) continue;
    await fc.assert(
      fc.property(arbs[target], (c) => {
        cases++;
        const v: Verdict = runCase(c);
        if (!v.ok) {
          const saved = options.saveDir ? saveFailure(options.saveDir, c, v, options.seed) : undefined;
          failures.push({ target, reason: v.reason ?? '', args: c.args, saved });
          options.log?.(`FAIL ${target}: ${v.reason}${saved ? ` (saved in ${saved})` : ''}`);
        }
        return true;
      }),
      { seed: options.seed, numRuns },
    );
    options.log?.(`${target}: ${numRuns} cases done`);
  }
  return { cases, failures };
}
