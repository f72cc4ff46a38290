/**
 * The simulator panel's host: one webview panel, reused; runs the simulator in
 * the extension host (it is fast and deterministic) and posts the result; opens
 * source lines the UI asks for; restored after a reload (through the serializer
 * activate.ts registers) from the request the UI persisted.
 */
import * as vscode from 'vscode';
import { simulate } from '../sim';
import type { FunctionModel } from '../engine/model/types';
import { simulateFinding } from '../sim/finding';
import { viewOfFinding, viewOfResult } from '../sim/panel-view';
import type { SimulationRequest, SourceStep } from '../sim/types';
import {
  validateRequest,
  type HostMessage,
  type PanelRequest,
  type PanelState,
  type UiMessage,
} from '../sim/panel-protocol';
import type { Log } from './log';
import { SIMULATOR_VIEW_TYPE } from './view-ids';
import { uriOfKey } from './analysis/paths';
import type { RepairPanelView } from '../sim/panel-view';
import type { VerifiedFixApi } from './verified-fix';

export interface SimulatorDeps {
  extensionUri: vscode.Uri;
  log: Log;
  /** The step list of a function, for `from-source` (throws with a reason when there is none). */
  stepsFromSource(file: string, fn: string): Promise<SourceStep[]>;
  /** The engine's model of the file a finding's function is in (its same-file helpers are walked inline). */
  sourceModel(file: string, fn: string): Promise<{ functions: FunctionModel[] } | undefined>;
  /** The repair search behind "Find a verified order" and the proposal's actions. */
  fix: VerifiedFixApi;
}

export interface SimulatorPanelApi {
  show(request: PanelRequest): Promise<void>;
  /** A panel VS Code restores after a reload, with the state the UI persisted (activate.ts registers the serializer). */
  restore(panel: vscode.WebviewPanel, state: unknown): void;
  /** "Find a verified order" for the request shown: the proposal's view, undefined when it could not run (the panel says why). */
  findRepair(): Promise<RepairPanelView | undefined>;
  /** The last message posted to the UI (tests read it). */
  lastMessage(): HostMessage | undefined;
  /** Messages received from the UI, in order (tests read them). */
  received(): readonly UiMessage[];
}

