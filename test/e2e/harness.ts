/**
 * Real VS Code for the end-to-end tests: code-server 4.100.3 (installed into
 * the cache by scripts/ensure-extra/code-server.mjs) serving a copy of a
 * fixture workspace, driven through headless Chromium with playwright-core.
 * Every wait is on a condition a user would see, with generous limits; the
 * server start is retried on a fresh port; `close()` kills what was started.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type FrameLocator,
  type Locator,
  type Page,
} from 'playwright-core';

export const ROOT = path.resolve(__dirname, '../../..');
export const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'e2e');

export function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v)
    throw new Error(
      `${name} is not set: run the tests with \`npm test\` (scripts/ensure.mjs installs code-server and chromium)`,
    );
  if (!existsSync(v)) throw new Error(`${name}=${v} does not exist`);
  return v;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let vsixPath: string | undefined;
/** What goes into the .vsix (.vscodeignore is the allowlist; this copies the same files). */
const PACKAGED = [
  'package.json',
  'README.md',
  'LICENSE',
  'CHANGELOG.md',
  '.vscodeignore',
  'dist/extension.js',
  'dist/extension-features.js',
  'dist/language-client.js',
  'dist/repair-worker.js',
  'dist/lsp-server.js',
  'dist/lsp-start.js',
  'dist/web/extension.js',
  'dist/web/lsp-server.js',
  'dist/tree-sitter.wasm',
  'dist/tree-sitter-c.wasm',
  'media',
  'syntaxes',
  'docs/engine.md',
];

/**
 * Packages the extension with vsce (as `npm run package` does) into
 * test-artifacts, once per process. vsce runs on a staged copy, so a build
 * running at the same time cannot change a file under it; retried once.
 */
export function packageVsix(): string {
  if (vsixPath) return vsixPath;
  mkdirSync(ARTIFACTS, { recursive: true });
  const out = path.join(ROOT, 'test-artifacts', 'iommufd-review.vsix');
  const vsce = path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  let failure = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const stage = mkdtempSync(path.join(os.tmpdir(), 'iommufd-vsix-'));
    try {
      for (const rel of PACKAGED)
        if (existsSync(path.join(ROOT, rel))) cpSync(path.join(ROOT, rel), path.join(stage, rel), { recursive: true });
      rmSync(out, { force: true });
      const r = spawnSync(
        process.execPath,
        [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '-o', out],
        { cwd: stage, encoding: 'utf8' },
      );
      if (r.status === 0 && existsSync(out)) {
        vsixPath = out;
        return out;
      }
      failure = `${r.stdout}\n${r.stderr}`;
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
  }
  throw new Error(`vsce package failed:\n${failure}`);
}

export interface Served {
  port: number;
  url: string;
  workspace: string;
  userDataDir: string;
  extensionsDir: string;
  server: ChildProcess;
  log: () => string;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** Fixture folder copied into a fresh temporary workspace. */
  fixture?: string;
  /** A folder served in place instead (never written: nothing is saved). */
  folder?: string;
  /** Extra environment for code-server and its extension host. */
  env?: Record<string, string>;
  /** Install this .vsix before starting. */
  vsix?: string;
  /** User settings over the harness's own (code-server saves edited files after a delay by default). */
  settings?: Record<string, unknown>;
}

async function waitHttp(url: string, server: ChildProcess, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (server.exitCode !== null) return false;
    try {
      const res = await fetch(url, { redirect: 'manual' });
      if (res.status > 0 && res.status < 500) return true;
    } catch {
      /* not listening yet */
    }
    await sleep(250);
  }
  return false;
}

