/**
 * The Node hosts' features bundle (dist/extension-features.js, required on
 * first use by node-entry.ts): features.ts with what only Node can do.
 */
import path from 'node:path';
import { openGitRepo } from '../patch/node/git-repo';
import { workerRepairRunner } from '../lsp/repair-thread';
import { registerFeatures as register, type FeatureDeps, type Features } from './features';

export function registerFeatures(deps: FeatureDeps): Features {
  const dist = path.join(deps.context.extensionUri.fsPath, 'dist');
  return register({
    ...deps,
    // Patch mails in a git checkout: pre-images from its blobs or the series' base-commit.
    openGit: async (folder) => {
      const opened = await openGitRepo(folder);
      return 'repo' in opened ? opened.repo : undefined;
    },
    // the repair search explores many state spaces: a worker thread, terminated on cancel
    repairRunner: () => workerRepairRunner(dist),
  });
}
