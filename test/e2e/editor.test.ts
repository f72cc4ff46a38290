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
import {
  extensionLog,
  openBrowser,
  packageVsix,
  remoteFileUri,
  ROOT,
  runCommand,
  screenshot,
  serve,
  showProblems as showProblemsPanel,
  workbenchUrl,
  type Browsing,
  type Served,
} from './harness';

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
  await page
    .locator('.editor-group-container .tab')
    .first()
    .waitFor({ state: 'detached', ...LONG });
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
  await page
    .locator(`${ACTIVE_GROUP} .tab.active[data-resource-name="${name}"]`)
    .first()
    .waitFor({ state: 'visible', ...LONG });
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

/** Shows the hover at a line (retrying: the hover can miss while the editor settles) and returns it. */
async function hoverAt(page: Page, line: number, hover: Locator): Promise<Locator> {
  await goToLine(page, line);
  for (let attempt = 0; ; attempt++) {
    await runCommand(page, 'Show or Focus Hover');
    try {
      await hover.waitFor({ state: 'visible', timeout: 10_000 });
      return hover;
    } catch (e) {
      if (attempt >= 3) throw e;
      await goToLine(page, line);
    }
  }
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
    await b.page
      .locator('.tab.active', { hasText: cFile })
      .first()
      .waitFor({ state: 'visible', ...LONG });
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
    await panel
      .locator('.monaco-list-row', { hasText: 'can fail here' })
      .first()
      .waitFor({ state: 'visible', ...LONG });
    await b.page.locator('.statusbar-item', { hasText: /iommufd: 1 finding/ }).waitFor({ state: 'visible', ...LONG });
    await screenshot(b.page, '01-c-file-problems');
  });

  test("the Simulate code lens opens the simulator on the finding's from-source scenario", async () => {
    await goToLine(b.page, fallibleLine);
    const lens = b.page.locator('.codelens-decoration a', { hasText: 'Simulate unmap-before-rollback' }).first();
    await lens.waitFor({ state: 'visible', ...LONG });
    await lens.click();
    const ui = webview(b.page);
    await ui.locator('h1', { hasText: 'demo_switch_ioas() from source' }).waitFor({ state: 'visible', ...LONG });
    await ui.locator('#finding', { hasText: 'unmap-before-rollback' }).waitFor({ state: 'visible', ...LONG });
    await ui
      .locator('#verdicts li[data-invariant="failure-contract"][data-holds="false"]')
      .waitFor({ state: 'visible', ...LONG });
    // The first line says, in the finding's words, what broke.
    assert.match(
      await ui.locator('#headline').innerText(),
      /^The pins are gone: replace failed with -ENOMEM .*the driver's pinned pages are gone/,
    );
    // Steps replayed from the source carry their line in the lanes; the helper's steps say the call they came through.
    await ui
      .locator('#lanes td.action', { hasText: `${cFile}:${fallibleLine}` })
      .first()
      .waitFor({ state: 'visible', ...LONG });
    await ui
      .locator('#lanes td.action .via', { hasText: `demo_drop_current(access, cur) (line ${dropLine})` })
      .first()
      .waitFor({ state: 'visible', ...LONG });
    // The fallible call's row carries the finding's own words for it.
    await ui
      .locator(`#lanes tr.witness`, { hasText: 'can fail here' })
      .first()
      .waitFor({ state: 'visible', ...LONG });
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
    await markerRow(panel, 'unmap-before-rollback')
      .first()
      .waitFor({ state: 'detached', ...LONG });
    await b.page.locator('.statusbar-item', { hasText: /iommufd: 0 findings/ }).waitFor({ state: 'visible', ...LONG });
    await screenshot(b.page, '03-c-file-fixed');
  });

  test("the palette's simulate command opens the panel showing the v8 violation with its lanes", async () => {
    await closeAllEditors(b.page);
    await runCommand(b.page, 'iommufd: Simulate the Replace Flow');
    await pickRow(b.page, 'unmap and detach first');
    // Faults: add-access is preselected; accept with the OK button.
    await b.page
      .locator('.quick-input-widget .monaco-list-row', { hasText: 'add-access' })
      .first()
      .waitFor({ state: 'visible', ...LONG });
    await b.page.locator('.quick-input-widget .monaco-button', { hasText: 'OK' }).first().click();
    await pickRow(b.page, 'a failed replace leaves everything exactly as before');
    const ui = webview(b.page);
    await ui.locator('h1', { hasText: 'Replace flow: v8' }).waitFor({ state: 'visible', ...LONG });
    await ui
      .locator('#verdicts li[data-invariant="failure-contract"][data-holds="false"]')
      .waitFor({ state: 'visible', ...LONG });
    const lanes = await ui.locator('#lanes thead th').allInnerTexts();
    assert.ok(lanes.includes('replacer') && lanes.includes('driver'), `lanes: ${lanes.join(', ')}`);
    const rows = await ui.locator('#lanes tbody tr').count();
    assert.ok(rows > 3, `a counterexample of ${rows} steps`);
    // Stepping moves the current step and shows the state after it as a per-thread table, the changed cell marked.
    await ui.locator('#next').click();
    await ui.locator('#lanes tr.current[data-step="1"]').waitFor({ state: 'visible', ...LONG });
    await ui
      .locator('#state-detail tr[data-owner="access"] .cell[data-key="ioas_unpin"]', { hasText: 'ioas_unpin A' })
      .waitFor({ state: 'visible', ...LONG });
    await ui
      .locator('#state-detail tr[data-owner="replacer"] .cell[data-key="holds"]', { hasText: 'ioas_lock' })
      .waitFor({ state: 'visible', ...LONG });
    // the step where the driver's unmap callback unpins: A's pins cell changes to 0, and only it is marked
    const unpin = ui.locator('#lanes tbody tr', { hasText: 'unpin all from access->ioas_unpin' }).first();
    await unpin.click();
    const changed = await ui.locator('#state-detail .cell.changed').allInnerTexts();
    assert.deepEqual(changed, ['pins 0']);
    await ui
      .locator('#state-detail tr[data-owner="IOAS A"] .cell.changed[data-key="pins"]')
      .waitFor({ state: 'visible', ...LONG });
    await ui.locator('#stepper').scrollIntoViewIfNeeded();
    await screenshot(b.page, '04-palette-simulator-v8');
  });

  test('the simulator panel comes back after a window reload (serializer)', async () => {
    // Reload the way a user does: the workbench saves its layout, then reloads.
    await b.page
      .locator('.editor-group-container .tab', { hasText: 'iommufd Simulator' })
      .first()
      .waitFor({ state: 'visible', ...LONG });
    // Without the first load's openFile payload, which would replace the restored editors.
    const plain = workbenchUrl(served);
    await b.page.evaluate((u) => history.replaceState(null, '', u), plain);
    await runCommand(b.page, 'Developer: Reload Window');
    await b.page.waitForLoadState('load');
    await b.page.locator('.monaco-workbench').waitFor({ state: 'visible', ...LONG });
    const ui = webview(b.page);
    await ui.locator('h1', { hasText: 'Replace flow: v8' }).waitFor({ state: 'visible', ...LONG });
    await ui
      .locator('#verdicts li[data-invariant="failure-contract"][data-holds="false"]')
      .waitFor({ state: 'visible', ...LONG });
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
    const hover = await hoverAt(
      b.page,
      expected,
      b.page.locator('.monaco-hover', { hasText: 'introduced by this patch' }).first(),
    );
    await hover
      .locator('a', { hasText: 'Simulate' })
      .first()
      .waitFor({ state: 'visible', ...LONG });
    await screenshot(b.page, '05-mbox-findings');
  });

  test('a hostile patch renders as text and runs no script', async () => {
    await closeAllEditors(b.page);
    await openFromExplorer(b.page, 'hostile.mbox');
    const editorText = b.page.locator(`${ACTIVE_GROUP} .monaco-editor .view-lines`).first();
    await editorText
      .locator('.view-line', { hasText: '<script>window.__pwned=1</script>' })
      .first()
      .waitFor({ state: 'visible', ...LONG });
    const panel = await showProblems(b.page);
    await markerRow(panel, 'unmap-before-rollback')
      .filter({ hasText: 'introduced' })
      .first()
      .waitFor({ state: 'visible', ...LONG });
    // Review it: the series title (with the payloads) appears in a notification, as text.
    await runCommand(b.page, 'iommufd: Review a Patch Series');
    const note = b.page
      .locator('.notifications-toasts .notification-toast', { hasText: 'finding(s) introduced' })
      .first();
    await note.waitFor({ state: 'visible', ...LONG });
    assert.match(await note.innerText(), /<script>window\.__pwned=1<\/script><img src=x onerror="window\.__pwned=2">/);
    // The finding's code lens opens the simulator: the file name with its payload is text there too.
    await goToLine(b.page, lineOf('hostile.mbox', /^\+.*iopt_add_access\(/));
    const lens = b.page.locator('.codelens-decoration a', { hasText: 'Simulate unmap-before-rollback' }).first();
    await lens.waitFor({ state: 'visible', ...LONG });
    await lens.click();
    const ui = webview(b.page);
    await ui
      .locator('#finding', { hasText: 'iommufd/evil<svg/onload=window.__pwned=3>.c' })
      .waitFor({ state: 'visible', ...LONG });
    assert.equal(await ui.locator('#app svg, #app img, #app script').count(), 0);
    await screenshot(b.page, '06-hostile-patch');
    assert.deepEqual(await pwnedAnywhere(b.page), []);
    assert.deepEqual(b.dialogs, []);
  });
});

