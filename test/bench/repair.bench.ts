/**
 * The repair search beside the plain exploration of the same function and
 * scenario (every thread and fault, status-quo): the time to a verified
 * proposal (search, source edit and the engine's re-analysis), the
 * candidates screened and the states explored. Goal: under 2 s each.
 */
import { readFileSync } from 'fs';
import path from 'path';
import { createParser } from '../../src/engine/node/create-parser';
import { applyFileDiff } from '../../src/patch/apply';
import { parseMailDiff } from '../../src/patch/diff';
import { parseSeries } from '../../src/patch/series';
import { simulate, SIM_FAULTS, SIM_THREADS } from '../../src/sim';
import { helperSteps, proposeRepair } from '../../src/sim/repair';
import { measure, ms } from './stats';

const ROOT = path.resolve(__dirname, '../../..');
const ALL = { threads: [...SIM_THREADS], faults: [...SIM_FAULTS], contract: 'status-quo' as const };

async function v8PostImage(): Promise<string> {
  const series = await parseSeries(new Uint8Array(readFileSync(path.join(ROOT, 'examples/series/v8.mbox'))), 'v8.mbox');
  let text = readFileSync(path.join(ROOT, 'examples/series/tree/drivers/iommu/iommufd/device.c'), 'utf8');
  for (const mail of series.patches)
    for (const f of parseMailDiff(mail).files)
      if (f.newPath === 'drivers/iommu/iommufd/device.c') text = applyFileDiff(text, f).text ?? text;
  return text;
}

export async function run(_ctx: {
  kernelDir: string;
}): Promise<{ title: string; columns: string[]; rows: (string | number)[][]; json: unknown }> {
  const parser = await createParser('wasm');
  const cases: { name: string; file: string; fn: string; text: string }[] = [
    {
      name: 'v8 series post-image',
      file: 'drivers/iommu/iommufd/device.c',
      fn: 'iommufd_access_change_ioas_id',
      text: await v8PostImage(),
    },
    ...[
      ['v8-like fixture', 'test/fixtures/sim/v8-like.c', 'demo_move_ioas'],
      [
        'v8 shape, engine fixture',
        'test/fixtures/engine/unmap-before-rollback/v8-detach-first.c',
        'emu_access_set_ioas',
      ],
      ['toy_replace_detach_first.c', 'examples/c/toy_replace_detach_first.c', 'toy_replace_detach_first'],
      ['unmap-under-lock fixture', 'test/fixtures/sim/unmap-under-lock-like.c', 'demo_rehome'],
      ['v7 list-id fixture', 'test/fixtures/engine/unrestored-state/v7-list-id.c', 'mdev_access_move'],
    ].map(([name, rel, fn]) => ({ name, file: rel, fn, text: readFileSync(path.join(ROOT, rel), 'utf8') })),
  ];
  const rows: (string | number)[][] = [];
  const json: unknown[] = [];
  try {
    for (const c of cases) {
      const steps = helperSteps(parser, c.file, c.text, c.fn);
      const plain = simulate({ variant: 'from-source', steps, ...ALL });
      const tPlain = await measure(() => simulate({ variant: 'from-source', steps, ...ALL }), { warmup: 1, reps: 3 });
      const report = proposeRepair({ parser, file: c.file, text: c.text, function: c.fn, ...ALL });
      const tRepair = await measure(
        () => proposeRepair({ parser, file: c.file, text: c.text, function: c.fn, ...ALL }),
        { warmup: 0, reps: 3 },
      );
      const s = report.search;
      rows.push([
        c.name,
        plain.states,
        ms(tPlain.median),
        ms(tRepair.median),
        s.candidates,
        s.fullRuns,
        s.states,
        s.proposal?.edits.length ?? '-',
        s.proposal?.verification.states ?? '-',
        report.verified ? 'yes' : 'no',
        tRepair.median < 2000 ? 'yes' : 'NO',
      ]);
      json.push({
        name: c.name,
        function: c.fn,
        plainStates: plain.states,
        plainMs: tPlain,
        repairMs: tRepair,
        candidates: s.candidates,
        fullRuns: s.fullRuns,
        states: s.states,
        edits: s.proposal?.edits.map((e) => e.kind),
        verifiedStates: s.proposal?.verification.states,
        verified: report.verified,
      });
    }
  } finally {
    parser.dispose();
  }
  return {
    title: 'Repair search vs plain exploration (every thread and fault, status-quo; goal: repair < 2 s)',
    columns: [
      'function',
      'states',
      'plain ms (median)',
      'repair ms (median)',
      'candidates',
      'full runs',
      'states searched',
      'edits',
      'verified over states',
      'verified',
      '< 2 s',
    ],
    rows,
    json,
  };
}
