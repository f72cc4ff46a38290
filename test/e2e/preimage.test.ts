/**
 * A patch mail in a workspace that is a git checkout (code-server + headless
 * Chromium, the packaged .vsix): the bundled v8 series, its cover naming the
 * checkout's commit as base-commit. The review uses that commit as the
 * pre-image and says so on each diagnostic and in the status bar; the
 * finding's related location opens the read-only post-image document the
 * finding was computed on, at the finding's line. Screenshots go to
 * test-artifacts/e2e/preimage-*.png.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  explained,
  openBrowser,
  packageVsix,
  remoteFileUri,
  ROOT,
  screenshot,
  serve,
  showProblems,
  workbenchUrl,
  type Browsing,
  type Served,
} from './harness';

const SERIES = path.join(ROOT, 'examples/series');
const LONG = { timeout: Number(process.env.IOMMUFD_E2E_TIMEOUT_MS ?? 90_000) };
const FALLIBLE = '\trc = iopt_add_access(&new_ioas->iopt, access);';
const ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'T',
  GIT_AUTHOR_EMAIL: 't@example.org',
  GIT_COMMITTER_NAME: 'T',
  GIT_COMMITTER_EMAIL: 't@example.org',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env: ENV, encoding: 'utf8' }).trim();

/** The example tree committed in a fresh checkout, and the v8 mbox naming that commit as its base. */
function checkout(): { dir: string; commit: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iommufd-e2e-git-'));
  cpSync(path.join(SERIES, 'tree'), dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'base');
  const commit = git(dir, 'rev-parse', 'HEAD');
  const mbox = readFileSync(path.join(SERIES, 'v8.mbox'), 'utf8').replace(
    /^base-commit: .*$/m,
    `base-commit: ${commit}`,
  );
  writeFileSync(path.join(dir, 'v8.mbox'), mbox);
  return { dir, commit };
}

/** The post-image of patches 1-2 as git itself applies them, and the line of the fallible call in it. */
function postImageLine(): number {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iommufd-e2e-applied-'));
  cpSync(path.join(SERIES, 'tree'), dir, { recursive: true });
  for (const p of [
    'v8-0001-iommufd-Factor-out-__iommufd_access_detach.patch',
    'v8-0002-iommufd-Attach-through-iommufd_access_change_ioas.patch',
  ])
    git(dir, 'apply', path.join(SERIES, 'v8', p));
  const lines = readFileSync(path.join(dir, 'drivers/iommu/iommufd/device.c'), 'utf8').split('\n');
  return lines.indexOf(FALLIBLE) + 1;
}

describe('a patch mail in a git checkout (code-server)', () => {
  let served: Served;
  let b: Browsing;
  let repo: { dir: string; commit: string };

  before(async () => {
    repo = checkout();
    served = await serve({ folder: repo.dir, vsix: packageVsix() });
    b = await openBrowser();
    await b.page.goto(workbenchUrl(served, [['openFile', remoteFileUri(path.join(repo.dir, 'v8.mbox'))]]));
    await b.page.locator('.monaco-workbench').waitFor({ state: 'visible', ...LONG });
    await b.page
      .locator('.tab.active', { hasText: 'v8.mbox' })
      .first()
      .waitFor({ state: 'visible', ...LONG });
  });

  after(async () => {
    await b?.close();
    await served?.close();
  });

  test('the diagnostic and the status item say the base-commit was the pre-image', () =>
    explained(served, b, 'preimage-01', async () => {
      const panel = await showProblems(b.page, LONG.timeout);
      const row = panel
        .locator('.monaco-list-row', { hasText: 'unmap-before-rollback' })
        .filter({ hasText: 'introduced by this patch [2/3]' })
        .first();
      await row.waitFor({ state: 'visible', ...LONG });
      assert.match(await row.innerText(), /pre-image: the series base-commit in the git repository/);
      await b.page
        .locator('.statusbar-item', { hasText: 'iommufd: pre-image base-commit' })
        .first()
        .waitFor({ state: 'visible', ...LONG });
      await screenshot(b.page, 'preimage-01-problems');
    }));

  test("the related location opens the post-image document at the finding's line", () =>
    explained(served, b, 'preimage-02', async () => {
      const panel = await showProblems(b.page, LONG.timeout);
      const related = panel
        .locator('.monaco-list-row', { hasText: 'the finding in the post-image of patch 2/3' })
        .first();
      await related.waitFor({ state: 'visible', ...LONG });
      await related.click();
      // A read-only document of the image (not the workspace's device.c, which is the pre-series base).
      const tab = b.page.locator('.editor-group-container.active .tab.active[data-resource-name="device.c"]').first();
      await tab.waitFor({ state: 'visible', ...LONG });
      const line = postImageLine();
      assert.ok(line > 0);
      await b.page
        .locator('.statusbar-item', { hasText: `Ln ${line}, Col 1` })
        .first()
        .waitFor({ state: 'visible', ...LONG });
      await b.page
        .locator('.editor-group-container.active .view-line', {
          hasText: 'rc = iopt_add_access(&new_ioas->iopt, access);',
        })
        .first()
        .waitFor({ state: 'visible', ...LONG });
      // The workspace's own device.c (the series' base) has another line there: the image is what opened.
      assert.notEqual(
        readFileSync(path.join(repo.dir, 'drivers/iommu/iommufd/device.c'), 'utf8').split('\n')[line - 1],
        FALLIBLE,
      );
      await screenshot(b.page, 'preimage-02-post-image');
      // The image is read-only, as a user finds out by typing: the workspace's device.c would take the edit.
      await b.page
        .locator('.editor-group-container.active .view-line', {
          hasText: 'rc = iopt_add_access(&new_ioas->iopt, access);',
        })
        .first()
        .click();
      await b.page.keyboard.type('x');
      await b.page
        .locator('.editor-group-container.active .monaco-editor-overlaymessage', { hasText: /read-only/i })
        .first()
        .waitFor({ state: 'visible', ...LONG });
    }));
});
