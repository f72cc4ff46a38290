/**
 * StoreFs over vscode.workspace.fs, so sessions persist the same way on the
 * desktop, in code-server and in the web host (where Node's fs does not exist).
 * vscode.workspace.fs has no fsync; on a local disk writeFile goes through the
 * host's Node fs and the rename still replaces the file in one step, so a crash
 * leaves the old or the new session (the property the store tests check on Node).
 */
import * as vscode from 'vscode';
import type { StoreFs } from '../../review/store';

export function workspaceStoreFs(root: vscode.Uri): StoreFs {
  const at = (p: string): vscode.Uri => vscode.Uri.joinPath(root, ...p.split('/').filter((x) => x !== '' && x !== '.'));
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const missing = (e: unknown): boolean => e instanceof vscode.FileSystemError && e.code === 'FileNotFound';
  return {
    async readText(p) {
      try {
        return dec.decode(await vscode.workspace.fs.readFile(at(p)));
      } catch (e) {
        if (missing(e)) return undefined;
        throw e;
      }
    },
    async writeTextDurable(p, text) {
      await vscode.workspace.fs.writeFile(at(p), enc.encode(text));
    },
    async rename(from, to) {
      await vscode.workspace.fs.rename(at(from), at(to), { overwrite: true });
    },
    async mkdirp(dir) {
      await vscode.workspace.fs.createDirectory(at(dir));
    },
    async list(dir) {
      try {
        return (await vscode.workspace.fs.readDirectory(at(dir))).map(([name]) => name);
      } catch (e) {
        if (missing(e)) return [];
        throw e;
      }
    },
    async remove(p) {
      try {
        await vscode.workspace.fs.delete(at(p));
      } catch (e) {
        if (!missing(e)) throw e;
      }
    },
  };
}
