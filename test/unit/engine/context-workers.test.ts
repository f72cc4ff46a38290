/**
 * Context files by path and digest (check --tree's path, facts-workers.ts):
 * the workers read, parse and model them and this thread keeps only their
 * facts. With 1 and 2 workers the result equals an engine given every text,
 * a context file the engine will not analyse (binary) or that vanished after
 * it was digested changes nothing but itself, and a second run finds every
 * context file's facts in the index.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Engine } from '../../../src/engine/engine';
import { DeferredParser } from '../../../src/engine/node/deferred-parser';
import { DiskFactsStore } from '../../../src/engine/node/facts-disk-store';
import { loadFiles } from '../../../src/engine/node/facts-workers';
import { digestSources } from '../../../src/engine/node/read-sources';
import type { AnalysisResult } from '../../../src/engine/types';
import { wasmParser } from './engine-helpers';

const dir = mkdtempSync(path.join(tmpdir(), 'iommufd-review-context-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const HEADER = `struct gadget {
\tstruct mutex lock;
\tint level;
};

void gadget_update(struct gadget *g);
`;

const CORE = `#include "gadget.h"

void gadget_update(struct gadget *g)
{
\tlockdep_assert_held(&g->lock);
\tg->level++;
}
`;

/** A caller: every third one forgets the lock. The reported file is caller 0. */
function caller(i: number): string {
  const locked = i % 3 !== 0;
  return `#include "gadget.h"

int gadget_user${i}(struct gadget *g)
{
${locked ? '\tmutex_lock(&g->lock);\n' : ''}\tgadget_update(g);
${locked ? '\tmutex_unlock(&g->lock);\n' : ''}\treturn 0;
}
`;
}

/** Writes the tree; returns the reported file and the context paths in order. */
function writeTree(root: string): { reported: string; context: string[] } {
  mkdirSync(path.join(root, 'users'), { recursive: true });
  const reported = path.join(root, 'user00.c');
  writeFileSync(reported, caller(0));
  const context = [path.join(root, 'gadget.h'), path.join(root, 'gadget.c')];
  writeFileSync(context[0], HEADER);
  writeFileSync(context[1], CORE);
  for (let i = 1; i < 20; i++) {
    const p = path.join(root, 'users', `user${String(i).padStart(2, '0')}.c`);
    writeFileSync(p, caller(i));
    context.push(p);
  }
  // Mostly control characters: the engine says it is not C and models nothing.
  const blob = path.join(root, 'blob.h');
  writeFileSync(blob, '\u0001\u0002\u0003\u0004'.repeat(50));
  context.push(blob);
  return { reported, context };
}

async function viaWorkers(root: string, jobs: number, index: string | undefined, drop?: string) {
  const { reported, context } = writeTree(root);
  const parser = new DeferredParser('wasm');
  const store = new DiskFactsStore(index ? { dir: index } : {});
  const digested = digestSources(context, (t) => store.digest(t));
  if (drop) rmSync(drop);
  const engine = new Engine({ parser, facts: store });
  try {
    const stats = await loadFiles(
      engine,
      store,
      [{ path: reported, text: readFileSync(reported, 'utf8') }],
      // as check does: this thread may take a share, but not with context files by digest
      { jobs, backend: 'wasm', timeoutMs: 5000, needParser: () => parser.load(), parser },
      digested,
    );
    return { stats, result: engine.analyze({ paths: [reported], minConfidence: 'low' }), digested };
  } finally {
    engine.dispose();
    parser.dispose();
  }
}

async function withTexts(root: string, skip?: string): Promise<AnalysisResult> {
  const { reported, context } = writeTree(root);
  const engine = new Engine({ parser: await wasmParser() });
  try {
    for (const p of [reported, ...context]) if (p !== skip) engine.setFile(p, readFileSync(p, 'utf8'));
    return engine.analyze({ paths: [reported], minConfidence: 'low' });
  } finally {
    engine.dispose();
  }
}

test('context by digest on 1 and 2 workers: the same result as an engine given every text', async () => {
  const root = path.join(dir, 'same');
  const expected = await withTexts(root);
  // Not vacuous: the reported caller forgets the lock the context's callee asserts.
  assert.deepEqual(
    expected.findings.map((f) => `${f.ruleId} ${path.relative(root, f.file)}:${f.line} ${f.function}`),
    ['assert-held user00.c:5 gadget_user0'],
  );
  assert.match(expected.findings[0].message, /it asserts it at .*gadget\.c:5/);
  for (const jobs of [1, 2]) {
    const run = await viaWorkers(root, jobs, undefined);
    assert.deepEqual(run.result, expected, `${jobs} worker(s)`);
    // Every context file but the binary one went through the workers, read there from disk.
    assert.equal(run.stats.parsedInWorkers, 21);
    assert.equal(run.stats.modelledInWorkers, 21);
    assert.equal(run.stats.workers, jobs);
    assert.equal(run.stats.parsedHere, 0);
    assert.equal(run.digested.filter((d) => d.text !== undefined).length, 1, 'only the binary file keeps its text');
  }
});

test('a context file gone after it was digested is left out, the rest is analysed', async () => {
  const root = path.join(dir, 'gone');
  const gone = path.join(root, 'gadget.c');
  const run = await viaWorkers(root, 2, undefined, gone);
  assert.deepEqual(run.result, await withTexts(root, gone));
  // Without the callee that asserts the lock, the caller is fine.
  assert.deepEqual(run.result.findings, []);
  assert.equal(run.result.coverage.functions.parsed, 1);
});

test('a second run finds every context file in the index: no worker starts, the same result', async () => {
  const root = path.join(dir, 'warm');
  const index = path.join(dir, 'index');
  const cold = await viaWorkers(root, 2, index);
  const warm = await viaWorkers(root, 2, index);
  assert.deepEqual(warm.stats, {
    parsedInWorkers: 0,
    modelledInWorkers: 0,
    workers: 0,
    parsedHere: 0,
    modelledHere: 0,
  });
  assert.deepEqual(warm.result, cold.result);
});
