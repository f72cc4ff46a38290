/** The workspace folder as the patch layer's base tree, read through workspace.fs (works on virtual file systems too). */
import * as vscode from 'vscode';
import type { TreeReader } from '../patch/tree';

export function workspaceTree(folder: vscode.Uri): TreeReader {
  const at = (rel: string) => vscode.Uri.joinPath(folder, ...rel.split('/').filter(Boolean));
  return {
    async readFile(rel) {
      try {
        return await vscode.workspace.fs.readFile(at(rel));
      } catch {
        return undefined;
      }
    },
    async listDir(dir) {
      try {
        return (await vscode.workspace.fs.readDirectory(at(dir))).map(([name]) => name);
      } catch {
        return [];
      }
    },
  };
}
