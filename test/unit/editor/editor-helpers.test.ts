/** The extension's pure helpers: incremental edits, the debounce that drops stale runs, context selection, the panel protocol, the lock graph text. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toReplacements } from '../../../src/engine/editor/replacements';
import { LatestOnly, type Timers } from '../../../src/engine/editor/latest-only';
import { selectContextFiles } from '../../../src/engine/editor/context-files';
import { validateRequest } from '../../../src/sim/panel-protocol';
import { viewOfResult } from '../../../src/sim/panel-view';
import { edgesOnCycles, formatLockGraphMarkdown } from '../../../src/report/lock-graph-text';
import { simulate } from '../../../src/sim';
import { applyEdit } from '../../../src/engine/parse/text-edit';

/** Timers driven by hand: `tick(ms)` runs what is due. */
function fakeTimers(): Timers & { tick(ms: number): void } {
  let now = 0;
  const due: { at: number; fn: () => void; id: number }[] = [];
  let next = 0;
  return {
    set(fn, ms) {
      const id = ++next;
      due.push({ at: now + ms, fn, id });
      return id;
    },
    clear(h) {
      const i = due.findIndex((d) => d.id === h);
      if (i >= 0) due.splice(i, 1);
    },
    tick(ms) {
      now += ms;
      for (const d of due.filter((x) => x.at <= now)) {
        due.splice(due.indexOf(d), 1);
        d.fn();
      }
    },
  };
}

test('change events become replacements applied in order', () => {
  const changes = [
    { rangeOffset: 0, rangeLength: 3, text: 'int' },
    { rangeOffset: 4, rangeLength: 0, text: 'x' },
  ];
  const r = toReplacements(changes);
  assert.deepEqual(r, [
    { start: 0, deletedLength: 3, inserted: 'int' },
    { start: 4, deletedLength: 0, inserted: 'x' },
  ]);
  const text = r.reduce((t, x) => applyEdit(t, x.start, x.deletedLength, x.inserted), 'foo y;');
  assert.equal(text, 'int xy;');
});

test('a debounced run happens once, after the last request, and a superseded run learns it', async () => {
  const timers = fakeTimers();
  const s = new LatestOnly<string>(timers);
  const ran: number[] = [];
  const push = (n: number) => void ran.push(n);
  let tokenOfFirst: { superseded(): boolean } | undefined;
  s.request('k', 100, () => push(1));
  timers.tick(50);
  s.request('k', 100, (t) => {
    tokenOfFirst = t;
    ran.push(2);
  });
  timers.tick(99);
  assert.deepEqual(ran, []);
  timers.tick(1);
  assert.deepEqual(ran, [2]);
  assert.equal(tokenOfFirst!.superseded(), false);
  s.request('k', 100, () => push(3));
  assert.equal(tokenOfFirst!.superseded(), true, 'a newer request supersedes a run in progress');
  s.cancel('k');
  timers.tick(200);
  assert.deepEqual(ran, [2]);
});

test('context files: siblings first (.c before .h), then the kernel tree in iommufd-first order, within bounds', () => {
  const edited = '/k/drivers/iommu/iommufd/device.c';
  const picked = selectContextFiles(
    edited,
    [
      '/k/drivers/iommu/iommufd/io_pagetable.h',
      '/k/drivers/iommu/iommufd/pages.c',
      edited,
      '/k/drivers/iommu/iommufd/notes.txt',
    ],
    '/k',
    [
      'drivers/vfio/vfio_main.c',
      'include/linux/iommufd.h',
      'drivers/iommu/iommufd/main.c',
      'fs/open.c',
      'drivers/iommu/iommufd/pages.c',
    ],
    { maxDirectoryFiles: 5, maxWorkspaceFiles: 2 },
  );
  assert.deepEqual(picked, [
    '/k/drivers/iommu/iommufd/pages.c',
    '/k/drivers/iommu/iommufd/io_pagetable.h',
    '/k/drivers/iommu/iommufd/main.c',
    '/k/include/linux/iommufd.h',
  ]);
  assert.deepEqual(
    selectContextFiles(edited, ['/k/drivers/iommu/iommufd/pages.c'], undefined, [], {
      maxDirectoryFiles: 0,
      maxWorkspaceFiles: 10,
    }),
    [],
  );
});