/** Starts code-server on a free port (three tries), with the .vsix installed when given. */
export async function serve(options: ServeOptions): Promise<Served> {
  const entry = requireEnv('IOMMUFD_REVIEW_CODE_SERVER');
  const base = mkdtempSync(path.join(os.tmpdir(), 'iommufd-e2e-'));
  const workspace = options.folder ?? path.join(base, 'workspace');
  const userDataDir = path.join(base, 'user');
  const extensionsDir = path.join(base, 'extensions');
  if (!options.folder) {
    if (!options.fixture) throw new Error('serve() needs a fixture or a folder');
    cpSync(options.fixture, workspace, { recursive: true });
  }
  mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  // No welcome page, no trust prompt, no restored editors from an earlier run.
  writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'security.workspace.trust.enabled': false,
      'workbench.tips.enabled': false,
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'telemetry.telemetryLevel': 'off',
      'window.restoreWindows': 'none',
      'editor.codeLens': true,
      'workbench.enableExperiments': false,
      'files.hotExit': 'off',
      ...options.settings,
    }),
  );
  const env = {
    ...process.env,
    ...(options.env ?? {}),
    XDG_CONFIG_HOME: path.join(base, 'config'),
    XDG_DATA_HOME: path.join(base, 'data'),
  };
  if (options.vsix) {
    const r = spawnSync(
      process.execPath,
      [
        entry,
        '--user-data-dir',
        userDataDir,
        '--extensions-dir',
        extensionsDir,
        '--install-extension',
        options.vsix,
        '--force',
      ],
      { encoding: 'utf8', env, timeout: 120_000 },
    );
    if (r.status !== 0) throw new Error(`installing ${options.vsix} failed:\n${r.stdout}\n${r.stderr}`);
  }
  let lastLog = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    let output = '';
    const server = spawn(
      process.execPath,
      [
        entry,
        '--auth',
        'none',
        '--bind-addr',
        `127.0.0.1:${port}`,
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-workspace-trust',
        '--disable-getting-started-override',
        '--user-data-dir',
        userDataDir,
        '--extensions-dir',
        extensionsDir,
        workspace,
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    server.stdout?.on('data', (d) => (output += String(d)));
    server.stderr?.on('data', (d) => (output += String(d)));
    const url = `http://127.0.0.1:${port}`;
    if (await waitHttp(`${url}/healthz`, server, 60_000)) {
      return {
        port,
        url,
        workspace,
        userDataDir,
        extensionsDir,
        server,
        log: () => output,
        async close() {
          await stopProcess(server);
          rmSync(base, { recursive: true, force: true });
        },
      };
    }
    lastLog = output;
    await stopProcess(server);
  }
  rmSync(base, { recursive: true, force: true });
  throw new Error(`code-server did not start after 3 tries:\n${lastLog.slice(-3000)}`);
}

/** Ends a process we started (its whole process group) and waits for it. */
export async function stopProcess(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const done = new Promise<void>((r) => p.once('exit', () => r()));
  try {
    if (p.pid) process.kill(-p.pid, 'SIGTERM');
  } catch {
    p.kill('SIGTERM');
  }
  const timeout = sleep(5000).then(() => 'timeout');
  if ((await Promise.race([done.then(() => 'done'), timeout])) === 'timeout') {
    try {
      if (p.pid) process.kill(-p.pid, 'SIGKILL');
    } catch {
      p.kill('SIGKILL');
    }
    await done;
  }
}

export interface Browsing {
  browser: BrowserContext;
  page: Page;
  dialogs: string[];
  pageErrors: string[];
  close(): Promise<void>;
}

export async function openBrowser(): Promise<Browsing> {
  const executablePath = requireEnv('IOMMUFD_REVIEW_CHROMIUM');
  const browser: Browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-dev-shm-usage',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const dialogs: string[] = [];
  const pageErrors: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss().catch(() => undefined);
  });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  return {
    browser: context,
    page,
    dialogs,
    pageErrors,
    async close() {
      await browser.close().catch(() => undefined);
    },
  };
}

/** The workbench URL opening `folder`, with an optional payload (openFile and friends). */
export function workbenchUrl(served: Served, payload?: [string, string][]): string {
  const q = new URLSearchParams({ folder: served.workspace });
  if (payload) q.set('payload', JSON.stringify(payload));
  return `${served.url}/?${q.toString()}`;
}

export function remoteFileUri(file: string): string {
  return `vscode-remote://${file}`;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** The extension's own output log(s) in a served code-server's logs folder (empty when none was written yet). */
export function extensionLog(served: Served): string {
  const logs = path.join(served.userDataDir, 'logs');
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const e of existsSync(dir) ? readdirSync(dir, { withFileTypes: true }) : []) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.includes('iommufd-review.iommufd-review') && e.name.endsWith('.log')) found.push(p);
    }
  };
  walk(logs);
  return found.map((f) => readFileSync(f, 'utf8')).join('\n');
}

/**
 * Runs a test's steps; when one fails, the error says what the user saw and
 * what the extension logged (a screenshot and the log's last lines), since a
 * CI run keeps only the test output.
 */
export async function explained(served: Served, b: Browsing, name: string, steps: () => Promise<void>): Promise<void> {
  try {
    await steps();
  } catch (e) {
    const shot = await screenshot(b.page, `${name}-failed`).catch(() => 'none');
    const tail = extensionLog(served).trimEnd().split('\n').slice(-40).join('\n');
    const errors = b.pageErrors.slice(-5).join('\n');
    (e as Error).message +=
      `\n--- screenshot: ${shot}\n--- the extension's log (last lines):\n${tail || '(empty)'}` +
      (errors ? `\n--- page errors:\n${errors}` : '');
    throw e;
  }
}

