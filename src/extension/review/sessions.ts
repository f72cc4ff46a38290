/**
 * The open review sessions of the workspace: restored at startup, opened from
 * a patch mail, changed only through the pure functions of src/review/session
 * and saved after every change. Views (tree, comments) listen to onDidChange.
 */
import * as vscode from 'vscode';
import { parseMailDiff } from '../../patch/diff';
import { parseSeries } from '../../patch/series';
import type { SeriesReview } from '../../patch/types';
import { findingsByPatch, reviewSeriesFrom } from '../../review/from-series';
import { openSeriesSession, restoreAll, type OpenResult, type SetAside } from '../../review/open';
import { SessionFile, sessionPath, type StoreFs } from '../../review/store';
import type { ReviewSession } from '../../review/types';
import type { Log } from '../log';
import { workspaceStoreFs } from './workspace-fs';

export interface SessionsDeps {
  log: Log;
  /** The patch layer's review of a mail document (findings), from the patch annotations feature. */
  reviewDocument?: (doc: vscode.TextDocument) => Promise<SeriesReview | undefined>;
}

interface Entry {
  session: ReviewSession;
  file: SessionFile;
  /** The patch last opened or commented: where comments on C files go. */
  currentPatch?: string;
}

export class ReviewSessions implements vscode.Disposable {
  private readonly entries = new Map<string, Entry>();
  private readonly emitter = new vscode.EventEmitter<string | undefined>();
  readonly onDidChange = this.emitter.event;
  /** The session used last: where comments on C files go. */
  private active: string | undefined;

  constructor(
    readonly root: vscode.Uri,
    private readonly deps: SessionsDeps,
    readonly fs: StoreFs = workspaceStoreFs(root),
  ) {}

  dispose(): void {
    this.emitter.dispose();
  }

  all(): ReviewSession[] {
    return [...this.entries.values()].map((e) => e.session);
  }

  get(name: string): ReviewSession | undefined {
    return this.entries.get(name)?.session;
  }

  activeSession(): ReviewSession | undefined {
    return (this.active && this.get(this.active)) || this.all()[0];
  }

  currentPatch(name: string): string | undefined {
    return this.entries.get(name)?.currentPatch;
  }

  setCurrent(name: string, patchId?: string): void {
    const e = this.entries.get(name);
    if (!e) return;
    this.active = name;
    if (patchId) e.currentPatch = patchId;
  }

  /** The mail file of a session: a workspace-relative path, or a full URI for a mail outside the folder. */
  sourceUri(session: ReviewSession): vscode.Uri | undefined {
    const src = session.series.source;
    if (!src) return undefined;
    return /^[a-z][a-z0-9+.-]*:/i.test(src) ? vscode.Uri.parse(src) : vscode.Uri.joinPath(this.root, ...src.split('/'));
  }

  /** The session whose mail file is `uri`. */
  forSource(uri: vscode.Uri): ReviewSession | undefined {
    return this.all().find((s) => this.sourceUri(s)?.toString() === uri.toString());
  }

  /** Workspace-relative path of a file, `/`-separated (what anchors store); a full URI outside the folder. */
  relative(uri: vscode.Uri): string {
    const inside =
      uri.scheme === this.root.scheme &&
      uri.authority === this.root.authority &&
      (uri.path + '/').startsWith(this.root.path.replace(/\/?$/, '/'));
    return inside ? uri.path.slice(this.root.path.replace(/\/?$/, '/').length) : uri.toString();
  }

  async restore(): Promise<void> {
    const r = await restoreAll(this.fs);
    for (const { path, session } of r.sessions)
      this.entries.set(session.series.name, { session, file: new SessionFile(this.fs, path) });
    this.reportSetAside(r.setAside);
    if (r.sessions.length > 0)
      this.deps.log.info(`review sessions restored: ${r.sessions.map((s) => s.session.series.name).join(', ')}`);
    this.emitter.fire(undefined);
  }

  /** Starts or resumes the review of the series in a mail document. */
  async open(doc: vscode.TextDocument, reviewer: string): Promise<OpenResult> {
    const name = doc.uri.path.split('/').pop() || 'series.mbox';
    const text = doc.getText();
    const parsed = await parseSeries(text, name);
    if (parsed.patches.length === 0)
      throw new Error(`${name} has no patch to review${parsed.problems[0] ? `: ${parsed.problems[0].message}` : ''}`);
    const series = {
      ...reviewSeriesFrom(parsed, parsed.patches.map(parseMailDiff), { [name]: text }),
      source: this.relative(doc.uri),
    };
    const review = this.deps.reviewDocument ? await this.deps.reviewDocument(doc) : undefined;
    const findings = review ? findingsByPatch(series, review) : {};
    const result = await openSeriesSession(this.fs, series, reviewer, findings);
    this.reportSetAside(result.setAside);
    const sname = result.session.series.name;
    this.entries.set(sname, { session: result.session, file: new SessionFile(this.fs, sessionPath(sname)) });
    this.active = sname;
    if (result.origin === 'carried' && result.carry) {
      const c = result.carry;
      this.deps.log.info(
        `review ${sname}: carried ${c.carried.threads} thread(s), ${c.carried.dismissals} dismissal(s), ${c.carried.adoptions} adoption(s) from ${result.previousPath}`,
      );
      for (const n of c.notCarried)
        this.deps.log.warn(`review ${sname}: not carried (${n.what}, ${n.patch}): ${n.summary} — ${n.reason}`);
    }
    await this.save(sname);
    this.emitter.fire(sname);
    return result;
  }

  /** Applies a change and saves: every change reaches the disk. */
  async update(name: string, change: (s: ReviewSession) => ReviewSession): Promise<ReviewSession> {
    const e = this.entries.get(name);
    if (!e) throw new Error(`no open review session ${name}`);
    e.session = change(e.session);
    this.active = name;
    this.emitter.fire(name);
    await this.save(name);
    return e.session;
  }

  private async save(name: string): Promise<void> {
    const e = this.entries.get(name);
    if (!e) return;
    try {
      await e.file.save(e.session);
    } catch (err) {
      this.deps.log.error(`could not save review session ${name}`, err);
      void vscode.window.showErrorMessage(
        `iommufd: could not save the review session ${name}: ${(err as Error)?.message ?? err}`,
      );
    }
  }

  private reportSetAside(list: SetAside[]): void {
    for (const x of list) {
      this.deps.log.warn(`review session ${x.path} could not be read (${x.reason}); kept as ${x.movedTo}`);
      void vscode.window.showWarningMessage(
        `iommufd: the review session ${x.path} could not be read (${x.reason}). It was kept as ${x.movedTo}; nothing was overwritten.`,
      );
    }
  }
}
