/**
 * No regular expression in src/ may backtrack super-linearly: everything the
 * product reads (mail, diffs, kernel C, configuration, session files) is
 * untrusted, and one regex like /\s+$/ on a long blank run made `patch`
 * take minutes. Every regex literal of src/ is found with the TypeScript
 * parser and judged by recheck (automaton analysis plus fuzzing, the checker
 * behind eslint-plugin-redos); a vulnerable one fails with recheck's attack
 * string, so the fix can be tested against it. Regexes built at run time
 * (`new RegExp`) are templates around literal names and are not covered.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tsFiles } from './ts-files';
import { check } from 'recheck';
import ts from 'typescript';

const root = path.resolve(__dirname, '../../..');

interface Literal {
  where: string;
  source: string;
  flags: string;
}

function regexLiterals(file: string): Literal[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out: Literal[] = [];
  const visit = (n: ts.Node): void => {
    if (n.kind === ts.SyntaxKind.RegularExpressionLiteral) {
      const text = n.getText(sf);
      const slash = text.lastIndexOf('/');
      out.push({
        where: `${path.relative(root, file)}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`,
        source: text.slice(1, slash),
        flags: text.slice(slash + 1),
      });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

test('no regex literal in src/ backtracks super-linearly (recheck)', async () => {
  const literals = tsFiles(path.join(root, 'src')).flatMap(regexLiterals);
  assert.ok(literals.length > 100, `found ${literals.length} regex literals`);
  const unsafe: string[] = [];
  // Each pattern once, one at a time: recheck's time limit counts from the request, and its agent is one process.
  const verdicts = new Map<string, Awaited<ReturnType<typeof check>>>();
  for (const l of literals) {
    const key = `/${l.source}/${l.flags}`;
    let d = verdicts.get(key) ?? (await check(l.source, l.flags, { timeout: 10_000 }));
    // A time-out under a loaded machine is no verdict: ask once more with more time before calling it unknown.
    if (d.status === 'unknown' && d.error.kind === 'timeout') d = await check(l.source, l.flags, { timeout: 60_000 });
    verdicts.set(key, d);
    if (d.status === 'vulnerable')
      unsafe.push(`${l.where} /${l.source}/${l.flags}: ${d.complexity.summary}, attack ${d.attack.pattern}`);
    else if (d.status === 'unknown')
      unsafe.push(`${l.where} /${l.source}/${l.flags}: recheck could not decide (${d.error.kind})`);
  }
  assert.deepEqual(unsafe, [], 'use trimEnd() or the walks of src/engine/text-scan.ts instead');
});
