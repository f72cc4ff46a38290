/**
 * Edits that only move lines (a comment or a blank line inserted, a line
 * edited in place) keep the global step: the edited file's model is seen at
 * the step's lines and the findings are moved to the current lines on the
 * way out (model/step-lines.ts). Every answer must still be exactly a fresh
 * engine's on the same texts: lines, messages, related locations, the lock
 * graph. Checked over every fixture folder of the engine tests, each file
 * edited in turn.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { analyzeSources, Engine } from '../../../src/engine/engine';
import { LineMap, lineMapBetween } from '../../../src/engine/model/line-map';
import { atStepLines } from '../../../src/engine/model/step-lines';
import type { SourceFile } from '../../../src/engine/types';
import { modelOf, wasmParser } from './engine-helpers';

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/engine');

function sourcesUnder(dir: string): SourceFile[] {
  const out: SourceFile[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourcesUnder(p));
    else if (/\.[ch]$/.test(name)) out.push({ path: path.relative(FIXTURES, p), text: readFileSync(p, 'utf8') });
  }
  return out;
}

/** Edits that move lines and nothing else: at the top, inside the first body, before the last definition. */
function movingEdits(text: string): { what: string; text: string }[] {
  const out = [{ what: 'a comment line at the top', text: `/* moved */\n${text}` }];
  const body = text.indexOf('\n{\n');
  if (body >= 0)
    out.push({
      what: 'a blank line and a comment inside the first body',
      text: `${text.slice(0, body + 3)}\n\t/* moved */\n${text.slice(body + 3)}`,
    });
  const last = text.lastIndexOf('\n{\n');
  const head = last >= 0 ? text.lastIndexOf('\n\n', last) : -1;
  if (head > body)
    out.push({
      what: 'two lines before the last definition',
      text: `${text.slice(0, head)}\n\n/* two */\n${text.slice(head)}`,
    });
  return out;
}

test('line map: kept runs map one to one, a line edited in place pairs, an added line has no old line', () => {
  const map = lineMapBetween('a\nb\nc\nd\n', 'a\nx\nb\nC\nd\n')!;
  assert.deepEqual(
    [1, 2, 3, 4].map((l) => map.toNew(l)),
    [1, 3, 4, 5],
  );
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((l) => map.toOld(l)),
    [1, undefined, 2, 3, 4],
  );
  assert.equal(map.isIdentity(), false);
  // Deleted lines go to where they were.
  const del = lineMapBetween('a\nb\nc\nd\n', 'a\nd\n')!;
  assert.deepEqual(
    [1, 2, 3, 4].map((l) => del.toNew(l)),
    [1, 2, 2, 2],
  );
  assert.equal(lineMapBetween('a\nb\n', 'a\nB\n')!.isIdentity(), true);
  assert.equal(lineMapBetween('a\nb\n', 'a\nb\nc\n')!.isIdentity(), false);
  // Over the bound: no map (the engine then redoes the step).
  const many = Array.from({ length: 600 }, (_, i) => `l${i}\n`).join('');
  assert.equal(lineMapBetween('', many, 400), undefined);
  assert.ok(lineMapBetween('', many, 700) instanceof LineMap);
});

test('a model seen at the old lines is the old model itself when the edit only moved lines (every line field is known)', async () => {
  let compared = 0;
  for (const dir of readdirSync(FIXTURES).sort()) {
    for (const f of sourcesUnder(path.join(FIXTURES, dir))) {
      const before = await modelOf(f.text, f.path);
      for (const e of movingEdits(f.text)) {
        const after = await modelOf(e.text, f.path);
        const map = lineMapBetween(f.text, e.text)!;
        const seen = atStepLines(after, before, map);
        assert.ok(seen, `${f.path}, ${e.what}: no view`);
        // Not the same object (two engines built them), but every function equal to the old one.
        assert.deepEqual(seen.functions, before.functions, `${f.path}, ${e.what}`);
        assert.deepEqual(seen.opsImplementations, before.opsImplementations, `${f.path}, ${e.what}`);
        assert.deepEqual(seen.documentedOrders, before.documentedOrders, `${f.path}, ${e.what}`);
        compared += before.functions.length;
      }
    }
  }
  assert.ok(compared > 500, `only ${compared} functions compared`);
});

