/**
 * The server's analysis (src/lsp/analysis.ts) with the persistent index:
 * an open document is parsed and modelled by the server itself, never taken
 * from the index (a model from the index has no tree, so the first
 * keystroke would parse, model and re-check the whole file); the index
 * answers only its remembered own result and the context files.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Analysis } from '../../../src/lsp/analysis';
import { nodeHost } from '../../../src/lsp/node-host';
import { repoRoot } from './lsp-client';

const quiet = { info: () => undefined, warn: () => undefined };

test('an open document is parsed, not read from the index: the index answers its remembered result and the context file', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iommufd-lsp-open-'));
  const index = mkdtempSync(path.join(os.tmpdir(), 'iommufd-lsp-open-index-'));
  for (const name of ['toy_replace_detach_first.c', 'toy_mdev.c'])
    copyFileSync(path.join(repoRoot, 'examples/c', name), path.join(dir, name));
  const file = path.join(dir, 'toy_replace_detach_first.c');
  const text = readFileSync(file, 'utf8');
  // As the server opens a file: the remembered own answer when there is one, then the context and the analysis.
  const session = async () => {
    const host = nodeHost({ indexDir: index });
    const analysis = new Analysis(host, quiet);
    analysis.roots = [dir];
    try {
      const remembered = analysis.rememberedOwn(file, text) !== undefined;
      await analysis.setDocument(file, text);
      if (remembered) analysis.markAnswered();
      else await analysis.analyzeOpen();
      await analysis.loadContext(() => false);
      const result = await analysis.analyzeOpen();
      return { remembered, fromIndex: host.facts!.loaded(), findings: result.get(file)!.placed.map((p) => p.finding) };
    } finally {
      analysis.dispose();
    }
  };
  try {
    const cold = await session();
    assert.equal(cold.remembered, false);
    assert.equal(cold.fromIndex, 0);
    const warm = await session();
    assert.equal(warm.remembered, true);
    // the remembered own answer and toy_mdev.c's facts: nothing of the open file itself
    assert.equal(warm.fromIndex, 2);
    assert.deepEqual(
      warm.findings.map((f) => f.ruleId),
      ['unmap-before-rollback'],
    );
    assert.deepEqual(warm.findings, cold.findings);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(index, { recursive: true, force: true });
  }
});
