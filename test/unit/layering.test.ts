import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tsFiles } from './ts-files';

const root = path.resolve(__dirname, '../../..');

test('only src/extension and src/webview import vscode', () => {
  const offenders = tsFiles(path.join(root, 'src'))
    .filter((f) => !/src[\\/](extension|webview)[\\/]/.test(f))
    .filter((f) => /from\s+['"]vscode['"]|require\(\s*['"]vscode['"]\s*\)/.test(readFileSync(f, 'utf8')));
  assert.deepEqual(
    offenders.map((f) => path.relative(root, f)),
    [],
  );
});

test('the browser-reachable engine never imports Node-only modules', () => {
  const nodeOnly =
    /from\s+['"](fs|path|child_process|os|node:[a-z_/]+)['"]|require\(\s*['"](tree-sitter|tree-sitter-c)['"]\s*\)/;
  const allowed = new Set(['native-parser.ts', 'node-wasm.ts']);
  const offenders = tsFiles(path.join(root, 'src/engine'))
    .filter((f) => !allowed.has(path.basename(f)) && !/[\\/]node[\\/]/.test(f))
    .filter((f) => nodeOnly.test(readFileSync(f, 'utf8')));
  assert.deepEqual(
    offenders.map((f) => path.relative(root, f)),
    [],
  );
});

/** The relative imports of a source file, resolved to paths under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|require\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g))
    out.push(path.relative(path.join(root, 'src'), path.resolve(path.dirname(file), m[1])));
  return out;
}

test('the engine imports nothing from the layers above it (the simulator reads findings, never the reverse)', () => {
  const above = /^(sim|patch|review|report|cli|extension|webview)(\/|$)/;
  const offenders = tsFiles(path.join(root, 'src/engine')).flatMap((f) =>
    importsOf(f)
      .filter((i) => above.test(i.split(path.sep).join('/')))
      .map((i) => `${path.relative(root, f)} → src/${i}`),
  );
  assert.deepEqual(offenders, []);
});
