/**
 * The language server's start as the VS Code extension forks it
 * (dist/lsp-start.js): dist/lsp-server.js, run through V8's code cache when
 * `--code-cache DIR` names a folder for it (the extension's global storage),
 * so a start after the first compiles little of the 1.3 MB bundle (Node 20
 * has no `module.enableCompileCache`). The cache is written once per bundle
 * and Node, when a start found none or V8 rejected it: a few seconds in, or
 * at exit if sooner, so the functions the start ran are in it.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

/** When a start without a usable cache writes one: after its first answers, off their path. */
const WRITE_AFTER_MS = 5_000;

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const say = (message: string): void => void process.stderr.write(`iommufd-review lsp: ${message}\n`);

function runCached(file: string, cacheDir: string): void {
  const source = readFileSync(file, 'utf8');
  // V8 checks the source and its own version and flags itself: the name only keeps two Nodes apart
  const cacheFile = path.join(cacheDir, `lsp-server-v8-${process.versions.v8}.bin`);
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // none yet
  }
  // the CommonJS wrapper Node itself compiles a module in, so the bundle sees the usual five names
  const wrapped = `(function (exports, require, module, __filename, __dirname) { ${source}\n})`;
  const script = new vm.Script(wrapped, { filename: file, cachedData });
  const used = cachedData !== undefined && !script.cachedDataRejected;
  if (!used) {
    let written = false;
    const write = (): void => {
      if (written) return;
      written = true;
      try {
        mkdirSync(cacheDir, { recursive: true });
        const data = script.createCachedData();
        // a whole file or none: a concurrent start reads the old one or the new one
        const partial = `${cacheFile}.${process.pid}`;
        writeFileSync(partial, data);
        renameSync(partial, cacheFile);
        say(
          `code cache written (${Math.round(data.length / 1024)} KB${cachedData ? ', the old one was rejected' : ''})`,
        );
      } catch (e) {
        say(`code cache not written: ${(e as Error).message}`);
      }
    };
    setTimeout(write, WRITE_AFTER_MS).unref();
    process.once('exit', write);
  } else say('code cache used');
  const module = { exports: {} };
  const run = script.runInThisContext() as (
    exports: unknown,
    require: NodeJS.Require,
    module: unknown,
    filename: string,
    dirname: string,
  ) => void;
  run(module.exports, createRequire(file), module, file, path.dirname(file));
}

const server = path.join(__dirname, 'lsp-server.js');
const cacheDir = argument('--code-cache');
if (cacheDir) runCached(server, cacheDir);
else createRequire(__filename)(server);