function nonce(): string {
  const bytes = new Uint8Array(24);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function panelHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const n = nonce();
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'webview.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'webview.css'));
  // No inline script, no remote content; every string from a trace is put in by the script as text.
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${webview.cspSource}; img-src ${webview.cspSource}; font-src ${webview.cspSource}; script-src 'nonce-${n}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style.toString()}">
<title>iommufd simulator</title>
</head>
<body>
<main id="app" aria-live="polite"></main>
<script nonce="${n}" src="${script.toString()}"></script>
</body>
</html>`;
}

export function createSimulatorPanel(deps: SimulatorDeps): SimulatorPanelApi {
  let panel: vscode.WebviewPanel | undefined;
  let current: PanelRequest | undefined;
  let last: HostMessage | undefined;
  const received: UiMessage[] = [];

  const post = (m: HostMessage): void => {
    last = m;
    void panel?.webview.postMessage(m);
  };

  const run = async (request: PanelRequest): Promise<void> => {
    current = request;
    post({ type: 'running', request });
    try {
      const f = request.finding;
      if (f?.related) {
        // a finding: its own witness replayed (simulateFinding picks the model its scenario names)
        const fn = request.function ?? f.function ?? '';
        const model =
          request.variant === 'from-source' ? await deps.sourceModel(request.file ?? f.file, fn) : undefined;
        const scenario = {
          variant: request.variant,
          threads: request.threads,
          faults: request.faults,
          contract: request.contract,
          ...(request.file ? { file: request.file } : {}),
          ...(request.function ? { function: request.function } : {}),
          ...(request.invariant ? { invariant: request.invariant } : {}),
          ...(f.reason ? { reason: f.reason } : {}),
        };
        const simulation = simulateFinding(
          {
            ruleId: f.ruleId,
            function: fn,
            file: f.file,
            line: f.line,
            message: f.message,
            related: f.related,
            scenario,
          },
          model,
        );
        deps.log.info(
          `simulated the ${f.ruleId} finding at ${f.file}:${f.line} (${simulation.kind}): ${simulation.headline}`,
        );
        if (current === request) post({ type: 'result', request, view: viewOfFinding(simulation), simulation });
        // a panel reloaded (hidden, or the window reloaded) shows the proposal it had found again
        const held = deps.fix.last();
        if (held && held.request === request && current === request)
          post({ type: 'repair', request, repair: held.view });
        return;
      }
      if (request.variant === 'lock-model' || request.variant === 'none')
        throw new Error(`${request.variant} needs the finding it simulates`);
      const req: SimulationRequest = {
        variant: request.variant,
        threads: request.threads,
        faults: request.faults,
        contract: request.contract,
      };
      if (request.variant === 'from-source')
        req.steps = await deps.stepsFromSource(request.file ?? '', request.function ?? '');
      const result = simulate(req);
      deps.log.info(
        `simulated ${request.variant}${request.function ? ` (${request.function})` : ''}: ${result.states} states in ${result.elapsedMs} ms; broken: ${
          result.invariants
            .filter((i) => !i.holds)
            .map((i) => i.id)
            .join(', ') || 'none'
        }`,
      );
      if (current === request) post({ type: 'result', request, view: viewOfResult(result, request.invariant), result });
    } catch (e) {
      const message = (e as Error)?.message ?? String(e);
      deps.log.warn(`simulation failed: ${message}`);
      if (current === request) post({ type: 'error', request, message });
    }
  };

  const findRepair = async (): Promise<RepairPanelView | undefined> => {
    const request = current;
    if (!request) return undefined;
    post({ type: 'repairRunning', request });
    try {
      const repair = await deps.fix.find(request);
      if (current === request) post({ type: 'repair', request, repair });
      return repair;
    } catch (e) {
      const cancelled = (e as Error)?.name === 'AbortError';
      const message = cancelled ? 'the search was cancelled' : ((e as Error)?.message ?? String(e));
      if (!cancelled) deps.log.warn(`repair search failed: ${message}`);
      if (current === request) post({ type: 'repairError', request, message });
      return undefined;
    }
  };

  const attach = (p: vscode.WebviewPanel): void => {
    panel = p;
    p.webview.options = { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(deps.extensionUri, 'media')] };
    p.webview.html = panelHtml(p.webview, deps.extensionUri);
    p.onDidDispose(() => {
      if (panel === p) panel = undefined;
    });
    p.webview.onDidReceiveMessage(async (raw: unknown) => {
      const m = raw as UiMessage;
      if (!m || typeof m !== 'object') return;
      received.push(m);
      if (m.type === 'ready' && current) await run(current);
      else if (m.type === 'run') {
        const request = validateRequest(m.request);
        if (typeof request === 'string')
          post({ type: 'error', request: current ?? (m.request as PanelRequest), message: request });
        else await run(request);
      } else if (m.type === 'findRepair') await findRepair();
      else if (m.type === 'cancelRepair') deps.fix.cancel();
      else if (m.type === 'applyRepair') await deps.fix.apply();
      else if (m.type === 'insertRepair') await deps.fix.insertIntoReply();
      else if (m.type === 'openSource' && typeof m.file === 'string' && typeof m.line === 'number') {
        const line = Math.max(0, Math.floor(m.line) - 1);
        try {
          // following the selected step keeps the panel focused; a click on a link moves to the editor
          await vscode.window.showTextDocument(uriOfKey(m.file), {
            selection: new vscode.Range(line, 0, line, 0),
            viewColumn: vscode.ViewColumn.One,
            preview: true,
            preserveFocus: m.follow === true,
          });
        } catch (e) {
          void vscode.window.showWarningMessage(`iommufd: cannot open ${m.file}: ${(e as Error)?.message ?? e}`);
        }
      }
    });
  };

  return {
    restore(p, state) {
      const request = validateRequest((state as PanelState | undefined)?.request);
      current =
        typeof request === 'string'
          ? { variant: 'v8', threads: ['replacer', 'driver'], faults: ['add-access'], contract: 'status-quo' }
          : request;
      attach(p);
    },
    async show(request) {
      if (panel) panel.reveal(vscode.ViewColumn.Beside, false);
      else
        attach(
          vscode.window.createWebviewPanel(
            SIMULATOR_VIEW_TYPE,
            'iommufd Simulator',
            { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false },
            {
              enableScripts: true,
              retainContextWhenHidden: false,
              localResourceRoots: [vscode.Uri.joinPath(deps.extensionUri, 'media')],
            },
          ),
        );
      current = request;
      // The UI sends 'ready' once loaded and gets the result then; a loaded UI gets it now.
      await run(request);
    },
    findRepair,
    lastMessage: () => last,
    received: () => received,
  };
}
