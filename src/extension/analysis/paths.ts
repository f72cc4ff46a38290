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