test('a model with a line the edit added (a new call) has no view at the old lines', async () => {
  const text = '// SPDX-License-Identifier: MIT\nvoid f(int *p)\n{\n\tg(p);\n}\n';
  const edited = text.replace('\tg(p);\n', '\tg(p);\n\th(p);\n');
  const seen = atStepLines(await modelOf(edited), await modelOf(text), lineMapBetween(text, edited)!);
  assert.equal(seen, undefined);
});

test("edits that only move lines keep the global step, and every answer is a fresh engine's", async () => {
  const parser = await wasmParser();
  let answers = 0;
  let movedFindings = 0;
  for (const dir of readdirSync(FIXTURES).sort()) {
    const files = sourcesUnder(path.join(FIXTURES, dir));
    for (const edited of files) {
      const engine = new Engine({ parser });
      try {
        for (const f of files) engine.setFile(f.path, f.text);
        const first = engine.analyze({ minConfidence: 'low' });
        // Each edit from the text the step saw, then two of them together (the map is always from that text).
        const edits = movingEdits(edited.text);
        const twice = movingEdits(edits[0].text)[1];
        if (twice) edits.push({ what: 'the comment at the top and the lines inside the first body', text: twice.text });
        for (const e of edits) {
          const texts = files.map((f) => (f.path === edited.path ? { path: f.path, text: e.text } : f));
          engine.setFile(edited.path, e.text);
          const kept = engine.analyze({ minConfidence: 'low' });
          const where = `${dir}: ${edited.path}, ${e.what}`;
          assert.equal(engine.lastReusedGlobal, true, `${where}: the step is kept`);
          const fresh = analyzeSources(parser, texts, { minConfidence: 'low' });
          assert.deepEqual(kept, fresh, where);
          answers++;
          movedFindings += kept.findings.filter(
            (f, i) => f.file === edited.path && first.findings[i]?.line !== f.line,
          ).length;
        }
      } finally {
        engine.dispose();
      }
    }
  }
  assert.ok(answers > 150, `only ${answers} answers compared`);
  assert.ok(movedFindings > 50, `only ${movedFindings} findings were at moved lines`);
});

test('the editor path: Enter pressed in a body (an incremental edit) keeps the step; typing a call there redoes it', async () => {
  const parser = await wasmParser();
  const files = sourcesUnder(path.join(FIXTURES, 'lock-order'));
  const edited = files.find((f) => f.path.endsWith('abba-through-helper.c'))!;
  const engine = new Engine({ parser });
  try {
    for (const f of files) engine.setFile(f.path, f.text);
    const first = engine.analyze({ minConfidence: 'low' });
    assert.ok(first.findings.some((f) => f.file === edited.path && f.ruleId === 'lock-order'));
    const at = edited.text.indexOf('\n{\n') + 3;
    engine.editFile(edited.path, [{ start: at, deletedLength: 0, inserted: '\n' }]);
    const text = `${edited.text.slice(0, at)}\n${edited.text.slice(at)}`;
    const texts = files.map((f) => (f.path === edited.path ? { path: f.path, text } : f));
    const kept = engine.analyze({ minConfidence: 'low' });
    assert.equal(engine.lastReusedGlobal, true);
    assert.deepEqual(kept, analyzeSources(parser, texts, { minConfidence: 'low' }));
    // A call typed on the new line: the step is redone, and the answer is still a fresh engine's.
    engine.editFile(edited.path, [{ start: at, deletedLength: 0, inserted: '\tmight_sleep();' }]);
    const call = `${text.slice(0, at)}\tmight_sleep();${text.slice(at)}`;
    const redone = engine.analyze({ minConfidence: 'low' });
    assert.equal(engine.lastReusedGlobal, false);
    const withCall = files.map((f) => (f.path === edited.path ? { path: f.path, text: call } : f));
    assert.deepEqual(redone, analyzeSources(parser, withCall, { minConfidence: 'low' }));
  } finally {
    engine.dispose();
  }
});
