/** Desktop and remote (Node) extension host entry. */
import type * as vscode from 'vscode';
import { activateExtension, type ExtensionApi } from './activate';

export function activate(context: vscode.ExtensionContext): ExtensionApi {
  return activateExtension(context, 'node');
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
