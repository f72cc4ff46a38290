/**
 * Review sessions in VS Code: the tree view, comments, suggestions, per-patch
 * state, the reply editor. Thin: every decision is made in src/review (pure,
 * tested in Node); this file turns commands and editor events into those calls.
 */
import * as vscode from 'vscode';
import type { SeriesReview } from '../../patch/types';
import { composeSessionReply } from '../../report/reply';
import * as S from '../../review/session';
import { patchAtMailLine } from '../../review/diff-lines';
import type { PatchState, ReviewSession, TrailerKind } from '../../review/types';
import type { CommandRegistrar } from '../deferred-features';
import type { Log } from '../log';
import { ReviewComments, ReviewCommentView, type ThreadKey } from './comments';
import { ReviewSessions } from './sessions';
import { ReviewTree, type ReviewNode } from './tree';

/** The commands this feature contributes (package.json `contributes.commands`). */
export const COMMAND_IDS = [
  'iommufd.review.open',
  'iommufd.review.createComment',
  'iommufd.review.editComment',
  'iommufd.review.saveComment',
  'iommufd.review.cancelEdit',
  'iommufd.review.deleteComment',
  'iommufd.review.adopt',
  'iommufd.review.dismiss',
  'iommufd.review.restoreSuggestion',
  'iommufd.review.markNew',
  'iommufd.review.markReviewing',
  'iommufd.review.markDone',
  'iommufd.review.markSkipped',
  'iommufd.review.addReviewedBy',
  'iommufd.review.addAckedBy',
  'iommufd.review.addPatchComment',
  'iommufd.review.composeReply',
  'iommufd.review.reveal',
  'iommufd.review.getSession',
  'iommufd.review.commentAt',
] as const;

export interface ReviewFeatureDeps {
  log: Log;
  registerCommand: CommandRegistrar;
  /** Shows the sessions in the Review Sessions view (whose tree view activation made, before this feature loaded). */
  showTree(tree: vscode.TreeDataProvider<ReviewNode>): vscode.Disposable;
  /** Findings of a patch mail (the patch annotations feature); without it sessions start with no suggestions. */
  patches?: { review(doc: vscode.TextDocument): Promise<SeriesReview | undefined> };
}

export interface ReviewApi {
  sessions: ReviewSessions;
  comments: ReviewComments;
  /** Resolves once the saved sessions of the workspace are loaded. */
  restored: Promise<void>;
}

/** A patch named by a tree item, a drawn comment thread, or `{ name, patchId }` from a test. */
type PatchRef = { name: string; patchId: string };
type SuggestionRef = PatchRef & { fingerprint: string };

const now = (): string => new Date().toISOString();

