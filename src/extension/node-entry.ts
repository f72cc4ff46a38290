/** Desktop and remote (Node) extension host entry. */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as vscode from 'vscode';
import { activateExtension, type ExtensionApi } from './activate';
import type { FeaturesModule } from './deferred-features';
import type * as NodeClient from './node-client';

export function activate(context: vscode.ExtensionContext): ExtensionApi {
  const dist = path.join(context.extensionUri.fsPath, 'dist');
  // The extension's other Node bundles, beside this one (scripts/build.mjs): loaded when first needed.
  const requireBundle = (name: string): unknown => createRequire(__filename)(path.join(dist, name));
  // The language server's current process (a restart after a crash makes a new one).
  let serverProcess: ChildProcess | undefined;
  return activateExtension(context, 'node', {
    // Its own bundle (node-features.ts), required on first use: a C file's diagnostics never load it.
    features: () => requireBundle('extension-features.js') as FeaturesModule,
    serverPid: () =>
      serverProcess && serverProcess.exitCode === null && serverProcess.signalCode === null
        ? serverProcess.pid
        : undefined,
    // The analysis of the open C documents: the language server in a Node child process, over its stdio,
    // started again by the client if it dies. Each start reads the trust state and the index folder afresh.
    languageClient: (ctx) => {
      const startServer = (): ChildProcess => {
        const args = ['--stdio'];
        if (ctx.globalStorageUri.scheme === 'file') {
          args.push('--index', path.join(ctx.globalStorageUri.fsPath, 'index'));
          // lsp-start.js runs lsp-server.js through V8's code cache, kept there too: later starts compile less
          args.push('--code-cache', path.join(ctx.globalStorageUri.fsPath, 'code-cache'));
        }
        // an untrusted workspace's configuration file is not read: built-in knowledge only
        if (!vscode.workspace.isTrusted) args.push('--no-config');
        return fork(path.join(dist, 'lsp-start.js'), args, { stdio: 'pipe', execArgv: [] });
      };
      // The first process is started now, at activation: it loads its bundle while the client is made.
      let first: ChildProcess | undefined = startServer();
      return async (options) => {
        const { LanguageClient } = requireBundle('language-client.js') as typeof NodeClient;
        return new LanguageClient(
          'iommufd',
          'iommufd review',
          async () => {
            const child = first ?? startServer();
            first = undefined;
            serverProcess = child;
            return child;
          },
          options,
        );
      };
    },
  });
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
