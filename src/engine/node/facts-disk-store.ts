/**
 * Node-only: the persistent index, a FactsStore (engine/index/facts.ts) kept
 * in a folder. One file per (path, text): `<dir>/<engine version>/<2 hex>/<rest>`,
 * named by the SHA-256 of path and text, so a lookup reads one small file and
 * nothing is loaded before it is asked for. A file holds a one-line header
 * (magic, schema, engine version, key) and the facts as JSON (facts are plain
 * data, and whatever fields the model gains come along without a change
 * here). JSON, not V8's structured-clone format: `JSON.parse` gives objects
 * whose properties all sit inside the object, where `v8.deserialize` adds
 * them one by one into a separate property array, and with a whole tree as
 * context the facts read back are most of the heap (half the size measured
 * on a sample of drivers/net, strings interned in both). A whole run's
 * answer (`putResult`) keeps the structured-clone format.
 *
 * Failure never changes results: an entry that is corrupt, truncated, foreign
 * or from a newer schema is renamed aside (`*.set-aside-<time>`) and rebuilt;
 * a folder that cannot be written (read-only, full) is used read-only. Each
 * kind of trouble yields one note (`notes`), for the CLI to print.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as v8 from 'v8';
import type { FactsStore, FileFacts } from '../index/facts';
import { StringPool } from '../index/string-pool';
import { cacheRoot } from './cache-dir';
import { engineVersion } from './engine-version';

/** Bumped whenever the layout of an entry (header or payload shape) changes. */
export const INDEX_SCHEMA = 2;
const MAGIC = 'iommufd-review-index';

/**
 * Facts are interned only once the store holds this many: the pool pays for
 * itself at the scale of a tree (a third of the models' heap), while on a
 * 20-file check its walk over every model was a twentieth of the run's CPU
 * (22 of 640 ms) and saved nothing that outlives the process.
 */
const INTERN_FROM = 256;

/**
 * The CLI's default index folder: IOMMUFD_REVIEW_INDEX if set (`npm test` points
 * it at a scratch folder, so test runs never fill the user's cache with one
 * index per build), else `index` in the tool's cache folder
 * (IOMMUFD_REVIEW_CACHE, as scripts/ensure.mjs, or ~/.cache/iommufd-review).
 */
export function defaultIndexDir(): string {
  if (process.env.IOMMUFD_REVIEW_INDEX) return process.env.IOMMUFD_REVIEW_INDEX;
  return path.join(cacheRoot(), 'index');
}

export interface DiskFactsStoreOptions {
  /** The index folder; undefined keeps facts in memory only (`--no-index`). */
  dir?: string;
  /** Overrides the build fingerprint (tests that simulate another engine version). */
  version?: string;
}

export interface StoreStats {
  /** Lookups answered from disk. */
  loaded: number;
  /** Entries written. */
  written: number;
  /** Entries renamed aside. */
  setAside: number;
}

export class DiskFactsStore implements FactsStore {
  readonly dir: string | undefined;
  readonly version: string;
  readonly stats: StoreStats = { loaded: 0, written: 0, setAside: 0 };
  private readonly memory = new Map<string, FileFacts | null>();
  /** Facts kept here arrive decoded (from workers, from disk), each with its own copy of every string: equal ones are made one. */
  private readonly strings = new StringPool();
  private readonly noteKinds = new Map<string, string>();
  private writable = true;
  private lastDigest: { text: string; digest: string } | undefined;
  private tmpCounter = 0;

  constructor(options: DiskFactsStoreOptions = {}) {
    this.version = options.version ?? engineVersion();
    this.dir = options.dir === undefined ? undefined : path.join(path.resolve(options.dir), this.version);
  }

  private interned(facts: FileFacts): FileFacts {
    return this.memory.size >= INTERN_FROM ? this.strings.intern(facts) : facts;
  }

  /** One line per kind of trouble met (set-aside entries, an unwritable folder). */
  get notes(): string[] {
    return [...this.noteKinds.values()];
  }

  digest(text: string): string {
    // The engine asks for the same context once per file model: keep the last.
    if (this.lastDigest?.text === text) return this.lastDigest.digest;
    const digest = sha256Hex(text);
    this.lastDigest = { text, digest };
    return digest;
  }

  get(filePath: string, text: string): FileFacts | undefined {
    return this.getDigested(filePath, this.digest(text));
  }

  put(filePath: string, text: string, facts: FileFacts): void {
    this.putDigested(filePath, this.digest(text), facts);
  }

  getDigested(filePath: string, textDigest: string): FileFacts | undefined {
    const key = keyOf(filePath, textDigest);
    const hit = this.memory.get(key);
    if (hit !== undefined) return hit ?? undefined;
    const facts = this.load(key, filePath);
    // A miss is remembered too: the file is looked up at most once per run.
    this.memory.set(key, facts ?? null);
    return facts;
  }

  putDigested(filePath: string, textDigest: string, facts: FileFacts): void {
    const key = keyOf(filePath, textDigest);
    this.memory.set(key, this.interned(facts));
    // Facts without a model are a step of a worker run, not worth a file.
    if (!facts.model || !this.dir || !this.writable) return;
    this.writeEntry(this.entryPath(key), key, Buffer.from(JSON.stringify({ path: filePath, facts }), 'utf8'));
  }

