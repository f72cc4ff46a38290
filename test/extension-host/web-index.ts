/**
 * The web extension-host suite: a smaller `run()` module for the browser entry
 * (package.json "browser", dist/web/extension.js), run by @vscode/test-web in
 * a VS Code web build's worker extension host (test/e2e/web-host.test.ts,
 * design.md route B). No Node here: no node:assert, no process. The workspace
 * is a copy of test/fixtures/e2e-workspace mounted by test-web. The analysis
 * runs in the language server's Web Worker (dist/web/lsp-server.js).
 */
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../src/extension/activate';

const EXTENSION_ID = 'iommufd-review.iommufd-review';
type Case = { name: string; fn: () => Promise<void> };
const cases: Case[] = [];
const it = (name: string, fn: () => Promise<void>) => cases.push({ name, fn });

function ok(value: unknown, message: string): asserts value {
  if (!value) throw new Error(`assertion failed: ${message}`);
}
function equal<T>(actual: T, expected: T, message: string): void {
  if (actual !== expected)
    throw new Error(`${message}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

async function until<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function folder(): vscode.Uri {
  const f = vscode.workspace.workspaceFolders?.[0];
  if (!f) throw new Error('the suite needs the e2e fixture workspace mounted');
  return f.uri;
}
const file = (name: string) => vscode.Uri.joinPath(folder(), name);
const ours = (uri: vscode.Uri) => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'iommufd');
const ruleOf = (d: vscode.Diagnostic) => (typeof d.code === 'object' ? String(d.code.value) : String(d.code));

let api: ExtensionApi;
let cDoc: vscode.TextDocument;

it('activates from the browser entry in the web extension host on a C file', async () => {
  equal(vscode.env.uiKind, vscode.UIKind.Web, 'the UI is the web workbench');
  const nodeProcess = (globalThis as { process?: { versions?: { node?: string } } }).process;
  ok(!nodeProcess?.versions?.node, 'no Node.js in this extension host (a web worker)');
  cDoc = await vscode.workspace.openTextDocument(file('mdev_switch.c'));
  equal(cDoc.languageId, 'c', 'the fixture opens as C');
  await vscode.window.showTextDocument(cDoc);
  const ext = vscode.extensions.getExtension<ExtensionApi>(EXTENSION_ID);
  ok(ext, `${EXTENSION_ID} is loaded`);
  equal(ext.extensionKind, vscode.ExtensionKind.UI, 'it runs on the UI side, as a web extension does');
  // onLanguage:c activates it without being asked.
  await until('activation by onLanguage:c', () => ext.isActive);
  api = await ext.activate();
  ok(api.analysis && api.panel && api.diagnostics, 'activate() returns the services');
  ok(api.activationMs < 2000, `activation took ${api.activationMs} ms`);
});

it('shows unmap-before-rollback on the fallible call, with the witness', async () => {
  // The mounted workspace file itself (vscode-test-web:, a virtual
  // workspace's scheme, like vscode.dev's vscode-vfs:), not a copy.
  const doc = cDoc;
  await vscode.window.showTextDocument(doc);
  const addLine = doc
    .getText()
    .split('\n')
    .findIndex((l) => /rc = iopt_add_access\(/.test(l));
  ok(addLine > 0, 'the fixture has the iopt_add_access() call');
  const d = await until('the diagnostic', () => ours(doc.uri).find((x) => ruleOf(x) === 'unmap-before-rollback'));
  equal(d.range.start.line, addLine, 'the diagnostic is on the iopt_add_access() line');
  // The language server in its Web Worker found it: it answered initialize, its iommufd/status says ready
  // with the finding (only src/lsp/server.ts sends that notification), and the finding reached the store
  // from the diagnostic's data. There is no analysis in this extension host to fall back on.
  ok(api.analysis.engineReadyMs !== undefined, 'the language server answered initialize');
  await until(
    'the server to say ready',
    () => api.analysis.state.phase === 'ready' && (api.analysis.state.findings ?? 0) >= 1,
  );
  ok(
    api.store
      .get(doc.uri)
      .some((s) => s.finding.ruleId === 'unmap-before-rollback' && s.finding.function === 'demo_switch_ioas'),
    'the finding from the diagnostic data is in the store',
  );
  equal(d.severity, vscode.DiagnosticSeverity.Warning, 'severity');
  ok(/`demo_drop_current\(\)` unmaps the driver's pages/.test(d.message), `message: ${d.message}`);
  const related = d.relatedInformation ?? [];
  ok(
    related.some((r) => /can fail here/.test(r.message) && r.location.range.start.line === addLine),
    'the fallible call is in the witness',
  );
  ok(
    related.some((r) => /ops->unmap/.test(r.message)),
    'the unmap inside the callee is in the witness',
  );
});

it('the simulate command runs: merged keeps every invariant, v8 breaks the failure contract', async () => {
  await vscode.commands.executeCommand('iommufd.simulate', {
    variant: 'merged',
    threads: ['replacer', 'driver'],
    faults: ['add-access'],
    contract: 'status-quo',
  });
  const merged = await until('the merged result', () => {
    const m = api.panel.lastMessage();
    return m?.type === 'result' && m.request.variant === 'merged' ? m : undefined;
  });
  equal(
    merged
      .result!.invariants.filter((i) => !i.holds)
      .map((i) => i.id)
      .join(','),
    '',
    'merged breaks nothing',
  );
  await vscode.commands.executeCommand('iommufd.simulate', {
    variant: 'v8',
    threads: ['replacer', 'driver'],
    faults: ['add-access'],
    contract: 'status-quo',
  });
  const v8 = await until('the v8 result', () => {
    const m = api.panel.lastMessage();
    return m?.type === 'result' && m.request.variant === 'v8' ? m : undefined;
  });
  const broken = v8.result!.invariants.find((i) => i.id === 'failure-contract' && !i.holds);
  ok(
    broken,
    `v8 breaks failure-contract (broken: ${v8
      .result!.invariants.filter((i) => !i.holds)
      .map((i) => i.id)
      .join(', ')})`,
  );
  ok((broken.counterexample?.steps.length ?? 0) > 0, 'with a counterexample');
  // The panel's webview loaded in the browser and said so.
  await until('the webview ready message', () => api.panel.received().some((r) => r.type === 'ready'));
});

export async function run(): Promise<void> {
  const failures: string[] = [];
  for (const c of cases) {
    const started = Date.now();
    try {
      await c.fn();
      console.log(`ok - ${c.name} (${Date.now() - started} ms)`);
    } catch (e) {
      failures.push(c.name);
      console.log(`not ok - ${c.name}: ${(e as Error)?.stack ?? e}`);
    }
  }
  console.log(`${cases.length - failures.length} passed, ${failures.length} failed`);
  if (failures.length > 0)
    throw new Error(`${failures.length} web extension-host test(s) failed: ${failures.join('; ')}`);
}