test('panel requests from the webview are validated; bad ones say why', () => {
  assert.equal(
    validateRequest({ variant: 'v9', threads: ['replacer'], faults: [], contract: 'usable' }),
    'unknown variant v9',
  );
  assert.equal(
    validateRequest({ variant: 'v8', threads: ['driver'], faults: [], contract: 'usable' }),
    'the replacer thread is required',
  );
  assert.equal(
    validateRequest({ variant: 'from-source', threads: ['replacer'], faults: [], contract: 'usable' }),
    'from-source needs a function',
  );
  assert.equal(validateRequest('<script>'), 'request is not an object');
  assert.deepEqual(
    validateRequest({
      variant: 'v8',
      threads: ['driver', 'replacer', 'driver'],
      faults: ['add-access'],
      contract: 'status-quo',
      extra: '<img>',
    }),
    {
      variant: 'v8',
      threads: ['replacer', 'driver'],
      faults: ['add-access'],
      contract: 'status-quo',
    },
  );
});

test("the panel view: one lane per thread, each step in its thread's lane; the preferred invariant first; the state as a per-thread table with changes marked", () => {
  const result = simulate({
    variant: 'v8',
    threads: ['replacer', 'driver'],
    faults: ['add-access'],
    contract: 'status-quo',
  });
  const view = viewOfResult(result, 'failure-contract');
  assert.equal(view.primary, 'failure-contract');
  assert.match(view.headline, /^failure-contract broken: replace failed with -ENOMEM/);
  const steps = result.invariants.find((i) => i.id === 'failure-contract')!.counterexample!.steps;
  const trace = view.traces.find((t) => t.invariant === 'failure-contract')!;
  assert.deepEqual(trace.lanes, ['replacer', 'driver']);
  assert.equal(trace.rows.length, steps.length);
  trace.rows.forEach((row, i) => assert.equal(trace.lanes[row.lane], steps[i].thread));
  // the first step takes ioas_lock: only the replacer's holds cell changes
  assert.deepEqual(
    trace.rows[0].state.filter((c) => c.changed).map((c) => `${c.owner}.${c.key}=${c.value}`),
    ['replacer.holds=ioas_lock'],
  );
  // the unpin: A's pins cell changes to 0
  const unpin = trace.rows.findIndex((r) => /unpin all/.test(r.action));
  assert.deepEqual(
    trace.rows[unpin].state.filter((c) => c.changed).map((c) => `${c.owner}.${c.key}=${c.value}`),
    ['IOAS A.pins=0'],
  );
  const merged = viewOfResult(
    simulate({ variant: 'merged', threads: ['replacer', 'driver'], faults: ['add-access'], contract: 'status-quo' }),
  );
  assert.equal(merged.primary, undefined);
  assert.equal(merged.headline, 'Every invariant holds within the bounds.');
});

test('the lock graph text marks the edges of a cycle', () => {
  const graph = {
    edges: [
      { from: 'a.x', to: 'b.y', sites: [{ file: 'f.c', line: 3 }] },
      { from: 'b.y', to: 'a.x', sites: [{ file: 'g.c', line: 9 }] },
      { from: 'a.x', to: 'c.z', sites: [{ file: 'f.c', line: 5 }] },
    ],
  };
  assert.deepEqual([...edgesOnCycles(graph)].sort(), ['a.x\u0000b.y', 'b.y\u0000a.x']);
  const md = formatLockGraphMarkdown(graph);
  assert.match(md, /- `a\.x` → `b\.y` \*\*\(on a cycle: possible deadlock\)\*\* — f\.c:3/);
  assert.match(md, /- `a\.x` → `c\.z` — f\.c:5/);
  assert.match(md, /"b\.y" -> "a\.x" \[color=red\];/);
});
