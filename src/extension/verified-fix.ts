/**
 * "Show a verified fix": the repair search of a finding's function (src/sim/repair)
 * run off the extension host's event loop with a cancellable progress
 * notification, its proposal held for the panel, applied to the file only after
 * the reviewer confirms it, and inserted into the review reply being composed.
 * Every decision is made in src/sim and src/report; this maps it to VS Code.
 */
import * as vscode from 'vscode';
import { insertIntoReply, repairReplyText, repairShortfall } from '../report/repair';
import type { PanelRequest } from '../sim/panel-protocol';
import { viewOfRepair, type RepairPanelView } from '../sim/panel-view';
import { proposeRepair, RepairInputError, type LineReplacement, type RepairReport } from '../sim/repair';
import { engineKey, uriOfKey } from './analysis/paths';
import { loadParser } from './analysis/wasm';
import type { Log } from './log';
import { lineEdits } from '../lsp/to-lsp';
import type { RepairJob, RepairReply, RepairRunner } from '../lsp/repair-job';

/** The mail language the review reply is composed in (src/extension/review). */
const REPLY_LANGUAGE = 'iommufd-mail';

/** The last search: its report, what the panel shows, and the text it was searched on. */
export interface HeldRepair {
  request: PanelRequest;
  report: RepairReport;
  view: RepairPanelView;
  uri: vscode.Uri;
  text: string;
}

export interface VerifiedFixApi {
  /** Searches the request's function; rejects with the reason when it cannot (cancelled: an AbortError). */
  find(request: PanelRequest): Promise<RepairPanelView>;
  /** Stops a running search. */
  cancel(): void;
  /** Applies the held proposal's edit once the reviewer confirms it; true when applied. */
  apply(): Promise<boolean>;
  /** Inserts the held proposal into the reply being composed; the reply's new text, or undefined. */
  insertIntoReply(): Promise<string | undefined>;
  last(): HeldRepair | undefined;
}

/** A browser host has no worker threads here: the search runs in the extension host, bounded by its time budget. */
export function inProcessRepairRunner(extensionUri: vscode.Uri): RepairRunner {
  return async (job: RepairJob, signal: AbortSignal): Promise<RepairReply> => {
    const parser = await loadParser(extensionUri);
    try {
      if (signal.aborted) throw new DOMException('the repair search was cancelled', 'AbortError');
      return { report: proposeRepair({ ...job, parser }) };
    } catch (e) {
      if (e instanceof DOMException) throw e;
      return { error: (e as Error)?.message ?? String(e), input: e instanceof RepairInputError };
    } finally {
      parser.dispose();
    }
  };
}

async function sourceText(uri: vscode.Uri): Promise<string> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open) return open.getText();
  return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
}

/** The reply being composed: a visible mail editor first, else the newest open one. */
function openReply(): vscode.TextDocument | undefined {
  const visible = vscode.window.visibleTextEditors.find(
    (e) => e.document.languageId === REPLY_LANGUAGE && !e.document.isClosed,
  );
  if (visible) return visible.document;
  return [...vscode.workspace.textDocuments].reverse().find((d) => d.languageId === REPLY_LANGUAGE && !d.isClosed);
}

/** Line replacements as one WorkspaceEdit on the document (the same text edits the language server's action sends). */
function editOf(doc: vscode.TextDocument, replacements: readonly LineReplacement[]): vscode.WorkspaceEdit {
  const edit = new vscode.WorkspaceEdit();
  for (const { range: r, newText } of lineEdits(doc.getText(), replacements))
    edit.replace(doc.uri, new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character), newText);
  return edit;
}