export function fileSize(p: string): number {
  return statSync(p).size;
}

/**
 * Runs dist/test/index.js in code-server's Node extension host (design.md,
 * route A step 7): the workbench opens with extensionDevelopmentPath and
 * extensionTestsPath, the module's console output arrives through
 * codeAutomationLog and its result through codeAutomationExit.
 */
export async function runExtensionHostModule(
  served: Served,
  b: Browsing,
  timeoutMs = 5 * 60_000,
): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  let exit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => (exit = resolve));
  await b.page.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) => {
    lines.push(`${type}: ${Array.isArray(args) ? args.map(String).join(' ') : String(args)}`);
  });
  await b.page.exposeFunction('codeAutomationExit', (code: number) => exit(code));
  const authority = `127.0.0.1:${served.port}`;
  const payload = [
    ['extensionDevelopmentPath', `vscode-remote://${authority}${ROOT}`],
    ['extensionTestsPath', `vscode-remote://${authority}${ROOT}/dist/test/index.js`],
  ];
  const q = new URLSearchParams({ folder: served.workspace, payload: JSON.stringify(payload) });
  await b.page.goto(`${served.url}/?${q.toString()}`);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<number>((resolve) => {
    timer = setTimeout(() => resolve(-1), timeoutMs);
  });
  const code = await Promise.race([exited, timeout]);
  if (timer) clearTimeout(timer);
  return { code, lines };
}

/**
 * Runs a command from the palette. Rows are clicked, never chosen with Enter:
 * a palette that closed early must not turn a keystroke into an edit of the
 * file under it. Right after start the palette may not list contributed
 * commands yet, so the whole step is retried.
 */
export async function runCommand(page: Page, title: string): Promise<void> {
  let last: unknown;
  for (let attempt = 0; attempt < 4; attempt++) {
    try {
      await page.keyboard.press('Escape');
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget .quick-input-box input');
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      await input.fill(`>${title}`);
      const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
      await row.waitFor({ state: 'visible', timeout: 15_000 });
      await row.click();
      return;
    } catch (e) {
      last = e;
    }
  }
  throw new Error(`could not run "${title}" from the palette: ${String(last)}`);
}

/**
 * The Problems panel, opened by a click on the status bar's problems item
 * when it is not showing, else from the palette. A click types nothing: once
 * the palette's text went into the editor instead (the editor opened at
 * start took the focus back after the palette opened), and the mail under
 * test gained a first line.
 */
export async function showProblems(page: Page, timeout: number): Promise<Locator> {
  const panel = page.locator('.markers-panel');
  if (await panel.isVisible().catch(() => false)) return panel;
  const item = page.locator('.statusbar-item[id="status.problems"]').first();
  const shown = await item
    .click({ timeout: 10_000 })
    .then(() => panel.waitFor({ state: 'visible', timeout: 10_000 }))
    .then(() => true)
    .catch(() => false);
  if (!shown) await runCommand(page, 'Focus on Problems View');
  await panel.waitFor({ state: 'visible', timeout });
  return panel;
}

/** The simulator panel's content frame (the last webview opened). */
export function simulatorWebview(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').last().frameLocator('#active-frame');
}

/**
 * Opens the Quick Fix menu at a 1-based line and column of the active editor
 * and waits for the action titled `title`. The menu's list is fixed when it
 * opens: if the key went elsewhere (the editor had not taken the focus back)
 * or the diagnostics under the cursor were being replaced at that moment, the
 * menu stays without the action. So it is closed and asked for again, as a
 * user would, until `timeout`.
 */
export async function openQuickFix(
  page: Page,
  line: number,
  column: number,
  title: string,
  timeout: number,
): Promise<Locator> {
  const item = page.locator('.action-widget .monaco-list-row', { hasText: title }).first();
  const deadline = Date.now() + timeout;
  for (let attempt = 1; ; attempt++) {
    await goToLine(page, line, column);
    await page.keyboard.press('Control+.');
    const left = deadline - Date.now();
    const shown = await item
      .waitFor({ state: 'visible', timeout: Math.max(1000, Math.min(15_000, left)) })
      .then(() => true)
      .catch(() => false);
    if (shown) return item;
    if (Date.now() >= deadline) throw new Error(`the Quick Fix menu at ${line}:${column} never offered "${title}"`);
    await screenshot(page, `quick-fix-retry-${attempt}`).catch(() => undefined);
    await page.keyboard.press('Escape');
  }
}

/** Moves the cursor of the active editor to a 1-based line (and column) with Go to Line. */
export async function goToLine(page: Page, line: number, column = 1): Promise<void> {
  await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+G');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 15_000 });
  await input.fill(`:${line}:${column}`);
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 15_000 });
}
