/**
 * Child process of the crash test: saves ever newer generations of a big
 * session to one file, forever, printing each generation once it is on disk.
 * The test kills it with SIGKILL at a random moment.
 * Usage: node crash-writer.js ROOT RELATIVE-PATH FIRST-GENERATION [naive|delete-then-move]
 * `naive` writes straight over the file (no temp, no rename): the control
 * that shows the kills do tear files that are not written atomically.
 * `delete-then-move` renames the way vscode.workspace.fs does with `overwrite`:
 * the target is deleted, then the temporary file moved; not atomic on its own.
 */
import { nodeStoreFs } from '../../../src/review/node-fs';
import { saveSession, serializeSession, type StoreFs } from '../../../src/review/store';
import { bigSession } from './big-session';

async function main(): Promise<void> {
  const [root, rel, first, mode] = process.argv.slice(2);
  const node = nodeStoreFs(root);
  const fs: StoreFs =
    mode === 'delete-then-move'
      ? {
          ...node,
          async rename(from, to) {
            await node.remove(to);
            // In VS Code the delete and the move are separate requests to the file service:
            // a window of milliseconds, widened here so the kills land in it.
            await new Promise((r) => setTimeout(r, 20));
            await node.rename(from, to);
          },
        }
      : node;
  for (let g = Number(first); ; g++) {
    if (mode === 'naive') await node.writeTextDurable(rel, serializeSession(bigSession(g)));
    else await saveSession(fs, rel, bigSession(g));
    process.stdout.write(`saved ${g}\n`);
  }
}

void main();
