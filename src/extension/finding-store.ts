/**
 * The findings currently shown, per document URI: diagnostics, code lenses,
 * hovers and code actions all read the same list so they never disagree.
 */
import * as vscode from 'vscode';
import type { Finding } from '../engine/types';
import type { PatchFinding } from '../patch/types';

/** A finding as shown in one document, at `line` (1-based) of that document. */
export interface ShownFinding {
  finding: Finding | PatchFinding;
  line: number;
  column: number;
}

export class FindingStore implements vscode.Disposable {
  private readonly byUri = new Map<string, ShownFinding[]>();
  private readonly emitter = new vscode.EventEmitter<vscode.Uri | undefined>();
  readonly onDidChange = this.emitter.event;

  set(uri: vscode.Uri, shown: ShownFinding[]): void {
    if (shown.length === 0) this.byUri.delete(uri.toString());
    else this.byUri.set(uri.toString(), shown);
    this.emitter.fire(uri);
  }

  get(uri: vscode.Uri): ShownFinding[] {
    return this.byUri.get(uri.toString()) ?? [];
  }

  atLine(uri: vscode.Uri, line0: number): ShownFinding[] {
    return this.get(uri).filter((s) => s.line - 1 === line0);
  }

  all(): ShownFinding[] {
    return [...this.byUri.values()].flat();
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
