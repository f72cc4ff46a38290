/**
 * One string per document for the engine, and back: file URIs by their path
 * (that is what findings and related locations print), everything else by the
 * full URI string so two untitled buffers never collide.
 */
import * as vscode from 'vscode';

const known = new Map<string, vscode.Uri>();

export function engineKey(uri: vscode.Uri): string {
  const key = uri.scheme === 'file' ? uri.fsPath : uri.toString();
  known.set(key, uri);
  return key;
}

export function uriOfKey(key: string): vscode.Uri {
  const uri = known.get(key);
  if (uri) return uri;
  if (key.startsWith('/') || /^[A-Za-z]:[\\/]/.test(key)) return vscode.Uri.file(key);
  try {
    return vscode.Uri.parse(key, true);
  } catch {
    return vscode.Uri.file(key);
  }
}

/**
 * The user's own documents: on disk, unsaved, or in a virtual workspace
 * (vscode.dev's `vscode-vfs:`, test-web's mount: the scheme of a workspace
 * folder). Never `git:` and other read-only views of them, such as a diff
 * editor's left side, which would double every diagnostic.
 */
export function isUserDocument(uri: vscode.Uri): boolean {
  if (uri.scheme === 'file' || uri.scheme === 'untitled') return true;
  return (vscode.workspace.workspaceFolders ?? []).some((folder) => folder.uri.scheme === uri.scheme);
}
