/**
 * The palette commands (category "iommufd"). Each one is a small adapter:
 * pick inputs with VS Code's UI, call the engine, patch layer, simulator or
 * report layer, show the result.
 */
import * as vscode from 'vscode';
import type { PanelRequest } from '../sim/panel-protocol';
import type { SimContract, SimFault, SimThread, SimVariant } from '../sim/types';
import { toSarif } from '../report/sarif';
import { formatLockGraphMarkdown } from '../report/lock-graph-text';
import type { AnalysisResult } from '../engine/types';
import type { SessionEngines } from './analysis/session-engines';
import type { LiveAnalysis } from './analysis/live-analysis';
import { engineKey } from './analysis/paths';
import type { CommandRegistrar } from './deferred-features';
import type { Log } from './log';
import type { PatchAnnotationsApi } from './patch-annotations';
import { isPatchDocument } from './patch-document';
import type { SimulatorPanelApi } from './simulator-panel';
import type { SimulateArgs } from './to-vscode';
import { readSettings } from './settings';

export interface CommandDeps {
  extensionUri: vscode.Uri;
  version: string;
  /** Fresh in-thread engines (the workspace SARIF export). */
  sessions: SessionEngines;
  /** The live analysis of the open C documents (the lock graph, reanalysis). */
  live: LiveAnalysis;
  patches: PatchAnnotationsApi;
  panel: SimulatorPanelApi;
  log: Log;
  registerCommand: CommandRegistrar;
}

/** The finding's scenario as a panel request. */
export function requestForFinding(a: SimulateArgs): PanelRequest {
  const s = a.scenario;
  return {
    variant: s.variant,
    threads: s.threads.includes('replacer') ? s.threads : ['replacer', ...s.threads],
    faults: s.faults,
    contract: s.contract,
    ...(s.file ? { file: s.file } : {}),
    ...(s.function ? { function: s.function } : {}),
    ...(s.invariant ? { invariant: s.invariant } : {}),
    finding: {
      ruleId: a.ruleId,
      message: a.message,
      file: a.file,
      line: a.line,
      function: a.function,
      related: a.related ?? [],
      ...(s.reason ? { reason: s.reason } : {}),
    },
  };
}

const VARIANT_ITEMS: { label: SimVariant; detail: string }[] = [
  { label: 'v8', detail: 'unmap and detach first, re-attach by ID on failure (rejected in review)' },
  { label: 'merged', detail: 'add the new IOAS first, drop ioas_lock around the unmap callback (as merged)' },
  { label: 'v7', detail: 'add first, but the list id is overwritten before the old one is removed' },
  { label: 'unmap-under-lock', detail: 'the unmap callback called with ioas_lock held' },
];

async function pickSimulation(): Promise<PanelRequest | undefined> {
  const variant = await vscode.window.showQuickPick(VARIANT_ITEMS, {
    title: 'Simulate the replace flow (1/3): variant',
    placeHolder: 'Which replace helper?',
  });
  if (!variant) return undefined;
  const faults = await vscode.window.showQuickPick(
    [
      { label: 'add-access' as SimFault, detail: 'iopt_add_access() on the new IOAS fails', picked: true },
      { label: 'lookup' as SimFault, detail: 'looking up the new IOAS fails' },
      { label: 'reattach' as SimFault, detail: 'the re-attach on the error path fails' },
    ],
    { title: 'Simulate the replace flow (2/3): faults', canPickMany: true },
  );
  if (!faults) return undefined;
  const contract = await vscode.window.showQuickPick(
    [
      { label: 'status-quo' as SimContract, detail: 'a failed replace leaves everything exactly as before' },
      { label: 'usable' as SimContract, detail: 'a failed replace leaves the access attached to a live IOAS' },
    ],
    { title: 'Simulate the replace flow (3/3): failure contract' },
  );
  if (!contract) return undefined;
  const threads: SimThread[] =
    variant.label === 'unmap-under-lock' ? ['replacer', 'driver', 'user-unmap'] : ['replacer', 'driver'];
  return { variant: variant.label, threads, faults: faults.map((f) => f.label), contract: contract.label };
}

/** Simulate command arguments: a panel request given directly (tests, links) or picked. */
function isRequest(x: unknown): x is PanelRequest {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as PanelRequest).variant === 'string' &&
    Array.isArray((x as PanelRequest).threads)
  );
}

