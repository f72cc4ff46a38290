/**
 * The Review Sessions view: series → patches → comment threads and machine
 * suggestions, plus what could not be carried from the previous revision.
 * Items carry `name`/`patchId` so the same commands work from the tree and
 * from the command line of tests (`executeCommand(id, { name, patchId })`).
 */
import * as vscode from 'vscode';
import { patchTitle } from '../../review/carry-over';
import type { Anchor, PatchState, ReviewSession } from '../../review/types';
import type { ReviewSessions } from './sessions';

export type ReviewNode =
  | { kind: 'session'; name: string }
  | { kind: 'patch'; name: string; patchId: string }
  | { kind: 'thread'; name: string; patchId: string; threadId: string }
  | { kind: 'suggestion'; name: string; patchId: string; fingerprint: string }
  | { kind: 'not-carried'; name: string; index?: number };

const STATE_ICON: Record<PatchState, string> = {
  new: 'circle-outline',
  reviewing: 'eye',
  done: 'pass',
  skipped: 'debug-step-over',
};

function where(a: Anchor): string {
  if (a.kind === 'patch') return 'whole patch';
  return `${a.file.split('/').pop()}:${a.line}${a.kind === 'diff' && a.side === 'old' ? ' (removed)' : ''}`;
}

export class ReviewTree implements vscode.TreeDataProvider<ReviewNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<ReviewNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly sub: vscode.Disposable;

  constructor(private readonly sessions: ReviewSessions) {
    this.sub = sessions.onDidChange(() => this.emitter.fire(undefined));
  }

  dispose(): void {
    this.sub.dispose();
    this.emitter.dispose();
  }

  getChildren(node?: ReviewNode): ReviewNode[] {
    if (!node) return this.sessions.all().map((s) => ({ kind: 'session', name: s.series.name }));
    const s = this.sessions.get(node.name);
    if (!s) return [];
    if (node.kind === 'session') {
      const out: ReviewNode[] = s.series.patches.map((p) => ({ kind: 'patch', name: node.name, patchId: p.id }));
      if (s.notCarried && s.notCarried.length > 0) out.push({ kind: 'not-carried', name: node.name });
      return out;
    }
    if (node.kind === 'not-carried' && node.index === undefined)
      return (s.notCarried ?? []).map((_, i) => ({ kind: 'not-carried', name: node.name, index: i }));
    if (node.kind === 'patch') {
      const r = s.reviews[node.patchId];
      return [
        ...r.threads.map((t): ReviewNode => ({
          kind: 'thread',
          name: node.name,
          patchId: node.patchId,
          threadId: t.id,
        })),
        ...r.suggestions
          .filter((x) => x.state !== 'adopted')
          .map((x): ReviewNode => ({
            kind: 'suggestion',
            name: node.name,
            patchId: node.patchId,
            fingerprint: x.fingerprint,
          })),
      ];
    }
    return [];
  }

  getTreeItem(node: ReviewNode): vscode.TreeItem {
    const s = this.sessions.get(node.name) as ReviewSession;
    const C = vscode.TreeItemCollapsibleState;
    switch (node.kind) {
      case 'session': {
        const item = new vscode.TreeItem(`${s.series.title} (v${s.series.version})`, C.Expanded);
        const done = Object.values(s.reviews).filter((r) => r.state === 'done').length;
        item.description = `${done}/${s.series.patches.length} done`;
        item.contextValue = 'iommufd-review-session';
        item.iconPath = new vscode.ThemeIcon('git-pull-request');
        item.tooltip = s.series.source
          ? `From ${s.series.source}; saved in .vscode/iommufd-review/${s.series.name}.json`
          : undefined;
        return item;
      }
      case 'patch': {
        const p = s.series.patches.find((x) => x.id === node.patchId)!;
        const r = s.reviews[p.id];
        const pending = r.suggestions.filter((x) => x.state === 'pending').length;
        const item = new vscode.TreeItem(
          `${p.index}/${p.total} ${patchTitle(p.subject)}`,
          r.threads.length + r.suggestions.length > 0 ? C.Expanded : C.None,
        );
        const bits = [
          r.state,
          r.threads.length ? `${r.threads.length} comment(s)` : '',
          pending ? `${pending} suggestion(s)` : '',
          ...r.trailers.map((t) => t.kind),
        ];
        item.description = bits.filter(Boolean).join(' · ');
        item.contextValue = `iommufd-review-patch-${r.state}`;
        item.iconPath = new vscode.ThemeIcon(STATE_ICON[r.state]);
        item.tooltip = `${p.subject}\n${p.messageId ?? p.id}`;
        item.command = { command: 'iommufd.review.reveal', title: 'Open', arguments: [node] };
        return item;
      }
      case 'thread': {
        const t = s.reviews[node.patchId].threads.find((x) => x.id === node.threadId)!;
        const first = t.comments[0];
        const item = new vscode.TreeItem((first?.body ?? '').split('\n')[0], C.None);
        item.description = `${where(t.anchor)}${t.comments.length > 1 ? ` · ${t.comments.length} comments` : ''}${first?.fromFinding ? ' · adopted' : ''}`;
        item.contextValue = 'iommufd-review-thread';
        item.iconPath = new vscode.ThemeIcon('comment');
        item.tooltip = t.comments.map((c) => c.body).join('\n\n');
        item.command = { command: 'iommufd.review.reveal', title: 'Show', arguments: [node] };
        return item;
      }
      case 'suggestion': {
        const x = s.reviews[node.patchId].suggestions.find((y) => y.fingerprint === node.fingerprint)!;
        const item = new vscode.TreeItem(
          x.state === 'dismissed' ? `dismissed: ${x.reason || 'no reason given'}` : x.message,
          C.None,
        );
        item.description = `${x.ruleId} · ${x.confidence} · ${where(x.anchor)}`;
        item.contextValue = `iommufd-review-suggestion-${x.state}`;
        item.iconPath = new vscode.ThemeIcon(x.state === 'dismissed' ? 'close' : 'lightbulb');
        item.tooltip = x.message;
        item.command = { command: 'iommufd.review.reveal', title: 'Show', arguments: [node] };
        return item;
      }
      case 'not-carried': {
        if (node.index === undefined) {
          const item = new vscode.TreeItem(
            `Not carried from the previous revision (${s.notCarried?.length ?? 0})`,
            C.Collapsed,
          );
          item.iconPath = new vscode.ThemeIcon('warning');
          return item;
        }
        const n = s.notCarried![node.index];
        const item = new vscode.TreeItem(n.summary, C.None);
        item.description = `${n.what} · ${n.patch}`;
        item.tooltip = n.reason;
        item.iconPath = new vscode.ThemeIcon('circle-slash');
        return item;
      }
    }
  }
}
