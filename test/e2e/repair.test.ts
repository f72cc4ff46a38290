/**
 * The verified fix in a real VS Code (code-server + headless Chromium, the
 * packaged .vsix) on the bundled examples workspace: the Quick Fix menu on the
 * detach-first example's finding offers "Show a verified fix"; the simulator
 * panel then shows the proposal (its step order, the invariants kept, the
 * diff); "Insert into reply" puts it into the reply composed for the v8
 * series' patch, where it shows with the panel's state count. The reply's
 * text is checked byte for byte by the extension-host suite.
 * Screenshots go to test-artifacts/e2e/repair-*.png.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  goToLine,
  openBrowser,
  openQuickFix,
  packageVsix,
  remoteFileUri,
  ROOT,
  runCommand,
  screenshot,
  serve,
  showProblems,
  simulatorWebview,
  workbenchUrl,
  type Browsing,
  type Served,
} from './harness';

const EXAMPLES = path.join(ROOT, 'examples');
const TOY = 'c/toy_replace_detach_first.c';
const LONG = { timeout: Number(process.env.IOMMUFD_E2E_TIMEOUT_MS ?? 90_000) };
const ACTIVE_GROUP = '.editor-group-container.active';

function lineOf(file: string, re: RegExp): number {
  const i = readFileSync(path.join(EXAMPLES, file), 'utf8')
    .split('\n')
    .findIndex((l) => re.test(l));
  if (i < 0) throw new Error(`${re} not in ${file}`);
  return i + 1;
}

describe('the verified fix in a real VS Code (code-server)', () => {
  let served: Served;
  let b: Browsing;
  const addLine = lineOf(TOY, /rc = iopt_add_access\(/);

  before(async () => {
    served = await serve({ fixture: EXAMPLES, vsix: packageVsix() });
    // the reviewer's identity, as a user would have set it once (the reply's trailers use it)
    const settings = path.join(served.userDataDir, 'User', 'settings.json');
    writeFileSync(
      settings,
      JSON.stringify({
        ...JSON.parse(readFileSync(settings, 'utf8')),
        'iommufd.review.identity': 'Rui Reviewer <rui@example.net>',
      }),
    );
    b = await openBrowser();
    await b.page.goto(workbenchUrl(served, [['openFile', remoteFileUri(path.join(served.workspace, TOY))]]));
    await b.page.locator('.monaco-workbench').waitFor({ state: 'visible', ...LONG });
    await b.page
      .locator('.tab.active', { hasText: path.basename(TOY) })
      .first()
      .waitFor({ state: 'visible', ...LONG });
  });

  after(async () => {
    await b?.close();
    await served?.close();
  });

  let states = '';

  test('the Quick Fix menu on the finding offers "Show a verified fix", and the panel shows the merged order with every invariant kept', async () => {
    try {
      const problems = await showProblems(b.page, LONG.timeout);
      await problems
        .locator('.monaco-list-row', { hasText: 'unmap-before-rollback' })
        .filter({ hasText: `[Ln ${addLine}, ` })
        .first()
        .waitFor({ state: 'visible', ...LONG });
      // the cursor inside the diagnostic's range (the call, not the line's indentation)
      const column =
        readFileSync(path.join(EXAMPLES, TOY), 'utf8').split('\n')[addLine - 1].indexOf('iopt_add_access') + 2;
      await openQuickFix(b.page, addLine, column, 'Show a verified fix', LONG.timeout);
      await screenshot(b.page, 'repair-01-code-action');
      // chosen with the keyboard, as the menu is meant to be (its pointer guard swallows synthetic clicks)
      const focused = b.page.locator('.action-widget .monaco-list-row.focused');
      for (let i = 0; i < 10 && !(await focused.innerText().catch(() => '')).includes('Show a verified fix'); i++)
        await b.page.keyboard.press('ArrowDown');
      assert.match(await focused.innerText(), /Show a verified fix/);
      await b.page.keyboard.press('Enter');
      const ui = simulatorWebview(b.page);
      const headline = ui.locator('#repair-headline[data-verified="true"]');
      await headline.waitFor({ state: 'visible', ...LONG });
      const text = await headline.innerText();
      const m =
        /^An order of toy_replace_detach_first\(\) that keeps every invariant, checked over (\d+) states\.$/.exec(text);
      assert.ok(m, text);
      states = m[1];
      const steps = await ui.locator('#repair-steps li').allInnerTexts();
      const at = (prefix: string): number => steps.findIndex((s) => s.startsWith(prefix));
      const add = at('iopt_add_access(&new_ioas->iopt, access) (line ');
      const unlock = at('mutex_unlock(&access->ioas_lock)');
      const unmap = at('access->ops->unmap(');
      const relock = at('mutex_lock(&access->ioas_lock)');
      const remove = at('iopt_remove_access(&cur->iopt, access, saved_id)');
      assert.ok(
        add >= 0 && add < unlock && unlock + 1 === unmap && unmap + 1 === relock && relock < remove,
        steps.join('\n'),
      );
      assert.ok(steps.includes('saved_id = access->iopt_access_list_id (added)'), steps.join('\n'));
      assert.equal(steps[steps.length - 1], `return 0 (line ${lineOf(TOY, /^\treturn 0;/)})`);
      const invariants = await ui.locator('#repair-invariants li').allInnerTexts();
      assert.deepEqual(invariants, [
        '✓ no-deadlock',
        '✓ failure-contract',
        '✓ pin-attached',
        '✓ no-use-after-free',
        '✓ list-id-consistent',
      ]);
      assert.match(
        await ui.locator('#repair-stats').innerText(),
        new RegExp(`^Verified over ${states} states, \\d+ transitions, \\d+ ms, exhaustive\\.$`),
      );
      await ui
        .locator('#repair-diff .diff-line.add', { hasText: 'access->ioas = cur;' })
        .first()
        .waitFor({ state: 'visible', ...LONG });
      await ui
        .locator('#repair-diff .diff-line.del', { hasText: 'WARN_ON(toy_replace_detach_first(access, cur));' })
        .first()
        .waitFor({ state: 'visible', ...LONG });
      await ui
        .locator('#repair-diff .diff-line.file', { hasText: `--- a/${TOY}` })
        .first()
        .waitFor({ state: 'visible', ...LONG });
      await ui.locator('#repair').scrollIntoViewIfNeeded();
      await screenshot(b.page, 'repair-02-verified-order');
    } catch (e) {
      await screenshot(b.page, 'repair-failed-panel').catch(() => undefined);
      throw e;
    }
  });

  test('"Insert into reply" puts the proposal into the reply composed for the series\' patch', async () => {
    try {
      assert.ok(states, 'the previous test found the proposal');
      const mbox = 'series/v8.mbox';
      await runCommand(b.page, 'Go to File');
      const input = b.page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', ...LONG });
      await input.fill(mbox);
      await b.page.locator('.quick-input-widget .monaco-list-row', { hasText: 'v8.mbox' }).first().click();
      await b.page
        .locator(`${ACTIVE_GROUP} .tab.active[data-resource-name="v8.mbox"]`)
        .first()
        .waitFor({ state: 'visible', ...LONG });
      await runCommand(b.page, 'iommufd: Start or Resume Review of This Series');
      await b.page
        .locator('.notifications-toasts .notification-toast', { hasText: /review of .* (started|resumed)/ })
        .first()
        .waitFor({ state: 'visible', ...LONG });
      // the cursor in the last patch's hunk: the reply answers that patch
      const lines = readFileSync(path.join(EXAMPLES, mbox), 'utf8').split('\n');
      let last = lines.length - 1;
      while (last > 0 && !lines[last].startsWith('+')) last--;
      await goToLine(b.page, last + 1);
      await runCommand(b.page, 'iommufd: Compose Review Reply');
      await b.page
        .locator(`${ACTIVE_GROUP} .tab.active`, { hasText: 'Untitled' })
        .first()
        .waitFor({ state: 'visible', ...LONG });
      // back to the panel, and its button
      await b.page.locator('.editor-group-container .tab', { hasText: 'iommufd Simulator' }).first().click();
      const ui = simulatorWebview(b.page);
      await ui.locator('#insert-repair').click();
      const reply = b.page.locator(`${ACTIVE_GROUP} .monaco-editor .view-lines`).first();
      await reply
        .locator('.view-line', { hasText: `An order that keeps every invariant, checked over ${states} states:` })
        .first()
        .waitFor({ state: 'visible', ...LONG });
      await screenshot(b.page, 'repair-03-reply');
    } catch (e) {
      await screenshot(b.page, 'repair-failed-reply').catch(() => undefined);
      throw e;
    }
  });
});