  /**
   * A whole run's answer, stored under a key the caller derives from every
   * input of that run (files, configuration, options): a run whose inputs
   * are all unchanged reads it back instead of redoing the global steps.
   * Same entry format and set-aside rules as the per-file facts.
   */
  getResult(key: string): unknown {
    if (!this.dir) return undefined;
    const file = this.resultPath(key);
    const record = this.readEntry(file, key, (body) => v8.deserialize(body));
    if (!record) return undefined;
    if (typeof record.result !== 'object' || record.result === null)
      return this.setAside(file, 'its content does not match its name (foreign or corrupt)');
    this.stats.loaded++;
    return record.result;
  }

  putResult(key: string, result: unknown): void {
    if (!this.dir || !this.writable) return;
    this.writeEntry(this.resultPath(key), key, v8.serialize({ result }));
  }

  private resultPath(key: string): string {
    return path.join(this.dir!, 'results', key.slice(0, 2), key.slice(2));
  }

  private root(): string {
    return this.dir ? path.dirname(this.dir) : '(memory)';
  }

  private entryPath(key: string): string {
    return path.join(this.dir!, key.slice(0, 2), key.slice(2));
  }

  private load(key: string, filePath: string): FileFacts | undefined {
    if (!this.dir) return undefined;
    const file = this.entryPath(key);
    const record = this.readEntry(file, key, (body) => JSON.parse(body.toString('utf8')));
    if (!record) return undefined;
    if (record.path !== filePath || !isFacts(record.facts))
      return this.setAside(file, 'its content does not match its name (foreign or corrupt)');
    this.stats.loaded++;
    return this.interned(record.facts);
  }

  /** Writes one entry (header, then the encoded payload); a failure makes the store read-only. */
  private writeEntry(file: string, key: string, body: Buffer): void {
    const tmp = `${file}.tmp-${process.pid}-${this.tmpCounter++}`;
    try {
      const header = Buffer.from(`${MAGIC} ${INDEX_SCHEMA} ${this.version} ${key}\n`, 'utf8');
      fs.mkdirSync(path.dirname(file), { recursive: true });
      // Write then rename: a reader never sees half an entry, a crash leaves only a tmp file.
      fs.writeFileSync(tmp, Buffer.concat([header, body]));
      fs.renameSync(tmp, file);
      this.stats.written++;
    } catch (e) {
      this.writable = false;
      try {
        fs.rmSync(tmp, { force: true });
      } catch {
        // our own partial file; nothing more to do if even that fails
      }
      this.note(
        'unwritable',
        `index folder ${this.root()} cannot be written (${codeOf(e)}): results are computed as usual but not stored for the next run`,
      );
    }
  }

  /** Reads one entry, checks its header and decodes the payload; a bad one is set aside (undefined). */
  private readEntry(file: string, key: string, decode: (body: Buffer) => unknown): Record<string, unknown> | undefined {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (e) {
      const code = codeOf(e);
      if (code !== 'ENOENT' && code !== 'ENOTDIR')
        this.note('unreadable', `index folder ${this.root()} cannot be read (${code}): files are parsed as usual`);
      return undefined;
    }
    const nl = bytes.indexOf(10);
    const header = nl > 0 && nl < 512 ? bytes.subarray(0, nl).toString('utf8').split(' ') : [];
    if (header.length !== 4 || header[0] !== MAGIC)
      return this.setAside(file, 'not an index entry of this tool (foreign or corrupt)');
    const schema = Number(header[1]);
    if (!Number.isInteger(schema)) return this.setAside(file, 'its header is corrupt');
    if (schema > INDEX_SCHEMA)
      return this.setAside(file, `written by a newer version (index schema ${schema}, this one reads ${INDEX_SCHEMA})`);
    if (schema < INDEX_SCHEMA || header[2] !== this.version || header[3] !== key)
      return this.setAside(file, 'it belongs to another engine build or file (foreign)');
    let record: unknown;
    try {
      record = decode(bytes.subarray(nl + 1));
    } catch (e) {
      return this.setAside(file, `it is corrupt or truncated (${(e as Error).message})`);
    }
    if (typeof record !== 'object' || record === null)
      return this.setAside(file, 'its content does not match its name (foreign or corrupt)');
    return record as Record<string, unknown>;
  }

  /** Renames a bad entry aside (never deletes it) and notes it once per reason. */
  private setAside(file: string, why: string): undefined {
    const aside = `${file}.set-aside-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      fs.renameSync(file, aside);
      this.stats.setAside++;
      this.note(
        `aside:${why}`,
        `index entry ${file} set aside as ${path.basename(aside)}: ${why}; the file was analysed again`,
      );
    } catch (e) {
      this.note(
        `aside:${why}`,
        `index entry ${file} ignored: ${why}; it could not be renamed aside (${codeOf(e)}); the file was analysed again`,
      );
    }
    return undefined;
  }

  private note(kind: string, message: string): void {
    if (!this.noteKinds.has(kind)) this.noteKinds.set(kind, message);
  }
}

/** An entry's key: its path and its text's digest (so a host holding only the digest finds it too). */
function keyOf(filePath: string, textDigest: string): string {
  return createHash('sha256').update(filePath).update('\u0000').update(textDigest).digest('hex');
}

/** The store's `digest`: worker threads compute a context file's digest with it, beside its facts. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function isFacts(x: unknown): x is FileFacts {
  const f = x as FileFacts | undefined;
  return (
    typeof f === 'object' &&
    f !== null &&
    typeof f.own === 'object' &&
    f.own !== null &&
    (f.model === undefined ||
      (typeof f.model.context === 'string' &&
        typeof f.model.value === 'object' &&
        f.model.value !== null &&
        Array.isArray(f.model.value.functions)))
  );
}

function codeOf(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? (e as Error)?.message ?? String(e);
}