export function createVerifiedFix(deps: { log: Log; runner: RepairRunner }): VerifiedFixApi {
  let held: HeldRepair | undefined;
  let running: AbortController | undefined;

  return {
    async find(request) {
      const fn = request.function ?? request.finding?.function;
      const key = request.file ?? request.finding?.file;
      if (request.variant !== 'from-source' || !fn || !key)
        throw new Error(
          'a verified order is searched for a replace helper replayed from its source; this simulation is not one',
        );
      const uri = uriOfKey(key);
      const text = await sourceText(uri);
      const job: RepairJob = {
        // the diff and the reply name the file as the workspace does
        file: vscode.workspace.asRelativePath(uri, false),
        text,
        function: fn,
        threads: request.threads,
        faults: request.faults,
        contract: request.contract,
        ...(request.finding ? { rules: [request.finding.ruleId] } : {}),
      };
      running?.abort();
      const controller = new AbortController();
      running = controller;
      try {
        const reply = await vscode.window.withProgress(
          {
            location: vscode.ProgressLocation.Notification,
            title: `iommufd: searching an order of ${fn}() that keeps every invariant`,
            cancellable: true,
          },
          (_progress, token) => {
            token.onCancellationRequested(() => controller.abort());
            return deps.runner(job, controller.signal);
          },
        );
        if ('error' in reply) throw new Error(reply.error);
        const report = reply.report;
        const view = viewOfRepair(report, { reply: repairReplyText(report), shortfall: repairShortfall(report) });
        deps.log.info(`repair search of ${fn}(): ${view.headline} (${view.search})`);
        held = { request, report, view, uri, text };
        return view;
      } finally {
        if (running === controller) running = undefined;
      }
    },

    cancel() {
      running?.abort();
    },

    async apply() {
      const h = held;
      const edit = h?.report.edit;
      if (!h || !edit || !h.view.applicable) {
        void vscode.window.showInformationMessage(
          'iommufd: there is no verified fix to apply; find a verified order first.',
        );
        return false;
      }
      const doc = await vscode.workspace.openTextDocument(h.uri);
      if (doc.getText() !== h.text) {
        void vscode.window.showWarningMessage(
          `iommufd: ${vscode.workspace.asRelativePath(h.uri, false)} changed since the search; find the verified order again before applying it.`,
        );
        return false;
      }
      // never silently: the reviewer reads what changes and confirms
      const choice = await vscode.window.showWarningMessage(
        `Apply the verified order to ${h.report.function}()?`,
        {
          modal: true,
          detail: `${h.view.edits.map((e, i) => `${i + 1}. ${e}`).join('\n')}\n\nThe edit can be undone.`,
        },
        'Apply',
      );
      if (choice !== 'Apply') return false;
      const applied = await vscode.workspace.applyEdit(editOf(doc, edit.replacements));
      if (applied) await vscode.window.showTextDocument(doc, { preview: false });
      deps.log.info(
        `verified fix of ${h.report.function}() ${applied ? 'applied' : 'not applied'} to ${engineKey(h.uri)}`,
      );
      return applied;
    },

    async insertIntoReply() {
      const suggestion = held?.view.reply;
      if (!suggestion) {
        void vscode.window.showInformationMessage(
          'iommufd: there is no verified proposal to insert; find a verified order first.',
        );
        return undefined;
      }
      let doc = openReply();
      if (!doc) {
        // no reply open yet: compose the one the review session would send, then insert into it
        try {
          await vscode.commands.executeCommand('iommufd.review.composeReply');
        } catch (e) {
          void vscode.window.showWarningMessage(
            `iommufd: compose a review reply first (${(e as Error)?.message ?? e}).`,
          );
          return undefined;
        }
        doc = openReply();
        if (!doc) return undefined;
      }
      const next = insertIntoReply(doc.getText(), suggestion);
      const edit = new vscode.WorkspaceEdit();
      edit.replace(doc.uri, doc.validateRange(new vscode.Range(0, 0, doc.lineCount, 0)), next);
      if (!(await vscode.workspace.applyEdit(edit))) return undefined;
      // the reviewer sees what was put in: the paragraph's first line, revealed
      const column = vscode.window.visibleTextEditors.find((e) => e.document === doc)?.viewColumn;
      const editor = await vscode.window.showTextDocument(doc, {
        preview: false,
        ...(column ? { viewColumn: column } : {}),
      });
      const at = doc.positionAt(Math.max(0, next.indexOf(suggestion.split('\n')[0])));
      editor.selection = new vscode.Selection(at, at);
      editor.revealRange(new vscode.Range(at, at), vscode.TextEditorRevealType.AtTop);
      return doc.getText();
    },

    last: () => held,
  };
}
