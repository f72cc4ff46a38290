/**
 * What a user sees in a real VS Code (code-server + headless Chromium) with the
 * packaged .vsix installed: diagnostics in the Problems panel, their removal
 * after an edit, findings on a patch mail's lines, the simulator panel from
 * the palette and from a code lens, and a hostile patch staying inert text.
 * Screenshots of each step go to test-artifacts/e2e/.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test as nodeTest } from 'node:test';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { openBrowser, packageVsix, remoteFileUri, ROOT, runCommand, screenshot, serve, showProblems as showProblemsPanel, workbenchUrl, type Browsing, type Served } from './harness';

const FIXTURE = path.join(ROOT, 'test/fixtures/e2e-workspace');
const LONG = { timeout: Number(process.env.IOMMUFD_E2E_TIMEOUT_MS ?? 90_000) };
/** The editor group with focus: where opened files and typing go. */
const ACTIVE_GROUP = '.editor-group-container.active';

/** The 1-based line of the first line of `file` matching `re`. */
function lineOf(file: string, re: RegExp, from = 0): number {
  const lines = readFileSync(path.join(FIXTURE, file), 'utf8').split('\n');
  for (let i = from; i < lines.length; i++) if (re.test(lines[i])) return i + 1;
  throw new Error(`${re} not in ${file}`);
}

async function pickRow(page: Page, label: string): Promise<void> {
  const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: label }).first();
  await row.waitFor({ state: 'visible', ...LONG });
  await row.click();
}

async function closeAllEditors(page: Page): Promise<void> {
  await runCommand(page, 'View: Close All Editors');
  await page.locator('.editor-group-container .tab').first().waitFor({ state: 'detached', ...LONG });
}

function showProblems(page: Page): Promise<Locator> {
  return showProblemsPanel(page, LONG.timeout);
}

/** The marker row of a rule in the Problems panel, for a file, at a line. */
function markerRow(panel: Locator, rule: string, line?: number): Locator {
  const rows = panel.locator('.monaco-list-row', { hasText: rule });
  return line === undefined ? rows : rows.filter({ hasText: `[Ln ${line}, ` });
}

async function openFromExplorer(page: Page, name: string): Promise<void> {
  const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first();
  await row.waitFor({ state: 'visible', ...LONG });
  await row.click();
  await page.locator(`${ACTIVE_GROUP} .tab.active[data-resource-name="${name}"]`).first().waitFor({ state: 'visible', ...LONG });
}

function webview(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').last().frameLocator('#active-frame');
}

async function goToLine(page: Page, line: number): Promise<void> {
  await page.locator(`${ACTIVE_GROUP} .monaco-editor .view-lines`).first().click();
  await page.keyboard.press('Control+G');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 15_000 });
  await input.fill(`:${line}`);
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 15_000 });
}

/** The value of window.__pwned in the page and in every frame (webviews included). */
async function pwnedAnywhere(page: Page): Promise<string[]> {
  const seen: string[] = [];
  for (const f of page.frames()) {
    const v = await f.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned).catch(() => undefined);
    if (v !== undefined) seen.push(`${f.url()}: ${String(v)}`);
  }
  return seen;
}

let failures = 0;
let currentPage: Page | undefined;
/** A test that leaves a screenshot of the screen when it fails, to see why. */
function test(name: string, body: () => Promise<void>): void {
  nodeTest(name, async () => {
    try {
      await body();
    } catch (e) {
      if (currentPage) await screenshot(currentPage, `failed-${++failures}`).catch(() => undefined);
      throw e;
    }
  });
}

