/** `iommufd-review reply` through the bundle users run (dist/cli.js), not the sources. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { nodeStoreFs } from '../../../src/review/node-fs';
import { saveSession, sessionPath } from '../../../src/review/store';
import { fixtureSeries, fixtureText, root } from './helpers';
import { PATCH2, reviewedV8 } from './scenario';

const cli = path.join(root, 'dist/cli.js');

function runCli(args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
}

async function withSavedSession(fn: (file: string, dir: string) => void): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iommufd-review-cli-'));
  try {
    const s = reviewedV8(await fixtureSeries('v8.mbox'));
    const rel = sessionPath(s.series.name);
    await saveSession(nodeStoreFs(dir), rel, s);
    fn(path.join(dir, rel), dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('reply SESSION.json PATCH-ID prints the expected mail', async () => {
  await withSavedSession((file) => {
    const r = runCli(['reply', file, PATCH2]);
    assert.equal(r.stderr, '');
    assert.equal(r.status, 0);
    assert.equal(r.stdout, fixtureText('v8-2-reply.eml'));
  });
});

test('reply -o writes the .eml file; --to/--cc replace the defaults', async () => {
  await withSavedSession((file, dir) => {
    const out = path.join(dir, 'reply.eml');
    const r = runCli(['reply', '-o', out, '--to', 'A <a@example.org>', '--cc', 'L <l@example.org>', file, '2']);
    assert.equal(r.status, 0);
    assert.equal(r.stdout, '');
    const expected = fixtureText('v8-2-reply.eml').replace(
      'To: Ada Lovell <ada@example.org>\nCc: Joan Maintainer <joan@example.com>, Kai Tiller <kai@example.com>,\n iommu@lists.example.org\n',
      'To: A <a@example.org>\nCc: L <l@example.org>\n',
    );
    assert.equal(readFileSync(out, 'utf8'), expected);
  });
});

test('an unknown patch, a missing patch argument and a broken file are usage errors (exit 2)', async () => {
  await withSavedSession((file, dir) => {
    let r = runCli(['reply', file, 'nope@example.org']);
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /^iommufd-review reply: no patch "nope@example.org" in series iommufd-demo-access-replace-v8; known: /,
    );
    r = runCli(['reply', file]);
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /missing PATCH; the session's patches:\n {2}1 {2}20260701120000\.1001-1-ada@example\.org {2}\[PATCH v8 1\/2\] iommufd: demo: keep the access list slot in the access\n {2}2 {2}20260701120000\.1001-2-ada@example\.org {2}\[PATCH v8 2\/2\]/,
    );
    const broken = path.join(dir, 'broken.json');
    writeFileSync(broken, '{"format": "iommufd-review-session", "version": 9, "session": {}}');
    r = runCli(['reply', broken, '1']);
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /broken\.json: written by a newer iommufd-review \(format version 9; this one reads up to 1\)/,
    );
    // Read-only: the CLI never moves the file it could not read.
    assert.equal(readFileSync(broken, 'utf8'), '{"format": "iommufd-review-session", "version": 9, "session": {}}');
  });
});

test('reply --help', () => {
  const r = runCli(['reply', '--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^Usage: iommufd-review reply \[OPTIONS\] SESSION\.json PATCH\n/);
});
