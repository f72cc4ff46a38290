/**
 * package.json and the review feature agree: every contributed review command is
 * registered (with a folder and without), every menu entry names a contributed
 * command, and the view exists. Read from the sources, since register.ts imports vscode.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { root } from './helpers';

const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const register = readFileSync(path.join(root, 'src/extension/review/register.ts'), 'utf8');
const contributed = (pkg.contributes.commands as { command: string }[])
  .map((c) => c.command)
  .filter((c) => c.startsWith('iommufd.review.'))
  .sort();

test('the COMMAND_IDS list is exactly the contributed review commands', () => {
  const list = /COMMAND_IDS = \[([^\]]*)\]/.exec(register)?.[1] ?? '';
  assert.deepEqual([...list.matchAll(/'([^']+)'/g)].map((m) => m[1]).sort(), contributed);
});

test('every contributed review command has a handler', () => {
  const handled = new Set([...register.matchAll(/(?:reg\(|\[)'(iommufd\.review\.[A-Za-z]+)'/g)].map((m) => m[1]));
  assert.deepEqual(
    contributed.filter((c) => !handled.has(c)),
    [],
  );
});

test('menus name contributed commands only; the view is contributed', () => {
  const all = new Set((pkg.contributes.commands as { command: string }[]).map((c) => c.command));
  const inMenus = Object.values(pkg.contributes.menus as Record<string, { command: string }[]>)
    .flat()
    .map((m) => m.command)
    .filter((c) => c.startsWith('iommufd.review.'));
  assert.deepEqual(
    inMenus.filter((c) => !all.has(c)),
    [],
  );
  assert.ok((pkg.contributes.views.iommufd as { id: string }[]).some((v) => v.id === 'iommufd.reviewSessions'));
  assert.equal(pkg.contributes.configuration.properties['iommufd.review.identity'].type, 'string');
});