describe('the extension in a real VS Code (code-server)', () => {
  let served: Served;
  let b: Browsing;
  const cFile = 'mdev_switch.c';
  const fallibleLine = lineOf(cFile, /rc = iopt_add_access\(/);
  const dropLine = lineOf(cFile, /^\tdemo_drop_current\(access, cur\);/);

  before(async () => {
    const vsix = packageVsix();
    served = await serve({ fixture: FIXTURE, vsix });
    b = await openBrowser();
    currentPage = b.page;
    await b.page.goto(workbenchUrl(served, [['openFile', remoteFileUri(path.join(served.workspace, cFile))]]));
    await b.page.locator('.monaco-workbench').waitFor({ state: 'visible', ...LONG });
    await b.page.locator('.tab.active', { hasText: cFile }).first().waitFor({ state: 'visible', ...LONG });
  });

  after(async () => {
    await b?.close();
    await served?.close();
  });

  test('a v8-like C file shows unmap-before-rollback in the Problems panel on the fallible call', async () => {
    const panel = await showProblems(b.page);
    const row = markerRow(panel, 'unmap-before-rollback', fallibleLine);
    await row.first().waitFor({ state: 'visible', ...LONG });
    const text = await row.first().innerText();
    assert.match(text, /demo_drop_current\(\)/);
    assert.match(text, /iopt_add_access\(\)/);
    // The witness is listed under it as related information.
    await panel.locator('.monaco-list-row', { hasText: 'can fail here' }).first().waitFor({ state: 'visible', ...LONG });
    await b.page.locator('.statusbar-item', { hasText: /iommufd: 1 finding/ }).waitFor({ state: 'visible', ...LONG });
    await screenshot(b.page, '01-c-file-problems');
  });

  test('the Simulate code lens opens the simulator on the finding\'s from-source scenario', async () => {
    await goToLine(b.page, fallibleLine);
    const lens = b.page.locator('.codelens-decoration a', { hasText: 'Simulate unmap-before-rollback' }).first();
    await lens.waitFor({ state: 'visible', ...LONG });
    await lens.click();
    const ui = webview(b.page);
    await ui.locator('h1', { hasText: 'demo_switch_ioas() from source' }).waitFor({ state: 'visible', ...LONG });
    await ui.locator('#finding', { hasText: 'unmap-before-rollback' }).waitFor({ state: 'visible', ...LONG });
    await ui.locator('#verdicts li[data-invariant="failure-contract"][data-holds="false"]').waitFor({ state: 'visible', ...LONG });
    // Steps replayed from the source carry their line in the lanes.
    await ui.locator('#lanes td.action', { hasText: `${cFile}:${fallibleLine}` }).first().waitFor({ state: 'visible', ...LONG });
    await screenshot(b.page, '02-code-lens-simulator');
  });

  test('editing the file into the merged order makes the diagnostic disappear', async () => {
    await closeAllEditors(b.page);
    await openFromExplorer(b.page, cFile);
    await goToLine(b.page, dropLine);
    await b.page.keyboard.press('Control+Shift+K');
    // After the deletion the error block ends one line earlier: "}" closing `if (rc)`.
    const closeLine = lineOf(cFile, /^\t}$/, dropLine) - 1;
    await goToLine(b.page, closeLine);
    await b.page.keyboard.press('End');
    await b.page.keyboard.press('Enter');
    await b.page.keyboard.type('demo_drop_current(access, cur);');
    const panel = await showProblems(b.page);
    await markerRow(panel, 'unmap-before-rollback').first().waitFor({ state: 'detached', ...LONG });
    await b.page.locator('.statusbar-item', { hasText: /iommufd: 0 findings/ }).waitFor({ state: 'visible', ...LONG });
    await screenshot(b.page, '03-c-file-fixed');
  });

  test('the palette\'s simulate command opens the panel showing the v8 violation with its lanes', async () => {
    await closeAllEditors(b.page);
    await runCommand(b.page, 'iommufd: Simulate the Replace Flow');
    await pickRow(b.page, 'unmap and detach first');
    // Faults: add-access is preselected; accept with the OK button.
    await b.page.locator('.quick-input-widget .monaco-list-row', { hasText: 'add-access' }).first().waitFor({ state: 'visible', ...LONG });
    await b.page.locator('.quick-input-widget .monaco-button', { hasText: 'OK' }).first().click();
    await pickRow(b.page, 'a failed replace leaves everything exactly as before');
    const ui = webview(b.page);
    await ui.locator('h1', { hasText: 'Replace flow: v8' }).waitFor({ state: 'visible', ...LONG });
    await ui.locator('#verdicts li[data-invariant="failure-contract"][data-holds="false"]').waitFor({ state: 'visible', ...LONG });
    const lanes = await ui.locator('#lanes thead th').allInnerTexts();
    assert.ok(lanes.includes('replacer') && lanes.includes('driver'), `lanes: ${lanes.join(', ')}`);
    const rows = await ui.locator('#lanes tbody tr').count();
    assert.ok(rows > 3, `a counterexample of ${rows} steps`);
    // Stepping moves the current step and shows the state after it.
    await ui.locator('#next').click();
    await ui.locator('#lanes tr.current[data-step="1"]').waitFor({ state: 'visible', ...LONG });
    assert.match(await ui.locator('#state-detail').innerText(), /"ioasUnpin"/);
    await screenshot(b.page, '04-palette-simulator-v8');
  });

  test('the simulator panel comes back after a window reload (serializer)', async () => {
    // Reload the way a user does: the workbench saves its layout, then reloads.
    await b.page.locator('.editor-group-container .tab', { hasText: 'iommufd Simulator' }).first().waitFor({ state: 'visible', ...LONG });
    // Without the first load's openFile payload, which would replace the restored editors.
    const plain = workbenchUrl(served);
    await b.page.evaluate((u) => history.replaceState(null, '', u), plain);
    await runCommand(b.page, 'Developer: Reload Window');
    await b.page.waitForLoadState('load');
    await b.page.locator('.monaco-workbench').waitFor({ state: 'visible', ...LONG });
    const ui = webview(b.page);
    await ui.locator('h1', { hasText: 'Replace flow: v8' }).waitFor({ state: 'visible', ...LONG });
    await ui.locator('#verdicts li[data-invariant="failure-contract"][data-holds="false"]').waitFor({ state: 'visible', ...LONG });
    await screenshot(b.page, '04b-simulator-after-reload');
  });

  test('an mbox series shows its findings on the patch lines', async () => {
    const mbox = 'series-v8.mbox';
    await closeAllEditors(b.page);
    // The v8 helper's fallible call, as added by patch 2/3 of the series.
    const patch2 = lineOf(mbox, /^Subject: \[PATCH v8 2\/3\]/);
    const expected = lineOf(mbox, /^[ +]\s*rc = iopt_add_access\(/, patch2);
    await openFromExplorer(b.page, mbox);
    const panel = await showProblems(b.page);
    const row = markerRow(panel, 'unmap-before-rollback', expected);
    await row.first().waitFor({ state: 'visible', ...LONG });
    assert.match(await row.first().innerText(), /introduced by this patch \[2\/3\]/);
    // Hovering the patch line tells introduced from fixed and links to the simulator.
    await goToLine(b.page, expected);
    const hover = b.page.locator('.monaco-hover', { hasText: 'introduced by this patch' }).first();
    for (let attempt = 0; ; attempt++) {
      await runCommand(b.page, 'Show or Focus Hover');
      try {
        await hover.waitFor({ state: 'visible', timeout: 10_000 });
        break;
      } catch (e) {
        if (attempt >= 3) throw e;
        await goToLine(b.page, expected);
      }
    }
    await hover.locator('a', { hasText: 'Simulate' }).first().waitFor({ state: 'visible', ...LONG });
    await screenshot(b.page, '05-mbox-findings');
  });

  test('a hostile patch renders as text and runs no script', async () => {
    await closeAllEditors(b.page);
    await openFromExplorer(b.page, 'hostile.mbox');
    const editorText = b.page.locator(`${ACTIVE_GROUP} .monaco-editor .view-lines`).first();
    await editorText.locator('.view-line', { hasText: '<script>window.__pwned=1</script>' }).first().waitFor({ state: 'visible', ...LONG });
    const panel = await showProblems(b.page);
    await markerRow(panel, 'unmap-before-rollback').filter({ hasText: 'introduced' }).first().waitFor({ state: 'visible', ...LONG });
    // Review it: the series title (with the payloads) appears in a notification, as text.
    await runCommand(b.page, 'iommufd: Review a Patch Series');
    const note = b.page.locator('.notifications-toasts .notification-toast', { hasText: 'finding(s) introduced' }).first();
    await note.waitFor({ state: 'visible', ...LONG });
    assert.match(await note.innerText(), /<script>window\.__pwned=1<\/script><img src=x onerror="window\.__pwned=2">/);
    // The finding's code lens opens the simulator: the file name with its payload is text there too.
    await goToLine(b.page, lineOf('hostile.mbox', /^\+.*iopt_add_access\(/));
    const lens = b.page.locator('.codelens-decoration a', { hasText: 'Simulate unmap-before-rollback' }).first();
    await lens.waitFor({ state: 'visible', ...LONG });
    await lens.click();
    const ui = webview(b.page);
    await ui.locator('#finding', { hasText: 'iommufd/evil<svg/onload=window.__pwned=3>.c' }).waitFor({ state: 'visible', ...LONG });
    assert.equal(await ui.locator('#app svg, #app img, #app script').count(), 0);
    await screenshot(b.page, '06-hostile-patch');
    assert.deepEqual(await pwnedAnywhere(b.page), []);
    assert.deepEqual(b.dialogs, []);
  });
});
