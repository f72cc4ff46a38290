/**
 * The extension-host suite: one `run()` module, as @vscode/test-electron runs
 * it, exercising the API surface a user reaches through the editor:
 * diagnostics with their code, docs link and related information, code
 * lenses, hovers, code actions, commands and the simulator panel's messages.
 * It runs in code-server's Node extension host (test/e2e/extension-host.test.ts)
 * and, where a desktop VS Code can be downloaded, under `npm run test:electron`.
 * The workspace is a copy of test/fixtures/e2e-workspace.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../src/extension/activate';
import type { RepairPanelView } from '../../src/sim/panel-view';
import type { ReviewSession } from '../../src/review/types';
import { runEditorBench } from './editor-bench';

const EXTENSION_ID = 'iommufd-review.iommufd-review';
type Case = { name: string; fn: () => Promise<void> };
const cases: Case[] = [];
const it = (name: string, fn: () => Promise<void>) => cases.push({ name, fn });

async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
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
  if (!f) throw new Error('the suite needs the e2e fixture workspace open');
  return f.uri;
}

const file = (name: string) => vscode.Uri.joinPath(folder(), name);
const ours = (uri: vscode.Uri) => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'iommufd');
const ruleOf = (d: vscode.Diagnostic) => (typeof d.code === 'object' ? String(d.code.value) : String(d.code));

/**
 * The warning notifications the extension shows, as the user sees them: the
 * test and the extension share one `vscode` API object, so wrapping its
 * showWarningMessage records every call (the notification is still shown).
 */
const warnings: string[] = [];
function recordWarnings(): void {
  const win = vscode.window as unknown as { showWarningMessage: (...args: unknown[]) => unknown };
  const original = win.showWarningMessage;
  win.showWarningMessage = (...args: unknown[]) => {
    if (typeof args[0] === 'string') warnings.push(args[0]);
    return original.apply(vscode.window, args);
  };
}
const warningsAbout = (name: string, since: number) => warnings.slice(since).filter((m) => m.includes(name));

/** How long a command of the extension takes to answer (ms), with its answer. */
async function timed<T>(run: () => Thenable<T>): Promise<{ ms: number; value: T }> {
  const started = Date.now();
  const value = await run();
  return { ms: Date.now() - started, value };
}
const simulateLenses = () =>
  timed(() => vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', cDoc.uri));
const hasSimulateLens = (lenses: vscode.CodeLens[] | undefined) =>
  (lenses ?? []).some((l) => l.command?.command === 'iommufd.simulateFinding');
/** A bound for "the editor answers" that a loaded CI machine still meets, far below a hang. */
const ANSWER_MS = 5_000;

let api: ExtensionApi;
let extensionUri: vscode.Uri;
let cDoc: vscode.TextDocument;

it('activates on a C file (not before, in a workspace that is not a kernel tree) and exports its services', async () => {
  const ext = vscode.extensions.getExtension<ExtensionApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is installed`);
  // The suite runs after the workbench's startup activations (workspaceContains: among them): this
  // workspace has no drivers/iommu/iommufd, so nothing started the extension yet.
  assert.equal(ext.isActive, false, 'not active before a C file is opened in a workspace that is not a kernel tree');
  cDoc = await vscode.workspace.openTextDocument(file('mdev_switch.c'));
  await vscode.window.showTextDocument(cDoc);
  api = await ext.activate();
  extensionUri = ext.extensionUri;
  // Node hosts: a C file needs neither the patch, simulator, command and review features nor their bundle.
  const features = path.join(ext.extensionUri.fsPath, 'dist', 'extension-features.js');
  assert.equal(require.cache[features], undefined, 'a C file alone does not load dist/extension-features.js');
  assert.ok(api.analysis && api.panel, 'activate() returns the services');
  assert.ok(require.cache[features], 'the first use of the panel loads dist/extension-features.js');
  assert.ok(api.activationMs < 2000, `activation took ${api.activationMs} ms`);
});

it('shows unmap-before-rollback on the fallible call, with a docs link and the witness', async () => {
  const addLine = cDoc
    .getText()
    .split('\n')
    .findIndex((l) => /rc = iopt_add_access\(/.test(l));
  const d = await until('the diagnostic', () => ours(cDoc.uri).find((x) => ruleOf(x) === 'unmap-before-rollback'));
  assert.equal(d.range.start.line, addLine);
  assert.equal(d.severity, vscode.DiagnosticSeverity.Warning);
  assert.match(d.message, /`demo_drop_current\(\)` unmaps the driver's pages/);
  // the rule link lands on the rule's heading: a #L<line> fragment at `### unmap-before-rollback` of the shipped docs
  const docs = new TextDecoder()
    .decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(extensionUri, 'docs', 'engine.md')))
    .split('\n');
  assert.ok(
    typeof d.code === 'object' &&
      d.code.target.path.endsWith('/docs/engine.md') &&
      d.code.target.fragment === `L${docs.indexOf('### unmap-before-rollback') + 1}`,
    `fragment ${typeof d.code === 'object' ? d.code.target.fragment : ''}`,
  );
  const related = d.relatedInformation ?? [];
  assert.ok(
    related.some((r) => /can fail here/.test(r.message) && r.location.range.start.line === addLine),
    'the fallible call is in the witness',
  );
  assert.ok(
    related.some((r) => /ops->unmap/.test(r.message) && r.location.uri.toString() === cDoc.uri.toString()),
    'the unmap inside the callee is in the witness',
  );
});

