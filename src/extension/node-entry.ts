/** Desktop and remote (Node) extension host entry. */
import path from 'node:path';
import type * as vscode from 'vscode';
import { openGitRepo } from '../patch/node/git-repo';
import { activateExtension, type ExtensionApi } from './activate';
import { workerRepairRunner } from './node/repair-thread';
import { workerLiveEngine } from './node/engine-thread';

export function activate(context: vscode.ExtensionContext): ExtensionApi {
  return activateExtension(context, 'node', {
    // Patch mails in a git checkout: pre-images from its blobs or the series' base-commit.
    openGit: async (folder) => {
      const opened = await openGitRepo(folder);
      return 'repo' in opened ? opened.repo : undefined;
    },
    // the repair search explores many state spaces: a worker thread, terminated on cancel
    repairRunner: (extensionUri) => workerRepairRunner(path.join(extensionUri.fsPath, 'dist')),
    // parsing and analysis off the host's event loop; the facts index in the extension's global storage
    liveEngine: (ctx) => (config) =>
      workerLiveEngine(path.join(ctx.extensionUri.fsPath, 'dist'), {
        config,
        indexDir: ctx.globalStorageUri.scheme === 'file' ? path.join(ctx.globalStorageUri.fsPath, 'index') : undefined,
      }),
  });
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
