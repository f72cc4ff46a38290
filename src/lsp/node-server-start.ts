/**
 * The language server's start as the VS Code extension forks it
 * (dist/lsp-start.js): dist/lsp-server.js, run through V8's code cache when
 * `--code-cache DIR` names a folder for it (the extension's global storage),
 * so a start after the first compiles little of the 1.3 MB bundle (Node 20
 * has no `module.enableCompileCache`). The cache is the CLI's
 * (`code-cache.ts`: one file per bundle and Node, headed by the bundle's
 * digest), written when a start found none or could not use it: a few
 * seconds in, or at exit if sooner, so the functions the start ran are in it.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { runThroughCodeCache } from '../engine/node/code-cache';

/** When a start without a usable cache writes one: after its first answers, off their path. */
const WRITE_AFTER_MS = 5_000;

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const say = (message: string): void => void process.stderr.write(`iommufd-review lsp: ${message}\n`);

const server = path.join(__dirname, 'lsp-server.js');
const cacheDir = argument('--code-cache');
if (cacheDir) runThroughCodeCache(server, cacheDir, { writeAfterMs: WRITE_AFTER_MS, report: say });
else createRequire(__filename)(server);
