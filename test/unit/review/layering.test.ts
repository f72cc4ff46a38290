import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { root } from './helpers';

/** The review model and the reply composer run in the web extension host: no Node modules but the one fs adapter. */
test('src/review and the reply composer are browser-safe except node-fs.ts', () => {
  const nodeOnly =
    /from\s+['"](fs|path|os|child_process|util|node:[a-z_/]+)['"]|require\(\s*['"](fs|path|node:[a-z_/]+)['"]\s*\)/;
  const files = [
    ...readdirSync(path.join(root, 'src/review')).map((f) => `src/review/${f}`),
    'src/report/reply.ts',
  ].filter((f) => f.endsWith('.ts') && f !== 'src/review/node-fs.ts');
  const offenders = files.filter((f) => nodeOnly.test(readFileSync(path.join(root, f), 'utf8')));
  assert.deepEqual(offenders, []);
  assert.ok(files.includes('src/review/store.ts') && files.includes('src/review/session.ts'));
});

test('nothing in src/review imports vscode or the extension', () => {
  const offenders = readdirSync(path.join(root, 'src/review'))
    .filter((f) => f.endsWith('.ts'))
    .filter((f) =>
      /from\s+['"](vscode|\.\.\/extension[^'"]*)['"]/.test(readFileSync(path.join(root, 'src/review', f), 'utf8')),
    );
  assert.deepEqual(offenders, []);
});