export function registerCommands(context: vscode.ExtensionContext, deps: CommandDeps): void {
  const { sessions, live, patches, panel, log } = deps;
  // Generic in the arguments so each handler keeps its own parameter types (the palette passes none).
  const reg = <A extends unknown[]>(id: string, fn: (...args: A) => unknown): void => {
    context.subscriptions.push(deps.registerCommand(id, fn));
  };

  reg('iommufd.simulate', async (given?: unknown) => {
    const request = isRequest(given) ? given : await pickSimulation();
    if (request) await panel.show(request);
    return request;
  });

  reg('iommufd.simulateFinding', async (args?: SimulateArgs) => {
    if (!args?.scenario) {
      void vscode.window.showInformationMessage(
        'iommufd: put the cursor on a finding, or use "Simulate the Replace Flow…"',
      );
      return undefined;
    }
    const request = requestForFinding(args);
    await panel.show(request);
    return request;
  });

  reg('iommufd.showLog', () => log.show());

  reg('iommufd.reanalyze', async () => {
    live.reanalyze();
    await live.settled();
  });

  reg('iommufd.reviewSeries', async (given?: vscode.Uri) => {
    let uri = given instanceof vscode.Uri ? given : undefined;
    const active = vscode.window.activeTextEditor?.document;
    if (!uri && active && isPatchDocument(active)) uri = active.uri;
    if (!uri) {
      const picked = await vscode.window.showOpenDialog({
        title: 'Review a patch series',
        canSelectMany: false,
        filters: { 'Patch mail': ['mbox', 'patch', 'diff', 'eml'] },
      });
      uri = picked?.[0];
    }
    if (!uri) return undefined;
    const doc = await vscode.workspace.openTextDocument(uri);
    const shown =
      doc.languageId === 'iommufd-patch' ? doc : await vscode.languages.setTextDocumentLanguage(doc, 'iommufd-patch');
    await vscode.window.showTextDocument(shown, { preview: false });
    const review = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `iommufd: reviewing ${vscode.workspace.asRelativePath(uri)}`,
      },
      () => patches.review(shown),
    );
    if (review) {
      const n = review.patches.reduce((k, p) => k + p.findings.filter((f) => f.status === 'introduced').length, 0);
      void vscode.window.showInformationMessage(
        `iommufd: ${review.series.title || 'series'}: ${review.patches.length} patch(es), ${n} finding(s) introduced.`,
      );
    }
    return review;
  });

  reg('iommufd.exportSarif', async (target?: vscode.Uri) => {
    const active = vscode.window.activeTextEditor?.document;
    let result: AnalysisResult | undefined;
    let suggested = 'iommufd-review.sarif';
    if (active && isPatchDocument(active)) {
      const review = patches.lastReview(active.uri) ?? (await patches.review(active));
      if (!review) return undefined;
      result = {
        findings: review.patches.flatMap((p) => p.findings),
        lockGraph: { edges: [] },
        coverage: { files: 0, functions: { parsed: 0, partial: 0, skipped: 0 }, entries: [], problems: [] },
      };
      suggested = `${active.uri.path.split('/').pop()}.sarif`;
    } else {
      result = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: 'iommufd: analysing the workspace for SARIF',
          cancellable: true,
        },
        async (progress, token) => {
          const files = await vscode.workspace.findFiles(
            '**/*.{c,h}',
            '**/{node_modules,.git}/**',
            Math.max(1, readSettings().maxWorkspaceFiles),
          );
          const session = (await sessions.sessionFactory())();
          try {
            for (const [i, uri] of files.entries()) {
              if (token.isCancellationRequested) return undefined;
              progress.report({ message: vscode.workspace.asRelativePath(uri), increment: 100 / files.length });
              const bytes = await vscode.workspace.fs.readFile(uri);
              if (bytes.byteLength <= readSettings().maxFileBytes)
                session.setFile(engineKey(uri), new TextDecoder().decode(bytes));
              if (i % 20 === 19) await new Promise((r) => setTimeout(r, 0));
            }
            return session.analyze({ minConfidence: readSettings().minConfidence });
          } finally {
            session.dispose();
          }
        },
      );
      if (!result) return undefined;
    }
    const log = toSarif(result, {
      toolVersion: deps.version,
      docsBaseUri: vscode.Uri.joinPath(deps.extensionUri, 'docs', 'engine.md').toString(),
    });
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const dest =
      target instanceof vscode.Uri
        ? target
        : await vscode.window.showSaveDialog({
            title: 'Export SARIF',
            defaultUri: folder ? vscode.Uri.joinPath(folder, suggested) : undefined,
            filters: { SARIF: ['sarif', 'json'] },
          });
    if (!dest) return undefined;
    await vscode.workspace.fs.writeFile(dest, new TextEncoder().encode(JSON.stringify(log, null, 2)));
    void vscode.window.showInformationMessage(
      `iommufd: ${result.findings.length} finding(s) written to ${vscode.workspace.asRelativePath(dest)}`,
    );
    return dest;
  });

  reg('iommufd.showLockGraph', async () => {
    const graph = await live.lockGraph();
    if (!graph) {
      void vscode.window.showInformationMessage(
        'iommufd: open a C file first; the lock graph is built from the analysed files.',
      );
      return undefined;
    }
    const doc = await vscode.workspace.openTextDocument({
      language: 'markdown',
      content: formatLockGraphMarkdown(graph, (f) => vscode.workspace.asRelativePath(f)),
    });
    await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
    return doc;
  });
}
