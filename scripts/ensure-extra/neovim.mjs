// Prerequisite of the language server's editor test (test/unit/lsp/neovim.test.ts):
// Debian's neovim (0.7.2 on bookworm), a real LSP client other than VS Code,
// run headless. Installed with apt like the other Debian prerequisites.
import { spawnSync } from 'node:child_process';

const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

export async function ensure({ ensureApt }) {
  ensureApt(['neovim'], () => onPath('nvim'), 'neovim (the LSP client of the editor test)');
  const which = spawnSync('sh', ['-c', 'command -v nvim'], { encoding: 'utf8' });
  return { IOMMUFD_REVIEW_NVIM: which.stdout.trim() };
}