export function registerReview(context: vscode.ExtensionContext, deps: ReviewFeatureDeps): ReviewApi | undefined {
  const { log } = deps;
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) {
    // Every contributed command still answers, with what to do instead of "command not found".
    for (const id of COMMAND_IDS)
      context.subscriptions.push(
        deps.registerCommand(id, () =>
          vscode.window.showWarningMessage(
            'iommufd: open a folder first; review sessions are saved in its .vscode folder.',
          ),
        ),
      );
    return undefined;
  }
  const sessions = new ReviewSessions(folder.uri, {
    log,
    reviewDocument: deps.patches ? (d) => deps.patches!.review(d) : undefined,
  });
  const comments = new ReviewComments(sessions);
  const tree = new ReviewTree(sessions);
  context.subscriptions.push(sessions, comments, tree, deps.showTree(tree));

  const restored = sessions.restore().catch((e) => log.error('could not restore review sessions', e));

  // Generic in the arguments so each handler keeps its own parameter types (the palette passes none).
  const reg = <A extends unknown[]>(id: string, fn: (...args: A) => unknown): void => {
    context.subscriptions.push(
      deps.registerCommand(id, async (...args: A) => {
        try {
          return await fn(...args);
        } catch (e) {
          const msg = (e as Error)?.message ?? String(e);
          log.error(`${id} failed`, e);
          void vscode.window.showErrorMessage(`iommufd: ${msg}`);
          return undefined;
        }
      }),
    );
  };

  const patchRef = (arg: unknown): PatchRef => {
    if (arg instanceof ReviewCommentView) return arg.key;
    if (arg && typeof arg === 'object' && 'uri' in (arg as object) && 'range' in (arg as object)) {
      const key = comments.keyOf(arg as vscode.CommentThread);
      if (key) return key;
    }
    const a = arg as Partial<PatchRef> | undefined;
    if (a?.name && a.patchId) return { name: a.name, patchId: a.patchId };
    // From the palette: the patch being read in the session used last.
    const s = sessions.activeSession();
    const id = s && (sessions.currentPatch(s.series.name) ?? s.series.patches[0]?.id);
    if (!s || !id) throw new Error('no review session is open');
    return { name: s.series.name, patchId: id };
  };

  const suggestionRef = (arg: unknown): SuggestionRef => {
    const key: ThreadKey | undefined =
      arg instanceof ReviewCommentView
        ? arg.key
        : arg && typeof arg === 'object' && 'uri' in (arg as object)
          ? comments.keyOf(arg as vscode.CommentThread)
          : undefined;
    if (key?.kind === 'suggestion') return key;
    const a = arg as Partial<SuggestionRef> | undefined;
    if (a?.name && a.patchId && a.fingerprint) return { name: a.name, patchId: a.patchId, fingerprint: a.fingerprint };
    throw new Error('choose a suggestion in the Review Sessions view or on its line');
  };

  const reviewer = async (): Promise<string | undefined> => {
    const cfg = vscode.workspace.getConfiguration('iommufd.review');
    const known = cfg.get<string>('identity', '').trim();
    if (known) return known;
    const typed = await vscode.window.showInputBox({
      title: 'Your name and address for review comments and trailers',
      placeHolder: 'Jane Reviewer <jane@example.org>',
      validateInput: (v) => (/^[^<>]+<[^<>@\s]+@[^<>\s]+>$/.test(v.trim()) ? undefined : 'Name <address>'),
    });
    if (!typed) return undefined;
    await cfg.update('identity', typed.trim(), vscode.ConfigurationTarget.Global);
    return typed.trim();
  };

  reg('iommufd.review.open', async (given?: vscode.Uri) => {
    const uri = given instanceof vscode.Uri ? given : vscode.window.activeTextEditor?.document.uri;
    if (!uri) throw new Error('open a patch mail (.mbox, .patch, .eml) first');
    const who = await reviewer();
    if (!who) return undefined;
    const doc = await vscode.workspace.openTextDocument(uri);
    const r = await sessions.open(doc, who);
    const name = r.session.series.name;
    await vscode.window.showTextDocument(doc, { preview: false });
    const what =
      r.origin === 'restored'
        ? 'resumed'
        : r.origin === 'carried'
          ? `carried over from ${r.previousPath} (${r.carry!.notCarried.length} item(s) could not be carried; see the view)`
          : 'started';
    void vscode.window.showInformationMessage(
      `iommufd: review of ${r.session.series.title} v${r.session.series.version} ${what}.`,
    );
    return { name, origin: r.origin, notCarried: r.carry?.notCarried ?? [] };
  });

  reg('iommufd.review.createComment', (reply: vscode.CommentReply) => comments.submit(reply, now()));
  reg('iommufd.review.editComment', (c: ReviewCommentView) => comments.startEdit(c));
  reg('iommufd.review.cancelEdit', (c: ReviewCommentView) => comments.cancelEdit(c));
  reg('iommufd.review.saveComment', (c: ReviewCommentView) => comments.saveEdit(c, now()));
  reg('iommufd.review.deleteComment', (c: ReviewCommentView) => comments.delete(c));

  /** A comment at a line of a file, without the editor's input box (scripts and tests). */
  reg('iommufd.review.commentAt', async (uri: vscode.Uri, line: number, text: string) => {
    const target = comments.placeNew(uri, line - 1);
    if (!target) throw new Error(`no review session has a commentable line ${line} in ${sessions.relative(uri)}`);
    sessions.setCurrent(target.name, target.patchId);
    await sessions.update(target.name, (s) => S.addThread(s, target.patchId, target.anchor, text, now()).session);
    return target;
  });

  reg('iommufd.review.addPatchComment', async (arg?: unknown, text?: string) => {
    const ref = patchRef(arg);
    const body =
      text ?? (await vscode.window.showInputBox({ title: 'Comment on the whole patch (goes below the quoted hunks)' }));
    if (!body) return;
    await sessions.update(ref.name, (s) => S.addThread(s, ref.patchId, { kind: 'patch' }, body, now()).session);
  });

  reg('iommufd.review.adopt', async (arg: unknown) => {
    const ref = suggestionRef(arg);
    await sessions.update(ref.name, (s) => S.adoptSuggestion(s, ref.patchId, ref.fingerprint, now()).session);
  });

  reg('iommufd.review.dismiss', async (arg: unknown, reasonGiven?: string) => {
    const ref = suggestionRef(arg);
    const reason =
      reasonGiven ??
      (await vscode.window.showInputBox({
        title: 'Why dismiss this finding? (remembered, and carried to the next revision)',
        placeHolder: 'false positive: …',
      }));
    if (reason === undefined) return;
    await sessions.update(ref.name, (s) => S.dismissSuggestion(s, ref.patchId, ref.fingerprint, reason));
  });

  reg('iommufd.review.restoreSuggestion', async (arg: unknown) => {
    const ref = suggestionRef(arg);
    await sessions.update(ref.name, (s) => S.restoreSuggestion(s, ref.patchId, ref.fingerprint));
  });

  const STATES: [string, PatchState][] = [
    ['iommufd.review.markNew', 'new'],
    ['iommufd.review.markReviewing', 'reviewing'],
    ['iommufd.review.markDone', 'done'],
    ['iommufd.review.markSkipped', 'skipped'],
  ];
  for (const [id, state] of STATES)
    reg(id, async (arg?: unknown) => {
      const ref = patchRef(arg);
      await sessions.update(ref.name, (s) => S.setPatchState(s, ref.patchId, state));
    });

  const TRAILERS: [string, TrailerKind][] = [
    ['iommufd.review.addReviewedBy', 'Reviewed-by'],
    ['iommufd.review.addAckedBy', 'Acked-by'],
  ];
  for (const [id, kind] of TRAILERS)
    reg(id, async (arg?: unknown) => {
      const ref = patchRef(arg);
      const s = sessions.get(ref.name);
      if (!s) throw new Error(`no open review session ${ref.name}`);
      await sessions.update(ref.name, (x) => S.addTrailer(x, ref.patchId, { kind, who: s.reviewer.identity }));
    });

  /**
   * Which patch a reply from the palette answers: the one under the cursor (in
   * the series' mail, or the patch a C file's comment would join), else the
   * reviewer picks it; never silently the first patch.
   */
  const replyTarget = async (arg: unknown): Promise<PatchRef | undefined> => {
    if (arg !== undefined) return patchRef(arg);
    const editor = vscode.window.activeTextEditor;
    const mail = editor && sessions.forSource(editor.document.uri);
    if (editor && mail) {
      const p = patchAtMailLine(mail.series.patches, editor.document.getText(), editor.selection.active.line + 1);
      if (p) return { name: mail.series.name, patchId: p.id };
    } else if (editor) {
      const placed = comments.placeNew(editor.document.uri, editor.selection.active.line);
      if (placed) return { name: placed.name, patchId: placed.patchId };
    }
    const s = mail ?? sessions.activeSession();
    if (!s) throw new Error('no review session is open: review a patch series first');
    const patches = s.series.patches;
    if (patches.length === 1) return { name: s.series.name, patchId: patches[0].id };
    const current = sessions.currentPatch(s.series.name);
    const items = patches.map((p) => {
      const n = s.reviews[p.id]?.threads.length ?? 0;
      return {
        label: `${p.index}/${p.total}`,
        description: p.subject,
        detail: `${n} comment thread${n === 1 ? '' : 's'}${p.id === current ? ' · the patch you were reading' : ''}`,
        id: p.id,
      };
    });
    const picked = await vscode.window.showQuickPick(items, {
      title: 'Compose a review reply to which patch?',
      placeHolder: 'Put the cursor in a patch of the series to skip this question',
    });
    return picked ? { name: s.series.name, patchId: picked.id } : undefined;
  };

  reg('iommufd.review.composeReply', async (arg?: unknown) => {
    const ref = await replyTarget(arg);
    if (!ref) return undefined;
    const s = sessions.get(ref.name) as ReviewSession;
    const text = composeSessionReply(s, ref.patchId);
    // A reply is mail, not a patch to review: its own language (the patch grammar's colours, no analysis).
    const doc = await vscode.workspace.openTextDocument({ language: 'iommufd-mail', content: text });
    await vscode.window.showTextDocument(doc, { preview: false });
    // Nothing is sent: the reviewer saves the mail for their mailer, or copies it.
    void vscode.window
      .showInformationMessage('iommufd: reply composed. Nothing was sent.', 'Save as .eml…', 'Copy')
      .then(async (choice) => {
        if (choice === 'Copy') await vscode.env.clipboard.writeText(doc.getText());
        if (choice === 'Save as .eml…') {
          const patch = S.patchById(s, ref.patchId);
          const target = await vscode.window.showSaveDialog({
            defaultUri: vscode.Uri.joinPath(folder.uri, `${s.series.name}-${patch.index}-reply.eml`),
            filters: { Mail: ['eml'] },
          });
          if (target) await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(doc.getText()));
        }
      });
    return text;
  });

  reg('iommufd.review.reveal', async (node: ReviewNode) => {
    const s = sessions.get(node.name);
    if (!s || node.kind === 'session' || node.kind === 'not-carried') return;
    sessions.setCurrent(node.name, node.patchId);
    const patch = S.patchById(s, node.patchId);
    const r = s.reviews[node.patchId];
    const anchor =
      node.kind === 'thread'
        ? r.threads.find((t) => t.id === node.threadId)?.anchor
        : node.kind === 'suggestion'
          ? r.suggestions.find((x) => x.fingerprint === node.fingerprint)?.anchor
          : { kind: 'patch' as const };
    const where = anchor && comments.locate(s, patch, anchor);
    if (!where) return;
    const editor = await vscode.window.showTextDocument(where.uri, { preview: true });
    const pos = new vscode.Position(Math.max(0, where.line - 1), 0);
    editor.selection = new vscode.Selection(pos, pos);
    editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  });

  /** The session as saved (for tests and scripts). */
  reg('iommufd.review.getSession', (name?: string) => (name ? sessions.get(name) : sessions.activeSession()));

  return { sessions, comments, restored: restored.then(() => undefined) };
}
