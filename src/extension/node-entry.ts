/** Desktop and remote (Node) extension host entry. */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient } from 'vscode-languageclient/node';
import { openGitRepo } from '../patch/node/git-repo';
import { activateExtension, type ExtensionApi } from './activate';
import { workerRepairRunner } from '../lsp/repair-thread';

export function activate(context: vscode.ExtensionContext): ExtensionApi {
  const dist = path.join(context.extensionUri.fsPath, 'dist');
  // The language server's current process (a restart after a crash makes a new one).
  let serverProcess: ChildProcess | undefined;
  return activateExtension(context, 'node', {
    // Patch mails in a git checkout: pre-images from its blobs or the series' base-commit.
    openGit: async (folder) => {
      const opened = await openGitRepo(folder);
      return 'repo' in opened ? opened.repo : undefined;
    },
    // the repair search explores many state spaces: a worker thread, terminated on cancel
    repairRunner: () => workerRepairRunner(dist),
    serverPid: () =>
      serverProcess && serverProcess.exitCode === null && serverProcess.signalCode === null
        ? serverProcess.pid
        : undefined,
    // The analysis of the open C documents: the language server in a Node child process, over its stdio,
    // started again by the client if it dies. Each start reads the trust state and the index folder afresh.
    languageClient: (ctx) => (options) =>
      new LanguageClient(
        'iommufd',
        'iommufd review',
        async () => {
          const args = ['--stdio'];
          if (ctx.globalStorageUri.scheme === 'file')
            args.push('--index', path.join(ctx.globalStorageUri.fsPath, 'index'));
          // an untrusted workspace's configuration file is not read: built-in knowledge only
          if (!vscode.workspace.isTrusted) args.push('--no-config');
          const child = fork(path.join(dist, 'lsp-server.js'), args, { stdio: 'pipe', execArgv: [] });
          serverProcess = child;
          return child;
        },
        options,
      ),
  });
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
