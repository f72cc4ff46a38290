/**
 * The kept global step after edits that only move lines, on Linux 6.12:
 * the corpus (iommufd, vfio, GVT, vfio-ccw, vfio-ap) loaded once, then a
 * comment line inserted at the top of a file and a blank line inside one
 * of its functions, in three files whose findings name lines of other files
 * (vfio type1's lock-order cycle, iommufd's and vfio core's routes). Each
 * answer must be a fresh engine's on the same texts, at low confidence.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { before, test } from 'node:test';
import { analyzeSources, Engine } from '../../src/engine/engine';
import { readSources } from '../../src/engine/node/read-sources';
import type { AnalysisResult, SourceFile } from '../../src/engine/types';
import { wasmParser } from '../unit/engine/engine-helpers';
import { checkPaths, kernelDir } from './kernel-corpus';

const EDITED = ['drivers/iommu/iommufd/device.c', 'drivers/vfio/vfio_iommu_type1.c', 'drivers/vfio/vfio_main.c'];

let files: SourceFile[];

before(() => {
  const kernel = kernelDir();
  const read = readSources(checkPaths(kernel));
  files = read.files.map((f) => ({ path: path.relative(kernel, f.path), text: f.text }));
});

/** A blank line after the opening brace of the function in the middle of the file. */
function blankInMiddle(text: string): string {
  const bodies = [...text.matchAll(/\n\{\n/g)].map((m) => m.index!);
  const at = bodies[bodies.length >> 1] + 3;
  return `${text.slice(0, at)}\n${text.slice(at)}`;
}

test("Linux 6.12: a comment line at the top and a blank line in a body keep the step, and the answer is a fresh engine's", async () => {
  const parser = await wasmParser();
  const engine = new Engine({ parser });
  try {
    for (const f of files) engine.setFile(f.path, f.text);
    const first = engine.analyze({ minConfidence: 'low' });
    const lineOf = (r: AnalysisResult, file: string): number[] =>
      r.findings.filter((f) => f.file === file).map((f) => f.line);
    let moved = 0;
    for (const file of EDITED) {
      const original = files.find((f) => f.path === file)!.text;
      for (const [what, text] of [
        ['a comment line at the top', `/* moved */\n${original}`],
        ['a blank line in the middle function', blankInMiddle(original)],
      ] as const) {
        engine.setFile(file, text);
        const kept = engine.analyze({ minConfidence: 'low' });
        assert.equal(engine.lastReusedGlobal, true, `${file}, ${what}: the step is kept`);
        const texts = files.map((f) => (f.path === file ? { path: file, text } : f));
        assert.deepEqual(kept, analyzeSources(parser, texts, { minConfidence: 'low' }), `${file}, ${what}`);
        const was = lineOf(first, file);
        moved += lineOf(kept, file).filter((l, i) => l !== was[i]).length;
      }
      engine.setFile(file, original);
      assert.deepEqual(engine.analyze({ minConfidence: 'low' }), first, `${file} back as it was`);
    }
    // The edits moved findings: the top comment moves every one of the file's findings by a line (6 in the three files).
    assert.ok(moved >= 6, `only ${moved} findings moved`);
  } finally {
    engine.dispose();
  }
});
