/**
 * Review comments through VS Code's comments API: threads on the patch mail's
 * hunk lines and on C lines, replies, edit, delete; pending machine
 * suggestions as read-only threads with Adopt and Dismiss. The session is the
 * truth: after every change the threads of that session are drawn again from it.
 */
import * as vscode from 'vscode';
import { anchorAtPatchLine, hunkPatchLines, patchLineOf } from '../../review/diff-lines';
import { splitSeriesName } from '../../review/open';
import * as S from '../../review/session';
import type { Anchor, ReviewPatch, ReviewSession } from '../../review/types';
import type { ReviewSessions } from './sessions';

export const CONTROLLER_ID = 'iommufd-review';

/** Two session names of the same series (any revision). */
function sameSeries(a: string, b: string): boolean {
  return (splitSeriesName(a)?.stem ?? a) === (splitSeriesName(b)?.stem ?? b);
}

/** What a drawn thread stands for. */
export type ThreadKey =
  | { kind: 'thread'; name: string; patchId: string; threadId: string }
  | { kind: 'suggestion'; name: string; patchId: string; fingerprint: string };

export class ReviewCommentView implements vscode.Comment {
  contextValue = 'iommufd-comment';
  mode = vscode.CommentMode.Preview;
  savedBody: string | vscode.MarkdownString;
  constructor(
    public body: string | vscode.MarkdownString,
    public author: vscode.CommentAuthorInformation,
    readonly key: ThreadKey,
    readonly commentId: string | undefined,
    public label: string | undefined,
    readonly thread: () => vscode.CommentThread | undefined,
  ) {
    this.savedBody = body;
  }
}

function firstPatchLine(patch: ReviewPatch): number {
  const lines = hunkPatchLines(patch);
  return lines.length > 0 ? Math.min(...lines) : 1;
}

