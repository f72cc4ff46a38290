/** Browser extension host entry (vscode.dev, github.dev): same core, wasm engine only. */
import type * as vscode from 'vscode';
import { activateExtension, type ExtensionApi } from './activate';

export function activate(context: vscode.ExtensionContext): ExtensionApi {
  return activateExtension(context, 'web');
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