it('puts a Simulate code lens on the finding, with its from-source scenario', async () => {
  const lenses = await until('code lenses', async () => {
    const l = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', cDoc.uri);
    return l?.some((x) => x.command?.command === 'iommufd.simulateFinding') ? l : undefined;
  });
  const lens = lenses.find((x) => x.command?.command === 'iommufd.simulateFinding')!;
  assert.match(lens.command!.title, /Simulate unmap-before-rollback \(replace flow from source\)/);
  const args = lens.command!.arguments![0] as { scenario: { variant: string; function: string; faults: string[] } };
  assert.equal(args.scenario.variant, 'from-source');
  assert.equal(args.scenario.function, 'demo_switch_ioas');
  assert.deepEqual(args.scenario.faults, ['add-access']);
});

it('has a hover with a Simulate command link and the rule docs', async () => {
  const d = ours(cDoc.uri).find((x) => ruleOf(x) === 'unmap-before-rollback')!;
  const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
    'vscode.executeHoverProvider',
    cDoc.uri,
    d.range.start.translate(0, 2),
  );
  const text = hovers
    .flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : '')))
    .join('\n');
  assert.match(text, /\(command:iommufd\.simulateFinding\?/);
  // the rule link lands on the rule's heading in the shipped docs (a #L<line> fragment VS Code's opener honours)
  const docs = new TextDecoder()
    .decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(extensionUri, 'docs', 'engine.md')))
    .split('\n');
  const heading = docs.indexOf('### unmap-before-rollback') + 1;
  assert.ok(heading > 1);
  assert.match(text, new RegExp(`engine\\.md#L${heading}\\b`));
  // the Simulate link comes first, and the diagnostic's message is not repeated
  assert.ok(text.indexOf('iommufd.simulateFinding') < text.indexOf('engine.md'), 'Simulate first');
  // what the hover shows, without its link targets (the Simulate link's arguments carry the finding)
  const shown = text.replace(/\]\(command:[\s\S]*?"Replay this finding's witness in the simulator"\)/, '](…)');
  assert.ok(!shown.includes(d.message.split(' [')[0].slice(0, 40)), `the message is not repeated: ${shown}`);
  assert.ok(!/can fail here/.test(shown), 'nor the witness');
  assert.match(text, /iommufd unmap-before-rollback/);
});

it('offers code actions that simulate or copy, and no source edit', async () => {
  const d = ours(cDoc.uri).find((x) => ruleOf(x) === 'unmap-before-rollback')!;
  const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
    'vscode.executeCodeActionProvider',
    cDoc.uri,
    d.range,
  );
  const mine = actions.filter(
    (a) => a.title.includes('unmap-before-rollback') || a.title.startsWith('Copy the finding'),
  );
  assert.deepEqual(mine.map((a) => a.title).sort(), [
    'Copy the finding for a review reply',
    'Simulate this unmap-before-rollback finding',
  ]);
  assert.ok(
    mine.every((a) => a.edit === undefined),
    'no quick fix edits the code',
  );
});

