/**
 * Node-only: runs a CommonJS bundle through V8's code cache (Node 20 has no
 * `module.enableCompileCache`), so a run after the first deserialises the
 * bytecode of every function the first run compiled instead of parsing and
 * compiling them again: the CLI's bundle and its workers' bundle each cost a
 * cold `check` tens of milliseconds of compiling otherwise.
 *
 * One file per bundle and Node (V8) version, overwritten when the bundle
 * changes: a new build never adds a file. V8 itself rejects data of another
 * version or other flags, but it checks only the source's length, so the
 * file starts with a digest of the bundle's text. The cache is written when
 * a run found none or could not use it, when its thread exits, so it holds
 * every function the run compiled (a long-lived process, the language
 * server, writes it a few seconds in instead: `writeAfterMs`). Any failure (a
 * read-only folder, a corrupt file) only means compiling as without a cache;
 * `report` hears what happened, for a process with a log.
 */
import { createHash } from 'crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'fs';
import { createRequire } from 'module';
import * as path from 'path';
import * as vm from 'vm';
import { threadId } from 'worker_threads';
import { cacheRoot } from './cache-dir';

/** The folder the CLI and its workers keep their code caches in. */
export function codeCacheDir(): string {
  return path.join(cacheRoot(), 'code-cache');
}

/** The cache file of `bundle` for this Node. */
export function codeCacheFile(bundle: string, dir: string): string {
  return path.join(dir, `${path.basename(bundle, '.js')}-v8-${process.versions.v8}.bin`);
}

type CommonJsWrapper = (
  exports: unknown,
  require: NodeJS.Require,
  module: unknown,
  filename: string,
  dirname: string,
) => void;

/** sha1's length: the digest of the bundle's text heading a cache file. */
const DIGEST_BYTES = 20;

export interface CodeCacheOptions {
  /** The module object the bundle sees (a starter passes its own, so `require.main === module` holds). */
  module?: { exports: unknown };
  /** Write a missing cache this long after the start (off the first answers' path), or at exit if sooner. */
  writeAfterMs?: number;
  /** Told whether the cache was used, written (and its size), or could not be written. */
  report?: (message: string) => void;
}

/**
 * Runs `bundle` as Node would require it (the same five CommonJS names).
 * Returns whether the cache was used.
 */
export function runThroughCodeCache(bundle: string, dir: string, options: CodeCacheOptions = {}): boolean {
  const module = options.module ?? { exports: {} };
  const source = readFileSync(bundle, 'utf8');
  const file = codeCacheFile(bundle, dir);
  const digest = createHash('sha1').update(source).digest();
  let cachedData: Buffer | undefined;
  try {
    const data = readFileSync(file);
    if (data.length > DIGEST_BYTES && digest.equals(data.subarray(0, DIGEST_BYTES)))
      cachedData = data.subarray(DIGEST_BYTES);
  } catch {
    // none yet
  }
  // the wrapper Node itself compiles a CommonJS module in
  const wrapped = `(function (exports, require, module, __filename, __dirname) { ${source}\n})`;
  const script = new vm.Script(wrapped, { filename: bundle, cachedData });
  const used = cachedData !== undefined && !script.cachedDataRejected;
  if (!used) {
    let written = false;
    const write = (): void => {
      if (written) return;
      written = true;
      const outcome = writeCache(script, digest, file);
      options.report?.(
        typeof outcome === 'number'
          ? `code cache written (${Math.round(outcome / 1024)} KB${cachedData ? ', the old one was rejected' : ''})`
          : `code cache not written: ${outcome.message}`,
      );
    };
    if (options.writeAfterMs !== undefined) setTimeout(write, options.writeAfterMs).unref();
    process.once('exit', write);
  } else options.report?.('code cache used');
  const run = script.runInThisContext() as CommonJsWrapper;
  run(module.exports, createRequire(bundle), module, bundle, path.dirname(bundle));
  return used;
}

/** Writes the cache; its size, or why it could not. */
function writeCache(script: vm.Script, digest: Buffer, file: string): number | Error {
  // a whole file or none: a concurrent run (or the other worker) reads the old one or a new one
  const partial = `${file}.${process.pid}-${threadId}`;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    const data = script.createCachedData();
    writeFileSync(partial, Buffer.concat([digest, data]));
    renameSync(partial, file);
    return data.length;
  } catch (e) {
    try {
      rmSync(partial, { force: true });
    } catch {
      // a folder we cannot write to: nothing was left there either
    }
    return e as Error;
  }
}