export class ReviewComments implements vscode.Disposable {
  readonly controller: vscode.CommentController;
  private readonly drawn = new Map<string, { thread: vscode.CommentThread; key: ThreadKey }[]>();
  private readonly keys = new WeakMap<vscode.CommentThread, ThreadKey>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly sessions: ReviewSessions) {
    this.controller = vscode.comments.createCommentController(CONTROLLER_ID, 'iommufd review');
    this.setRangeProvider();
    this.controller.options = {
      prompt: 'Review comment (goes into the reply mail)',
      placeHolder: 'Comment on this line',
    };
    this.subscriptions.push(
      this.controller,
      sessions.onDidChange((name) => {
        // Revisions of one series decide together which of them shows its C-file comments.
        if (name)
          for (const other of this.sessions.all())
            if (sameSeries(other.series.name, name)) this.draw(other.series.name);
        if (!name) this.drawAll();
        // VS Code asks for commenting ranges only when a provider is set: a mail opened
        // before its review started gets its "+" only when the provider is set again.
        this.setRangeProvider();
      }),
    );
  }

  private setRangeProvider(): void {
    this.controller.commentingRangeProvider = {
      provideCommentingRanges: (doc) => this.commentingRanges(doc),
    };
  }

  dispose(): void {
    for (const list of this.drawn.values()) for (const d of list) d.thread.dispose();
    this.subscriptions.forEach((d) => d.dispose());
  }

  keyOf(thread: vscode.CommentThread): ThreadKey | undefined {
    return this.keys.get(thread);
  }

  /** Drawn threads of a session (for tests and reveal). */
  threadsOf(name: string): { thread: vscode.CommentThread; key: ThreadKey }[] {
    return this.drawn.get(name) ?? [];
  }

  private commentingRanges(doc: vscode.TextDocument): vscode.Range[] {
    const session = this.sessions.forSource(doc.uri);
    if (session)
      return session.series.patches.flatMap((p) => hunkPatchLines(p)).map((l) => new vscode.Range(l - 1, 0, l - 1, 0));
    // Any line of a C file, once a review is under way.
    if ((doc.languageId === 'c' || doc.languageId === 'cpp') && this.sessions.all().length > 0 && doc.lineCount > 0)
      return [new vscode.Range(0, 0, doc.lineCount - 1, 0)];
    return [];
  }

  /** Where an anchor shows: the mail's line for diff anchors, the C file's line for source anchors. */
  locate(session: ReviewSession, patch: ReviewPatch, anchor: Anchor): { uri: vscode.Uri; line: number } | undefined {
    const mail = this.sessions.sourceUri(session);
    if (anchor.kind === 'source') {
      const f = anchor.file;
      const uri = /^[a-z][a-z0-9+.-]*:/i.test(f)
        ? vscode.Uri.parse(f)
        : f.startsWith('/')
          ? vscode.Uri.file(f)
          : vscode.Uri.joinPath(this.sessions.root, ...f.split('/'));
      return { uri, line: anchor.line };
    }
    if (!mail) return undefined;
    if (anchor.kind === 'patch') return { uri: mail, line: firstPatchLine(patch) };
    const line = patchLineOf(patch, anchor);
    return line === undefined ? undefined : { uri: mail, line };
  }

  drawAll(): void {
    for (const name of [...this.drawn.keys()]) if (!this.sessions.get(name)) this.clear(name);
    for (const s of this.sessions.all()) this.draw(s.series.name);
  }

  private clear(name: string): void {
    for (const d of this.drawn.get(name) ?? []) d.thread.dispose();
    this.drawn.delete(name);
  }

  draw(name: string): void {
    this.clear(name);
    const session = this.sessions.get(name);
    if (!session) return;
    const out: { thread: vscode.CommentThread; key: ThreadKey }[] = [];
    const superseded = this.sessions
      .all()
      .some((o) => sameSeries(o.series.name, name) && o.series.version > session.series.version);
    for (const patch of session.series.patches) {
      const review = session.reviews[patch.id];
      const tag = `[${patch.index}/${patch.total}]`;
      for (const t of review.threads) {
        // The checkout holds one revision: a C file shows the comments of the newest open one only.
        if (t.anchor.kind === 'source' && superseded) continue;
        const where = this.locate(session, patch, t.anchor);
        if (!where) continue;
        const key: ThreadKey = { kind: 'thread', name, patchId: patch.id, threadId: t.id };
        const comments = t.comments.map(
          (c) =>
            new ReviewCommentView(
              c.body,
              { name: c.author.replace(/<[^<>]*>\s*$/, '').trimEnd() },
              key,
              c.id,
              c.fromFinding ? 'adopted finding' : c.edited ? 'edited' : undefined,
              () => thread,
            ),
        );
        // The views ask for their thread lazily (`() => thread`), after it exists.
        const thread = this.controller.createCommentThread(
          where.uri,
          new vscode.Range(where.line - 1, 0, where.line - 1, 0),
          comments,
        );
        thread.label = `${tag} review comment`;
        thread.contextValue = 'iommufd-thread';
        thread.canReply = true;
        thread.collapsibleState = vscode.CommentThreadCollapsibleState.Expanded;
        this.keys.set(thread, key);
        out.push({ thread, key });
      }
      for (const sg of review.suggestions) {
        if (sg.state !== 'pending') continue;
        const where = this.locate(session, patch, sg.anchor);
        if (!where) continue;
        const key: ThreadKey = { kind: 'suggestion', name, patchId: patch.id, fingerprint: sg.fingerprint };
        const view = new ReviewCommentView(
          sg.message,
          { name: `iommufd ${sg.ruleId}` },
          key,
          undefined,
          `suggestion, ${sg.confidence} confidence`,
          () => thread,
        );
        view.contextValue = 'iommufd-suggestion-comment';
        const thread = this.controller.createCommentThread(
          where.uri,
          new vscode.Range(where.line - 1, 0, where.line - 1, 0),
          [view],
        );
        thread.label = `${tag} suggestion (private until adopted)`;
        thread.contextValue = 'iommufd-suggestion';
        thread.canReply = false;
        thread.collapsibleState = vscode.CommentThreadCollapsibleState.Collapsed;
        this.keys.set(thread, key);
        out.push({ thread, key });
      }
    }
    this.drawn.set(name, out);
  }

  /** A new thread typed into the editor, or a reply into an existing one. */
  async submit(reply: vscode.CommentReply, now: string): Promise<void> {
    const text = reply.text.trim();
    if (!text) return;
    const key = this.keys.get(reply.thread);
    if (key?.kind === 'thread') {
      await this.sessions.update(key.name, (s) => S.replyInThread(s, key.patchId, key.threadId, text, now).session);
      return;
    }
    const target = this.placeNew(reply.thread.uri, reply.thread.range?.start.line ?? 0);
    // The editor's own draft thread gives way to the one drawn from the session.
    reply.thread.dispose();
    if (!target) {
      void vscode.window.showWarningMessage(
        'iommufd: start a review of the series first (iommufd: Start or Resume Review of This Series).',
      );
      return;
    }
    this.sessions.setCurrent(target.name, target.patchId);
    await this.sessions.update(target.name, (s) => S.addThread(s, target.patchId, target.anchor, text, now).session);
  }

  /** The session, patch and anchor for a new comment at `line0` of `uri`. */
  placeNew(uri: vscode.Uri, line0: number): { name: string; patchId: string; anchor: Anchor } | undefined {
    const mailSession = this.sessions.forSource(uri);
    if (mailSession) {
      for (const p of mailSession.series.patches) {
        const anchor = anchorAtPatchLine(p, line0 + 1);
        if (anchor) return { name: mailSession.series.name, patchId: p.id, anchor };
      }
      return undefined;
    }
    const session = this.sessions.activeSession();
    if (!session) return undefined;
    const file = this.sessions.relative(uri);
    const patch = S.patchForSourceFile(session, file, this.sessions.currentPatch(session.series.name));
    if (!patch) return undefined;
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    const text = doc && line0 < doc.lineCount ? doc.lineAt(line0).text : '';
    return { name: session.series.name, patchId: patch.id, anchor: { kind: 'source', file, line: line0 + 1, text } };
  }

  startEdit(c: ReviewCommentView): void {
    const thread = c.thread();
    if (!thread) return;
    thread.comments = thread.comments.map((x) => {
      if (x === c) (x as ReviewCommentView).mode = vscode.CommentMode.Editing;
      return x;
    });
  }

  cancelEdit(c: ReviewCommentView): void {
    const thread = c.thread();
    if (!thread) return;
    thread.comments = thread.comments.map((x) => {
      if (x === c) {
        c.mode = vscode.CommentMode.Preview;
        c.body = c.savedBody;
      }
      return x;
    });
  }

  async saveEdit(c: ReviewCommentView, now: string): Promise<void> {
    const key = c.key;
    const body = typeof c.body === 'string' ? c.body : c.body.value;
    if (key.kind !== 'thread' || !c.commentId) return;
    const id = c.commentId;
    await this.sessions.update(key.name, (s) => S.editComment(s, key.patchId, id, body, now));
  }

  async delete(c: ReviewCommentView): Promise<void> {
    const key = c.key;
    if (key.kind !== 'thread' || !c.commentId) return;
    const id = c.commentId;
    await this.sessions.update(key.name, (s) => S.deleteComment(s, key.patchId, id));
  }
}