it("simulateFinding opens the panel on a replay of the finding's own witness: the pins go at the detach call, the add fails, the error path runs", async () => {
  const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', cDoc.uri);
  const lens = lenses.find((x) => x.command?.command === 'iommufd.simulateFinding')!;
  await vscode.commands.executeCommand('iommufd.simulateFinding', ...lens.command!.arguments!);
  const m = await until('a result message', () => {
    const last = api.panel.lastMessage();
    return last?.type === 'result' && last.request.function === 'demo_switch_ioas' ? last : undefined;
  });
  const sim = m.simulation!;
  assert.equal(sim.kind, 'replace-flow');
  assert.equal(sim.invariant, 'failure-contract');
  assert.match(m.view.headline, /^The pins are gone: replace failed with -ENOMEM .*the driver's pinned pages are gone/);
  assert.equal(m.view.primary, 'failure-contract');
  // every witness step of the finding is a step of the counterexample, in order
  assert.ok(
    sim.placed.every((p) => p !== undefined),
    `placed: ${JSON.stringify(sim.placed)}`,
  );
  const trace = m.view.traces.find((t) => t.invariant === 'failure-contract')!;
  const lineOf = (re: RegExp): number =>
    cDoc
      .getText()
      .split('\n')
      .findIndex((l) => re.test(l)) + 1;
  const call = lineOf(/demo_drop_current\(access, cur\);/);
  const add = lineOf(/rc = iopt_add_access/);
  const dropAt = trace.rows.findIndex((r) =>
    r.state.some((c) => c.owner === 'IOAS A' && c.key === 'pins' && c.value === '0' && c.changed),
  );
  assert.ok(
    dropAt > 0 && trace.rows[dropAt].via?.includes(`(line ${call})`),
    `the pins drop inside the call at line ${call}`,
  );
  const addAt = trace.rows.findIndex((r) => r.line === add);
  assert.ok(
    addAt > dropAt && /can fail here/.test(trace.rows[addAt].note ?? ''),
    "the fallible add comes after, with the finding's words",
  );
  assert.equal(trace.rows[trace.rows.length - 1].violation, 'failure-contract');
  // The webview itself loads and says so.
  await until('the webview ready message', () => api.panel.received().some((r) => r.type === 'ready') || undefined);
});

it('the simulate command runs a given scenario: merged keeps every invariant, v8 breaks the contract', async () => {
  await vscode.commands.executeCommand('iommufd.simulate', {
    variant: 'merged',
    threads: ['replacer', 'driver'],
    faults: ['add-access'],
    contract: 'status-quo',
  });
  const merged = await until('merged result', () => {
    const m = api.panel.lastMessage();
    return m?.type === 'result' && m.request.variant === 'merged' ? m : undefined;
  });
  assert.deepEqual(
    merged.result!.invariants.filter((i) => !i.holds).map((i) => i.id),
    [],
  );
  await vscode.commands.executeCommand('iommufd.simulate', {
    variant: 'v8',
    threads: ['replacer', 'driver'],
    faults: ['add-access'],
    contract: 'status-quo',
  });
  const v8 = await until('v8 result', () => {
    const m = api.panel.lastMessage();
    return m?.type === 'result' && m.request.variant === 'v8' ? m : undefined;
  });
  assert.ok(v8.result!.invariants.some((i) => i.id === 'failure-contract' && !i.holds));
});

it('annotates an mbox series on its patch lines, introduced in patch 2/3', async () => {
  const doc = await vscode.workspace.openTextDocument(file('series-v8.mbox'));
  assert.equal(doc.languageId, 'iommufd-patch');
  await vscode.window.showTextDocument(doc);
  const d = await until('a patch diagnostic', () =>
    ours(doc.uri).find((x) => ruleOf(x) === 'unmap-before-rollback' && /introduced/.test(x.message)),
  );
  assert.match(doc.lineAt(d.range.start.line).text, /iopt_add_access\(/);
  assert.match(d.message, /\[2\/3\]/);
  assert.match(d.message, /partial context/, 'no kernel tree in the workspace: patch-only, said so');
});

it("a patch that only lowers a finding's confidence does not show it as fixed", async () => {
  // Patch 2/2 of this series returns a status of its own on the failed add and declares its cursor
  // with an attribute macro the parser cannot read (the function is partial): the engine is less
  // sure, but remove-before-add is still there.
  const doc = await vscode.workspace.openTextDocument(file('series-confidence.mbox'));
  await vscode.window.showTextDocument(doc);
  const review = await api.patches.review(doc);
  assert.ok(review, 'the series was reviewed');
  assert.equal(review.patches.length, 2);
  const [p1, p2] = review.patches;
  assert.deepEqual(
    p1.findings.map((f) => [f.ruleId, f.status]),
    [['unmap-before-rollback', 'introduced']],
  );
  assert.deepEqual(
    p2.findings.filter((f) => f.status === 'fixed').map((f) => f.ruleId),
    [],
    'nothing is fixed by patch 2',
  );
  const introduced = await until('the introduced diagnostic', () =>
    ours(doc.uri).find(
      (d) => ruleOf(d) === 'unmap-before-rollback' && /introduced by this patch \[1\/2\]/.test(d.message),
    ),
  );
  assert.match(doc.lineAt(introduced.range.start.line).text, /^\+\trc = iopt_add_access\(/);
  assert.deepEqual(
    ours(doc.uri)
      .filter((d) => /fixed by this patch/.test(d.message))
      .map((d) => d.message),
    [],
  );

  // With the threshold at low, patch 2 shows the same finding as unchanged, at its lower confidence.
  const settings = vscode.workspace.getConfiguration('iommufd');
  await settings.update('minConfidence', 'low', vscode.ConfigurationTarget.Workspace);
  try {
    const low = await api.patches.review(doc);
    const kept = low?.patches[1].findings.find((f) => f.ruleId === 'unmap-before-rollback');
    assert.ok(kept, 'patch 2 shows the finding at low confidence');
    assert.equal(kept.status, 'unchanged');
    assert.equal(kept.confidence, 'low');
    assert.equal(kept.fingerprint, low?.patches[0].findings[0].fingerprint, 'the same problem as in patch 1');
    const d = await until('the unchanged diagnostic on patch 2', () =>
      ours(doc.uri).find(
        (x) => ruleOf(x) === 'unmap-before-rollback' && /already there before this patch \[2\/2\]/.test(x.message),
      ),
    );
    assert.match(doc.lineAt(d.range.start.line).text, /^ \trc = iopt_add_access\(/);
    assert.deepEqual(
      ours(doc.uri)
        .filter((x) => /fixed by this patch/.test(x.message))
        .map((x) => x.message),
      [],
    );
  } finally {
    await settings.update('minConfidence', undefined, vscode.ConfigurationTarget.Workspace);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  }
});

it('exports SARIF for the open patch and shows the lock graph', async () => {
  const target = file('out.sarif');
  await vscode.commands.executeCommand('iommufd.exportSarif', target);
  const log = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(target))) as {
    version: string;
    runs: { results: { ruleId: string }[] }[];
  };
  assert.equal(log.version, '2.1.0');
  assert.ok(log.runs[0].results.some((r) => r.ruleId === 'unmap-before-rollback'));
  await vscode.window.showTextDocument(cDoc);
  const graph = await vscode.commands.executeCommand<vscode.TextDocument>('iommufd.showLockGraph');
  assert.match(graph.getText(), /^# iommufd lock graph/);
});

it('in a diff editor the post-image (file:) side has the diagnostics and the base side has none', async () => {
  // A read-only base like the git extension's `git:` documents.
  const scheme = 'iommufd-test-base';
  const reg = vscode.workspace.registerTextDocumentContentProvider(scheme, {
    provideTextDocumentContent: () => cDoc.getText(),
  });
  try {
    const base = vscode.Uri.from({ scheme, path: cDoc.uri.path });
    await vscode.commands.executeCommand('vscode.diff', base, cDoc.uri, 'mdev_switch.c (base ↔ working tree)');
    const baseDoc = await until('the base document', () =>
      vscode.workspace.textDocuments.find((d) => d.uri.scheme === scheme),
    );
    assert.ok(baseDoc.languageId === 'c' || baseDoc.languageId === 'cpp', `base side is C (${baseDoc.languageId})`);
    await until('the right side diagnostic', () => ours(cDoc.uri).find((x) => ruleOf(x) === 'unmap-before-rollback'));
    await vscode.commands.executeCommand('iommufd.reanalyze');
    assert.deepEqual(ours(baseDoc.uri), [], 'no doubled diagnostics on the base side');
  } finally {
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    reg.dispose();
  }
});

/** Moves the detach call after the error block (the merged order) and waits for the finding to go. */
async function editIntoMergedOrder(): Promise<void> {
  const editor = await vscode.window.showTextDocument(cDoc);
  const lines = cDoc.getText().split('\n');
  const drop = lines.findIndex((l) => /^\tdemo_drop_current\(access, cur\);/.test(l));
  const close = lines.findIndex((l, i) => i > drop && /^\t}$/.test(l));
  await editor.edit((e) => {
    e.insert(new vscode.Position(close + 1, 0), '\tdemo_drop_current(access, cur);\n');
    e.delete(new vscode.Range(drop, 0, drop + 1, 0));
  });
  await until('the diagnostic to go', () =>
    ours(cDoc.uri).some((x) => ruleOf(x) === 'unmap-before-rollback') ? undefined : true,
  );
}

it('editing into the merged order clears the diagnostic', async () => {
  await editIntoMergedOrder();
  await vscode.commands.executeCommand('undo');
  await until('the diagnostic to come back after undo', () =>
    ours(cDoc.uri).find((x) => ruleOf(x) === 'unmap-before-rollback'),
  );
});

it("the findings come from the language server's own process; killed, it is started again with the user's unsaved text", async () => {
  const pid = await until('the language server process', () => api.serverPid());
  assert.notEqual(pid, process.pid, 'the server is not the extension host');
  process.kill(pid, 0); // throws when there is no such process
  // the finding crossed the protocol: the store holds what the server put in the diagnostic's data
  const shown = api.store.get(cDoc.uri).find((x) => x.finding.ruleId === 'unmap-before-rollback');
  assert.equal(shown?.finding.function, 'demo_switch_ioas');
  // an unsaved edit into the merged order: the file on disk still has the finding
  await editIntoMergedOrder();
  const edited = cDoc.getText();
  process.kill(pid, 'SIGKILL');
  const next = await until('a new language server process', () => {
    const p = api.serverPid();
    return p !== undefined && p !== pid ? p : undefined;
  });
  process.kill(next, 0);
  await until('the restarted server to answer', async () => {
    await api.diagnostics.settled();
    return api.analysis.state.phase === 'ready' ? true : undefined;
  });
  // the editor kept the text, and the new server analysed it (not the file on disk, which has the finding)
  assert.equal(cDoc.getText(), edited);
  assert.ok(cDoc.isDirty);
  assert.deepEqual(
    ours(cDoc.uri).filter((x) => ruleOf(x) === 'unmap-before-rollback'),
    [],
  );
  await vscode.commands.executeCommand('undo');
  const d = await until('the diagnostic back from the new server after undo', () =>
    ours(cDoc.uri).find((x) => ruleOf(x) === 'unmap-before-rollback'),
  );
  assert.match(d.message, /`demo_drop_current\(\)` unmaps the driver's pages/);
  assert.equal(api.serverPid(), next);
});

it('opening a file shows its own diagnostics first, then reads its context in the background and adds the finding that needs it', async () => {
  const uri = file('split/relay_move.c');
  // one timeline of what the user could see: the analysis states and the file's diagnostics as they were set
  const timeline: string[] = [];
  const subs = [
    api.analysis.onDidChangeState((s) => {
      // the file's findings as shown when the state changed (the diagnostics come before the state that counts them)
      const mine = api.store.get(uri).map((f) => f.finding.ruleId);
      if (s.phase === 'ready') timeline.push(`ready open=${s.files?.open} context=${s.files?.context} [${mine}]`);
      if (s.phase === 'reading') timeline.push(`reading ${s.progress?.done}/${s.progress?.total}`);
    }),
    api.store.onDidChange((u) => {
      if (u?.toString() === uri.toString()) timeline.push(`diagnostics [${ours(uri).map(ruleOf)}]`);
    }),
  ];
  let doc: vscode.TextDocument;
  try {
    doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    await until('the finding that needs the context', () =>
      ours(uri).some((d) => ruleOf(d) === 'unmap-before-rollback') && api.analysis.state.phase === 'ready'
        ? true
        : undefined,
    );
  } finally {
    for (const s of subs) s.dispose();
  }
  const said = timeline.join('\n');
  // the own file's diagnostics (none: the unmap is inside a helper of the sibling file) come before any reading
  const firstDiagnostics = timeline.indexOf('diagnostics []');
  const firstReading = timeline.findIndex((t) => t.startsWith('reading '));
  assert.ok(firstDiagnostics >= 0, `the own file's diagnostics were published first:\n${said}`);
  assert.ok(firstReading > firstDiagnostics, `the context was read after them:\n${said}`);
  const firstReady = timeline
    .slice(0, firstReading)
    .filter((t) => t.startsWith('ready '))
    .at(-1);
  const before = /^ready open=(\d+) context=(\d+) \[\]$/.exec(firstReady ?? '');
  assert.ok(before, `ready without the finding before the context was read:\n${said}`);
  // split/ has one other C file: reading says 1 of 1, and the next ready holds one more context file and the finding
  assert.ok(timeline.includes('reading 1/1'), said);
  const last = timeline.filter((t) => t.startsWith('ready ')).at(-1);
  assert.equal(
    last,
    `ready open=${before[1]} context=${Number(before[2]) + 1} [unmap-before-rollback]`,
    `the context result:\n${said}`,
  );
  // the diagnostics last set hold it (the server publishes them, then says ready)
  assert.equal(
    timeline.filter((t) => t.startsWith('diagnostics ')).at(-1),
    'diagnostics [unmap-before-rollback]',
    said,
  );
  const d = ours(uri).find((x) => ruleOf(x) === 'unmap-before-rollback')!;
  assert.equal(
    d.range.start.line,
    doc
      .getText()
      .split('\n')
      .findIndex((l) => /rc = iopt_add_access\(/.test(l)),
  );
  assert.match(d.message, /^`relay_give_up\(\)` unmaps the driver's pages and removes the access from the IOAS/);
  assert.ok(
    (d.relatedInformation ?? []).some(
      (r) => r.location.uri.path.endsWith('/split/relay_drop.c') && /access->ops->unmap\(\)/.test(r.message),
    ),
    'the witness goes into the context file',
  );
  await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
});

it('bad input: a binary buffer, a 3 MB buffer and a file deleted under the analysis do not break it', async () => {
  const bin = await vscode.workspace.openTextDocument({ language: 'c', content: 'int x;\u0000\u0001\u0002 binary' });
  await vscode.window.showTextDocument(bin);
  const gone = file('gone.c');
  await vscode.workspace.fs.writeFile(gone, new TextEncoder().encode('static int f(void) { return 0; }\n'));
  const goneDoc = await vscode.workspace.openTextDocument(gone);
  await vscode.window.showTextDocument(goneDoc);
  await vscode.workspace.fs.delete(gone);
  // A buffer over iommufd.analysis.maxFileBytes (2 MiB by default) is refused, not parsed.
  const big = await vscode.workspace.openTextDocument({
    language: 'c',
    content: 'static int pad(void) { return 0; }\n'.repeat(90_000),
  });
  const bigShown = Date.now();
  await vscode.window.showTextDocument(big);
  await vscode.commands.executeCommand('iommufd.reanalyze');
  assert.ok(Date.now() - bigShown < 20_000, 'the editor stayed responsive');
  assert.deepEqual(ours(big.uri), []);
  // The live analysis still works: an edit to the real file is analysed.
  await vscode.window.showTextDocument(cDoc);
  await vscode.commands.executeCommand('iommufd.reanalyze');
  assert.deepEqual(ours(bin.uri), []);
  await until('diagnostics of the C file still there', () =>
    ours(cDoc.uri).find((x) => ruleOf(x) === 'unmap-before-rollback'),
  );
});

it('bad input: a 10 MB C file is refused with one clear message, and the editor keeps answering', async () => {
  // Generated here, never committed: about 10 MiB of small functions.
  const uri = file('generated_10mb.c');
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < 10 * 1024 * 1024; i++) {
    const line = `static int demo_pad_${i}(int x)\n{\n\treturn x + ${i % 97};\n}\n\n`;
    lines.push(line);
    size += line.length;
  }
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(lines.join('')));
  const since = warnings.length;
  try {
    const doc = await vscode.workspace.openTextDocument(uri);
    assert.ok(doc.getText().length >= 10 * 1024 * 1024, 'the editor holds the whole 10 MB');
    const showing = vscode.window.showTextDocument(doc);
    // While the extension takes the file in, its commands still answer.
    const during = await simulateLenses();
    await showing;
    assert.ok(during.ms < ANSWER_MS, `a command answered in ${during.ms} ms while the big file was opened`);
    assert.ok(hasSimulateLens(during.value), 'and with the right answer');
    const message = await until('the message about the big file', () => warningsAbout('generated_10mb.c', since)[0]);
    assert.match(message, /^iommufd: generated_10mb\.c: not analysed: 10\.\d MiB is over the 2\.0 MiB limit\.$/);
    // Typing into it and asking again does not repeat the message, nor analyse it.
    const editor = await vscode.window.showTextDocument(doc);
    await editor.edit((e) => e.insert(new vscode.Position(0, 0), '/* edited */\n'));
    const again = await timed(async () => {
      await vscode.commands.executeCommand('iommufd.reanalyze');
      await api.diagnostics.settled();
    });
    assert.ok(again.ms < ANSWER_MS, `reanalysis with the big file open took ${again.ms} ms`);
    assert.deepEqual(warningsAbout('generated_10mb.c', since), [message], 'the message was shown once');
    assert.deepEqual(ours(doc.uri), []);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  } finally {
    await vscode.workspace.fs.delete(uri).then(undefined, () => undefined);
  }
  // Nothing crashed: the real file still has its finding.
  await vscode.window.showTextDocument(cDoc);
  await until('diagnostics of the C file still there', () =>
    ours(cDoc.uri).find((x) => ruleOf(x) === 'unmap-before-rollback'),
  );
});

it('bad input: a broken mbox (garbage headers, truncated mid-hunk) says what is wrong once and crashes nothing', async () => {
  // Generated from the committed series: patch 1/2 with broken headers, cut inside its hunk.
  const good = new TextDecoder().decode(await vscode.workspace.fs.readFile(file('series-confidence.mbox')));
  const patch1 = good.slice(good.indexOf('[PATCH v2 1/2]'));
  const diff = patch1.slice(patch1.indexOf('\n---\n') + 1, patch1.indexOf('+\trc = iopt_add_access'));
  const broken = [
    'From nobody Mon Sep 17 00:00:00 2001',
    '\u0001\u0002garbage header line without a colon',
    'X-Broken:: ::',
    'From: ',
    'Subject: [PATCH 1/1] iommufd/demo: add demo_move()',
    'Content-Transfer-Encoding: bogus-encoding',
    '',
    `${diff}+\trc = iopt_add_acc`,
  ].join('\n');
  const uri = file('generated-broken.mbox');
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(broken));
  const since = warnings.length;
  try {
    const doc = await vscode.workspace.openTextDocument(uri);
    assert.equal(doc.languageId, 'iommufd-patch');
    const showing = vscode.window.showTextDocument(doc);
    const during = await simulateLenses();
    await showing;
    assert.ok(during.ms < ANSWER_MS, `a command answered in ${during.ms} ms while the broken mbox was reviewed`);
    assert.ok(hasSimulateLens(during.value));
    const message = await until(
      'the message about the broken mbox',
      () => warningsAbout('generated-broken.mbox', since)[0],
    );
    assert.match(
      message,
      /^iommufd: generated-broken\.mbox was only partly reviewed: the diff of drivers\/iommu\/iommufd\/demo_move\.c is truncated: /,
    );
    const review = await api.patches.review(doc);
    assert.ok(review, 'the review returned');
    assert.deepEqual(
      review.patches.map((p) => p.findings.length),
      [0],
      'the truncated file is left out, not guessed at',
    );
    // Editing it reviews it again (debounced and directly), without a second message.
    const editor = await vscode.window.showTextDocument(doc);
    await editor.edit((e) => e.insert(new vscode.Position(doc.lineCount, 0), '\n'));
    await api.patches.review(doc);
    await new Promise((r) => setTimeout(r, 1_000));
    assert.deepEqual(warningsAbout('generated-broken.mbox', since), [message], 'the message was shown once');
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  } finally {
    await vscode.workspace.fs.delete(uri).then(undefined, () => undefined);
  }
  // Nothing crashed: a good series is still annotated.
  const v8 = await vscode.workspace.openTextDocument(file('series-v8.mbox'));
  const again = await api.patches.review(v8);
  assert.ok(
    again?.patches.some((p) =>
      p.findings.some((f) => f.ruleId === 'unmap-before-rollback' && f.status === 'introduced'),
    ),
  );
});

/**
 * The verified fix, end to end on the bundled detach-first example: the code
 * action on its finding, the search on the worker thread, the panel's
 * proposal (step order and invariants), the reply and the applied edit.
 */
const TOY = 'repair/toy_replace_detach_first.c';

it('"Show a verified fix" on the detach-first example finds the merged order: add first, unmap with ioas_lock dropped, saved id, ioas restored on failure', async () => {
  const text = new TextDecoder().decode(
    await vscode.workspace.fs.readFile(
      vscode.Uri.joinPath(extensionUri, 'examples', 'c', 'toy_replace_detach_first.c'),
    ),
  );
  await vscode.workspace.fs.writeFile(file(TOY), new TextEncoder().encode(text));
  const doc = await vscode.workspace.openTextDocument(file(TOY));
  await vscode.window.showTextDocument(doc);
  const d = await until('the toy finding', () => ours(doc.uri).find((x) => ruleOf(x) === 'unmap-before-rollback'));
  const lineOf = (re: RegExp): number =>
    doc
      .getText()
      .split('\n')
      .findIndex((l) => re.test(l)) + 1;
  assert.equal(d.range.start.line + 1, lineOf(/rc = iopt_add_access/));
  const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
    'vscode.executeCodeActionProvider',
    doc.uri,
    d.range,
  );
  const fix = actions.find((a) => a.title === 'Show a verified fix');
  assert.ok(fix, `actions: ${actions.map((a) => a.title).join(', ')}`);
  // command-backed, not a QuickFix: it opens a proposal, it edits nothing by itself
  assert.equal(fix.kind?.value, 'iommufd.verifiedFix');
  assert.equal(fix.edit, undefined);
  assert.equal(fix.command?.command, 'iommufd.showVerifiedFix');
  const view = await vscode.commands.executeCommand<RepairPanelView>(fix.command!.command, ...fix.command!.arguments!);
  assert.ok(view, 'the search answered');
  // what the panel was sent is what the command returned
  const m = api.panel.lastMessage();
  assert.equal(m?.type, 'repair');
  assert.deepEqual(m?.type === 'repair' ? m.repair : undefined, view);
  assert.equal(view.verified, true, `${view.headline} ${view.shortfall ?? ''}`);
  assert.match(
    view.headline,
    /^An order of toy_replace_detach_first\(\) that keeps every invariant, checked over \d+ states\.$/,
  );
  const at = (re: RegExp): number => view.steps.findIndex((st) => re.test(st.action));
  const add = at(/^iopt_add_access\(&new_ioas->iopt, access\)$/);
  const unlock = at(/^mutex_unlock\(&access->ioas_lock\)$/);
  const unmap = at(/^access->ops->unmap\(/);
  const relock = at(/^mutex_lock\(&access->ioas_lock\)$/);
  const remove = at(/^iopt_remove_access\(/);
  const put = at(/^refcount_dec\(&cur->obj\.users\)$/);
  assert.ok(
    add >= 0 && add < unlock && unlock + 1 === unmap && unmap + 1 === relock && relock < remove && remove < put,
    `order: ${view.steps.map((x) => x.action).join(' | ')}`,
  );
  assert.equal(view.steps[remove].action, 'iopt_remove_access(&cur->iopt, access, saved_id)');
  assert.deepEqual(
    view.steps.find((x) => x.action.startsWith('saved_id = ')),
    { action: 'saved_id = access->iopt_access_list_id' },
  );
  assert.equal(view.steps[view.steps.length - 1].action, 'return 0');
  assert.match(
    view.edits[0],
    /iopt_add_access\(&new_ioas->iopt, access\)` \(line \d+\) fails, undo what came before it \(restore-ioas\)/,
  );
  // every invariant the finding's simulation checks, kept
  assert.deepEqual(view.invariants.map((i) => i.id).sort(), [
    'failure-contract',
    'list-id-consistent',
    'no-deadlock',
    'no-use-after-free',
    'pin-attached',
  ]);
  assert.ok(view.invariants.every((i) => i.holds));
  assert.match(view.stats ?? '', /^\d+ states, \d+ transitions, \d+ ms, exhaustive$/);
  // the diff: the restore on the error path, the saved id, the dropped lock around the callback after the add
  const diff = view.diff.map((l) => l.text);
  assert.ok(diff.includes('--- a/repair/toy_replace_detach_first.c'), diff.slice(0, 3).join('\n'));
  assert.ok(diff.includes('+\t\taccess->ioas = cur;'));
  assert.ok(diff.includes('-\t\tWARN_ON(toy_replace_detach_first(access, cur));'));
  assert.ok(
    diff.indexOf('+\tmutex_unlock(&access->ioas_lock);') > diff.findIndex((l) => l.includes('rc = iopt_add_access(')),
  );
  assert.equal(view.applicable, true);
  assert.ok(
    view.reply?.startsWith(
      `An order that keeps every invariant, checked over ${/over (\d+) states/.exec(view.headline)![1]} states:\n\n--- a/repair/toy_replace_detach_first.c\n`,
    ),
  );
});

it('"Insert into reply" puts the proposal into the composed review reply byte for byte, before its trailers', async () => {
  const view = api.fix.last()?.view;
  assert.ok(view?.reply, 'the previous case found a proposal');
  await vscode.workspace
    .getConfiguration('iommufd.review')
    .update('identity', 'Rui Reviewer <rui@example.net>', vscode.ConfigurationTarget.Global);
  const opened = await vscode.commands.executeCommand<{ name: string }>('iommufd.review.open', file('series-v8.mbox'));
  const session = await vscode.commands.executeCommand<ReviewSession>('iommufd.review.getSession', opened.name);
  const patch = session.series.patches[session.series.patches.length - 1];
  await vscode.commands.executeCommand('iommufd.review.addReviewedBy', { name: opened.name, patchId: patch.id });
  const composed = await vscode.commands.executeCommand<string>('iommufd.review.composeReply', {
    name: opened.name,
    patchId: patch.id,
  });
  assert.match(composed, /\nReviewed-by: Rui Reviewer <rui@example\.net>\n$/);
  const reply = await until(
    'the reply editor',
    () => vscode.window.visibleTextEditors.find((e) => e.document.languageId === 'iommufd-mail')?.document,
  );
  assert.equal(reply.getText(), composed);
  const after = await vscode.commands.executeCommand<string>('iommufd.insertVerifiedFixIntoReply');
  assert.equal(reply.getText(), after);
  const at = after.indexOf(view.reply);
  assert.ok(at > 0, 'the proposal is in the reply byte for byte');
  // the reply as composed is kept around it: its body before, the trailer after
  assert.equal(after.slice(0, at).trimEnd(), composed.slice(0, composed.indexOf('\nReviewed-by:')).trimEnd());
  assert.equal(after.slice(at + view.reply.length), '\nReviewed-by: Rui Reviewer <rui@example.net>\n');
  await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
});

it('applying the verified fix asks first, then edits the file so that the finding is gone', async () => {
  const held = api.fix.last();
  assert.ok(held?.report.edit);
  const doc = await vscode.workspace.openTextDocument(file(TOY));
  await vscode.window.showTextDocument(doc);
  const before = doc.getText();
  // the reviewer's answer to the modal question, given the way a user would: declined once, then accepted
  const win = vscode.window as unknown as { showWarningMessage: (...args: unknown[]) => unknown };
  const original = win.showWarningMessage;
  const asked: string[] = [];
  let answer: string | undefined;
  win.showWarningMessage = (...args: unknown[]) => {
    const modal = (args[1] as { modal?: boolean } | undefined)?.modal === true;
    if (!modal) return original.apply(vscode.window, args);
    asked.push(String(args[0]));
    return Promise.resolve(answer);
  };
  try {
    assert.equal(await vscode.commands.executeCommand('iommufd.applyVerifiedFix'), false);
    assert.equal(doc.getText(), before, 'declined: nothing changed');
    answer = 'Apply';
    assert.equal(await vscode.commands.executeCommand('iommufd.applyVerifiedFix'), true);
  } finally {
    win.showWarningMessage = original;
  }
  assert.deepEqual(asked, [
    'Apply the verified order to toy_replace_detach_first()?',
    'Apply the verified order to toy_replace_detach_first()?',
  ]);
  assert.equal(doc.getText(), held.report.edit.newText);
  await until(
    'the finding gone after the edit',
    () => !ours(doc.uri).some((x) => ruleOf(x) === 'unmap-before-rollback') || undefined,
  );
  await doc.save();
  await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  await vscode.workspace.fs.delete(file('repair'), { recursive: true });
});

export async function run(): Promise<void> {
  // The editor benchmark uses the same module and route (test/bench/editor.bench.ts).
  const benchFile = process.env.IOMMUFD_REVIEW_BENCH_FILE;
  if (benchFile) return runEditorBench(benchFile);
  recordWarnings();
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
  if (failures.length > 0) throw new Error(`${failures.length} extension-host test(s) failed: ${failures.join('; ')}`);
}
