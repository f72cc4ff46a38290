/**
 * Browser extension host entry (vscode.dev, github.dev): the same core; the
 * language server runs in a Web Worker (dist/web/lsp-server.js) and reads
 * files through the extension (server-files.ts).
 */
import * as vscode from 'vscode';
import { LanguageClient } from 'vscode-languageclient/browser';
import { activateExtension, type ExtensionApi } from './activate';
import { answerFileRequests } from './server-files';

export function activate(context: vscode.ExtensionContext): ExtensionApi {
  return activateExtension(context, 'web', {
    languageClient: (ctx) => (options) => {
      const worker = new Worker(vscode.Uri.joinPath(ctx.extensionUri, 'dist', 'web', 'lsp-server.js').toString(true));
      const client = new LanguageClient('iommufd', 'iommufd review', options, worker);
      answerFileRequests(client, ctx.extensionUri);
      return client;
    },
  });
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
