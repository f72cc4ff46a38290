/**
 * Browser extension host entry (vscode.dev, github.dev): the same core; the
 * language server runs in a Web Worker (dist/web/lsp-server.js) and reads
 * files through the extension (server-files.ts).
 */
import * as vscode from 'vscode';
import { activateExtension, type ExtensionApi } from './activate';
import * as features from './features';
import { answerFileRequests } from './server-files';

export function activate(context: vscode.ExtensionContext): ExtensionApi {
  return activateExtension(context, 'web', {
    // one bundle in the browser: the features are in it, registered on first use all the same
    features: () => features,
    languageClient: (ctx) => async (options) => {
      const { LanguageClient } = await import('vscode-languageclient/browser');
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
