/**
 * Child process of the crash test: saves ever newer generations of a big
 * session to one file, forever, printing each generation once it is on disk.
 * The test kills it with SIGKILL at a random moment.
 * Usage: node crash-writer.js ROOT RELATIVE-PATH FIRST-GENERATION [naive]
 * `naive` writes straight over the file (no temp, no rename): the control
 * that shows the kills do tear files that are not written atomically.
 */
import { nodeStoreFs } from '../../../src/review/node-fs';
import { saveSession, serializeSession } from '../../../src/review/store';
import { bigSession } from './big-session';

async function main(): Promise<void> {
  const [root, rel, first, mode] = process.argv.slice(2);
  const fs = nodeStoreFs(root);
  for (let g = Number(first); ; g++) {
    if (mode === 'naive') await fs.writeTextDurable(rel, serializeSession(bigSession(g)));
    else await saveSession(fs, rel, bigSession(g));
    process.stdout.write(`saved ${g}\n`);
  }
}

void main();