describe("the examples workspace (npm start's): a finding's simulation tells its story, its rule link lands on the heading", () => {
  let served: Served;
  let b: Browsing;
  const EXAMPLES = path.join(ROOT, 'examples');
  const toy = path.join(EXAMPLES, 'c/toy_replace_detach_first.c');
  const toyLines = readFileSync(toy, 'utf8').split('\n');
  const callLine = toyLines.findIndex((l) => /^\ttoy_detach_locked\(access\);/.test(l)) + 1;
  const addLine = toyLines.findIndex((l) => /rc = iopt_add_access\(/.test(l)) + 1;
  const headingLine =
    readFileSync(path.join(ROOT, 'docs/engine.md'), 'utf8').split('\n').indexOf('### unmap-before-rollback') + 1;

  before(async () => {
    // served in place, never written
    served = await serve({ folder: EXAMPLES, vsix: packageVsix() });
    b = await openBrowser();
    currentPage = b.page;
    await b.page.goto(workbenchUrl(served, [['openFile', remoteFileUri(toy)]]));
    await b.page.locator('.monaco-workbench').waitFor({ state: 'visible', ...LONG });
    await b.page
      .locator('.tab.active', { hasText: 'toy_replace_detach_first.c' })
      .first()
      .waitFor({ state: 'visible', ...LONG });
  });

  after(async () => {
    await b?.close();
    await served?.close();
  });

  test('the lens on toy_replace_detach_first.c: the counterexample runs the detach at line 32, the pins go, the add fails, the verdict says the pins are gone', async () => {
    assert.equal(callLine, 32, 'the example still calls its detach helper at line 32');
    await goToLine(b.page, addLine);
    const lens = b.page.locator('.codelens-decoration a', { hasText: 'Simulate unmap-before-rollback' }).first();
    await lens.waitFor({ state: 'visible', ...LONG });
    await lens.click();
    const ui = webview(b.page);
    await ui
      .locator('h1', { hasText: 'toy_replace_detach_first() from source' })
      .waitFor({ state: 'visible', ...LONG });
    assert.match(await ui.locator('#headline').innerText(), /^The pins are gone: .*the driver's pinned pages are gone/);
    await screenshot(b.page, '02b-toy-detach-first-simulation');
    // the unpin runs inside the call at line 32 and the finding's words for that call are on the replay
    const unpin = ui.locator('#lanes tbody tr', { hasText: 'unpin all from access->ioas_unpin' }).first();
    await unpin
      .locator('.via', { hasText: `toy_detach_locked(access) (line ${callLine})` })
      .waitFor({ state: 'visible', ...LONG });
    const rows = await ui.locator('#lanes tbody tr').allInnerTexts();
    const at = (re: RegExp): number => rows.findIndex((r) => re.test(r));
    const first32 = at(new RegExp(`\\(line ${callLine}\\)`));
    assert.ok(
      first32 >= 0 && /toy_detach_locked\(\)` unpins the pages/.test(rows[first32]),
      `the first step through line 32 carries the finding's words: ${rows[first32]}`,
    );
    assert.ok(at(/unpin all/) > first32, 'the pins drop inside the detach');
    const add = at(new RegExp(`toy_replace_detach_first\\.c:${addLine}\\b`));
    assert.ok(add > at(/unpin all/) && /can fail here/.test(rows[add]), 'then the add fails');
    assert.ok(at(/returns the error to the caller/) > add, 'then the error path returns');
    assert.match(rows[rows.length - 1], /breaks failure-contract/);
    // the editor follows the selected step to its line (the panel keeps the focus: the C editor's active line moves)
    await unpin.click();
    const cEditor = b.page
      .locator('.editor-group-container', {
        has: b.page.locator('.tab.active', { hasText: 'toy_replace_detach_first.c' }),
      })
      .first();
    await cEditor
      .locator('.line-numbers.active-line-number', { hasText: /^17$/ })
      .first()
      .waitFor({ state: 'visible', ...LONG });
    await ui.locator('#stepper').scrollIntoViewIfNeeded();
    await screenshot(b.page, '02c-toy-step-follows-source');
  });

  test("the rule link of the hover opens docs/engine.md at the rule's heading", async () => {
    await b.page.locator('.editor-group-container .tab', { hasText: 'toy_replace_detach_first.c' }).first().click();
    await b.page
      .locator('.tab.active', { hasText: 'toy_replace_detach_first.c' })
      .first()
      .waitFor({ state: 'visible', ...LONG });
    const hover = await hoverAt(
      b.page,
      addLine,
      b.page.locator('.monaco-hover', { has: b.page.locator('a', { hasText: 'UnmapBeforeRollback' }) }).first(),
    );
    // Simulate first, then the rule's documentation
    const links = await hover.locator('a').allInnerTexts();
    assert.ok(
      links.findIndex((t) => /Simulate/.test(t)) < links.findIndex((t) => /UnmapBeforeRollback/.test(t)),
      `links: ${links.join(' | ')}`,
    );
    await hover.locator('a', { hasText: 'UnmapBeforeRollback' }).first().click();
    await b.page
      .locator('.tab.active', { hasText: 'engine.md' })
      .first()
      .waitFor({ state: 'visible', ...LONG });
    await b.page
      .locator('.statusbar-item', { hasText: `Ln ${headingLine}, Col 1` })
      .first()
      .waitFor({ state: 'visible', ...LONG });
    await b.page
      .locator(`${ACTIVE_GROUP} .view-line`, { hasText: '### unmap-before-rollback' })
      .first()
      .waitFor({ state: 'visible', ...LONG });
    await screenshot(b.page, '08-rule-docs-heading');
  });
});

describe('a kernel tree as the workspace: the status item names the phase while the context is read', () => {
  let served: Served;
  let b: Browsing;
  const kernel = process.env.IOMMUFD_REVIEW_KERNEL;

  before(async () => {
    assert.ok(kernel, 'IOMMUFD_REVIEW_KERNEL is set by npm test (the unpacked linux-source-6.12)');
    served = await serve({ folder: kernel, vsix: packageVsix() });
    b = await openBrowser();
    currentPage = b.page;
    // every text the status item shows, recorded from the first frame (the phases pass quickly)
    await b.page.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { __iommufdStatus: string[] }).__iommufdStatus = seen;
      new MutationObserver(() => {
        for (const el of Array.from(document.querySelectorAll('.statusbar-item'))) {
          const t = (el as HTMLElement).innerText?.trim() ?? '';
          if (t.includes('iommufd') && seen[seen.length - 1] !== t) seen.push(t);
        }
      }).observe(document, { subtree: true, childList: true, characterData: true });
    });
  });

  after(async () => {
    await b?.close();
    await served?.close();
  });

  test('the language server is started when the kernel checkout is opened, before any C file is', async () => {
    // workspaceContains:drivers/iommu/iommufd/Makefile: the server starts and loads its parser while the user navigates
    await b.page.goto(workbenchUrl(served));
    await b.page.locator('.monaco-workbench').waitFor({ state: 'visible', ...LONG });
    await b.page
      .locator('.statusbar-item', { hasText: 'iommufd' })
      .first()
      .waitFor({ state: 'visible', ...LONG });
    const until = Date.now() + LONG.timeout;
    let log = extensionLog(served);
    while (!/language server ready in \d+ ms/.test(log) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 250));
      log = extensionLog(served);
    }
    // said once the server's process answered `initialize` (server-analysis.ts), after activation
    assert.match(
      log,
      /activated \(node host\)[^]*language server ready in \d+ ms/,
      `the extension's log:\n${log.slice(-3000)}`,
    );
    // and no C file was open: no editor, and the status item never left its idle text (no parser load, no analysis)
    assert.equal(await b.page.locator(`${ACTIVE_GROUP} .tab`).count(), 0, 'no editor is open');
    const seen = await b.page.evaluate(() => (window as unknown as { __iommufdStatus: string[] }).__iommufdStatus);
    assert.deepEqual(seen, ['iommufd'], `the status item: ${seen.join(' | ')}`);
  });

  test("opening drivers/iommu/iommufd/ioas.c: the file's own findings, reading context n/m in the background, then the findings with the context", async () => {
    const file = path.join(kernel!, 'drivers/iommu/iommufd/ioas.c');
    await b.page.goto(workbenchUrl(served, [['openFile', remoteFileUri(file)]]));
    await b.page.locator('.monaco-workbench').waitFor({ state: 'visible', ...LONG });
    const ready = /iommufd: \d+ findings? · \d+% parsed/;
    const isReading = (t: string) => /iommufd: reading context \d+\/\d+/.test(t);
    // done: a result shown after the context was read
    await b.page.waitForFunction(
      () => {
        const seen = (window as unknown as { __iommufdStatus: string[] }).__iommufdStatus;
        const r = seen.findIndex((t) => /iommufd: reading context \d+\/\d+/.test(t));
        return r >= 0 && seen.slice(r).some((t) => /iommufd: \d+ findings? · \d+% parsed/.test(t));
      },
      undefined,
      { timeout: LONG.timeout, polling: 100 },
    );
    const seen = await b.page.evaluate(() => (window as unknown as { __iommufdStatus: string[] }).__iommufdStatus);
    const reading = seen.filter(isReading);
    // The file's own findings are out before any context is read. The workbench may paint the own-file
    // result and the first "reading" in one frame, so the proof is the reading text itself: the server
    // says "N findings so far" there only once the own-file analysis has given its result.
    const firstReading = seen.findIndex(isReading);
    assert.match(
      seen[firstReading],
      /iommufd: reading context \d+\/\d+ · \d+ findings? so far/,
      `own-file findings before the context: ${seen.join(' | ')}`,
    );
    assert.ok(reading.length > 0, `the status item said it was reading context: ${seen.join(' | ')}`);
    const [, total] = /(\d+)\/(\d+)/
      .exec(reading[reading.length - 1])!
      .slice(1)
      .map(Number);
    assert.ok(total > 20, `a kernel tree gives many context files (${total})`);
    // Then the analysis with the context: the server says "analysing N files" first, but when that takes
    // less than a frame the workbench renders only the result after it; when it is shown, it is between
    // the reading and the final result.
    const analysing = seen.findIndex((t, i) => i > firstReading && /iommufd: analysing \d+ files/.test(t));
    const lastReady = seen.length - 1 - [...seen].reverse().findIndex((t) => ready.test(t));
    assert.ok(
      lastReady > seen.lastIndexOf(reading[reading.length - 1]),
      `a result after the reading: ${seen.join(' | ')}`,
    );
    assert.ok(analysing < 0 || analysing < lastReady, `analysing before the result: ${seen.join(' | ')}`);
    assert.ok(
      !seen.some((t) => /loading/.test(t) && seen.indexOf(t) > seen.indexOf(reading[0])),
      'no "loading" once reading started',
    );
    // the tooltip says open and context files
    await b.page
      .locator('.statusbar-item', { hasText: /iommufd: \d+ findings?/ })
      .first()
      .hover();
    await b.page
      .locator('.monaco-hover, .workbench-hover, .custom-hover', {
        hasText: /1 open file analysed with [1-9]\d* context files/,
      })
      .first()
      .waitFor({ state: 'visible', ...LONG });
    await screenshot(b.page, '09-kernel-tree-status');
  });
});
