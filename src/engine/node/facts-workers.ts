/**
 * Node-only: parsing and modelling on worker threads for bulk runs. The
 * workers fill the facts store (engine/index/facts.ts) before the engine
 * looks; the engine then finds every file's facts there and only runs the
 * global steps. Results are the same whatever the number of workers: a
 * worker runs the engine's own per-file functions on the same inputs, and a
 * file a worker could not do is left to the engine.
 *
 * Two phases, because a model resolves lock names through every file's
 * struct layouts: (1) parse and read layouts, (2) once the engine has merged
 * them, build the models (on the worker that still holds the file's tree).
 *
 * Context files (a whole tree given as context, not reported) are passed by
 * path and digest, never by text: a worker reads one, parses it, answers
 * with its facts and drops the tree (phase 1), and reads and parses it again
 * to model it (phase 2); this thread holds a context file's layouts and
 * model (the global steps and the rules read them) but never its text or a
 * tree. Memory then grows with the facts, not with the sources.
 */
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { Engine } from '../engine';
import type { FactsStore } from '../index/facts';
import type { StructTable } from '../model/structs';
import type { FileModel } from '../model/types';
import type { Backend, CParser } from '../parse/syntax';
import type { SourceFile } from '../types';
import { FactsSteps } from './facts-steps';
import { readSourceFile, type DigestedFile } from './read-sources';

export type WorkerRequest = (WorkRequest & { id: number }) | { kind: 'stop' };

/** A file without `text` is a context file: the worker reads it from disk and answers with its digest. */
export type WorkRequest =
  | { kind: 'structs'; files: { path: string; text?: string }[] }
  | { kind: 'context'; structs: StructTable }
  | { kind: 'models'; files: { path: string; text?: string; own: StructTable }[] };

export interface WorkerReply {
  id: number;
  /**
   * A model comes as JSON: parsed here, its objects hold their properties
   * inline (a structured clone's do not, and context models are most of this
   * thread's heap; see facts-disk-store.ts). This thread's own share
   * answers with the model built.
   */
  results: ({ own: StructTable; modelJson?: string; model?: FileModel; textDigest?: string } | null)[];
  error?: string;
}

export interface LoadOptions {
  /**
   * Threads that parse and model; 1 runs everything on this thread, as the
   * engine always did. With `parser`, this thread is one of them.
   */
  jobs: number;
  backend: Backend;
  timeoutMs: number;
  /** Loads the engine's parser (a DeferredParser): called only when this thread may have to parse. */
  needParser?: () => Promise<void>;
  /**
   * The engine's parser, loaded by `needParser`: given, this thread takes a
   * share of the reported files itself beside jobs - 1 worker threads (one
   * worker fewer to start, and its share's models need no copy between
   * threads), unless context files are given by digest: those need workers,
   * and this thread never holds their texts or trees.
   */
  parser?: CParser;
  /** The size limit context files are read with (as `readSources`). */
  maxFileBytes?: number;
  /** Reported files go to workers only from this many bytes of source (default MIN_SHARED_BYTES). */
  minSharedBytes?: number;
}

export interface LoadStats {
  /** Files parsed on worker threads (the rest came from the store, were this thread's share or were left to the engine). */
  parsedInWorkers: number;
  modelledInWorkers: number;
  /** Worker threads started. */
  workers: number;
  /** Files of this thread's own share (LoadOptions.parser). */
  parsedHere: number;
  modelledHere: number;
}

/** The default --jobs: the machine's cores. */
export function defaultJobs(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/**
 * Runs of at most this many files stay on this thread (a worker's start,
 * loading the grammar, costs more than parsing a few files), and at most this
 * many files go in one message.
 */
const CHUNK = 8;

/**
 * Reported files share the work with worker threads only from this many
 * bytes of source: below it, starting a worker (its bundle, the grammar, a
 * cold JIT) costs more than the share it takes. Measured on 2 cores: the
 * 20-file corpus (0.5 MB) checks faster on this thread alone. Context files
 * always go to workers (this thread never holds their texts).
 */
const MIN_SHARED_BYTES = 1_000_000;

/**
 * Shares files out among workers, by bytes (parse and model time both grow
 * with a file's size): largest first, each to the worker with the fewest
 * bytes so far (LPT scheduling). Fixed before any work starts, because the
 * worker that parses a file also models it (it keeps the tree): handing
 * files to whichever worker is free first gives the one that started first
 * most of the parsing, and then most of the modelling, which costs three
 * times as much. Each worker's share is sent in messages of at most CHUNK files.
 */
export function partition<T extends { text: string }>(files: readonly T[], workers: number): T[][] {
  return partitionBy(files, workers, (f) => f.text.length);
}

function partitionBy<T>(files: readonly T[], workers: number, size: (f: T) => number): T[][] {
  const shares: T[][] = Array.from({ length: Math.max(1, workers) }, () => []);
  const bytes = shares.map(() => 0);
  for (const f of [...files].sort((a, b) => size(b) - size(a))) {
    const w = bytes.reduce((best, n, i) => (n < bytes[best] ? i : best), 0);
    shares[w].push(f);
    bytes[w] += size(f);
  }
  return shares;
}

/** How long a stopped worker may take to end before it is terminated. */
const STOP_GRACE_MS = 2_000;

/** One thread of a run's pool: a worker thread, or this thread doing its own share. */
interface Member {
  readonly here: boolean;
  /** Requests are answered in the order they were sent. */
  send(req: WorkRequest): Promise<WorkerReply>;
  close(): void;
}

let nextId = 0;

class ThreadMember implements Member {
  readonly here = false;
  private readonly worker: Worker;
  private readonly pending = new Map<number, (r: WorkerReply) => void>();
  private failed = false;

  constructor(options: LoadOptions) {
    this.worker = new Worker(path.join(__dirname, 'facts-worker.js'), {
      workerData: { backend: options.backend, timeoutMs: options.timeoutMs, maxFileBytes: options.maxFileBytes },
    });
    this.worker.on('message', (r: WorkerReply) => {
      // -1: started (or failed to: then nothing sent is done)
      if (r.id === -1) {
        if (r.error) this.fail();
        return;
      }
      this.pending.get(r.id)?.(r);
      this.pending.delete(r.id);
    });
    // A crashed worker answers its outstanding requests with "not done": the engine does those files.
    this.worker.on('error', () => this.fail());
    this.worker.on('exit', () => this.fail());
  }

  private fail(): void {
    this.failed = true;
    for (const [id, done] of this.pending) done({ id, results: [] });
    this.pending.clear();
  }

  /** Posted at once, before the worker has started: it finds its requests queued when it listens. */
  send(req: WorkRequest): Promise<WorkerReply> {
    if (this.failed) return Promise.resolve({ id: -1, results: [] });
    const id = nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.worker.postMessage({ ...req, id } satisfies WorkerRequest);
    });
  }

  /**
   * Asks the worker to stop, without waiting: it ends on its own once it has
   * let its trees go (and, bundled, written its code cache after a run that
   * had none: code-cache.ts), while this thread goes on with the global
   * steps. One still running STOP_GRACE_MS later is terminated.
   */
  close(): void {
    const worker = this.worker;
    worker.postMessage({ kind: 'stop' } satisfies WorkerRequest);
    const timer = setTimeout(() => void worker.terminate(), STOP_GRACE_MS);
    timer.unref();
    worker.once('exit', () => clearTimeout(timer));
  }
}

/**
 * This thread's own share, one request at a time, each after a turn of the
 * event loop, so the workers' answers are taken (and their next requests
 * sent) between two of its chunks.
 */
class HereMember implements Member {
  readonly here = true;
  private steps: FactsSteps | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: LoadOptions & { parser: CParser }) {}

  send(req: WorkRequest): Promise<WorkerReply> {
    const done = this.queue.then(async () => {
      if (!this.steps) {
        await this.options.needParser?.();
        this.steps = new FactsSteps(this.options.parser, {
          timeoutMs: this.options.timeoutMs,
          maxFileBytes: this.options.maxFileBytes,
          json: false,
        });
      }
      await new Promise((resolve) => setImmediate(resolve));
      return this.steps.handle({ ...req, id: -2 });
    });
    this.queue = done.catch(() => undefined);
    return done.catch(() => ({ id: -2, results: [] }));
  }

  close(): void {
    this.steps?.dispose();
  }
}

class Pool {
  readonly members: Member[] = [];

  constructor(count: number, options: LoadOptions, here: boolean) {
    if (here && options.parser) this.members.push(new HereMember({ ...options, parser: options.parser }));
    while (this.members.length < count) this.members.push(new ThreadMember(options));
  }

  get size(): number {
    return this.members.length;
  }

  get threads(): number {
    return this.members.filter((m) => !m.here).length;
  }

  send(index: number, req: WorkRequest): Promise<WorkerReply> {
    return this.members[index].send(req);
  }

  close(): void {
    for (const m of this.members) m.close();
  }
}

/** A share in messages of at most CHUNK files. */
function chunksOf<T>(share: readonly T[]): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < share.length; i += CHUNK) chunks.push(share.slice(i, i + CHUNK));
  return chunks;
}

/** One file of a run as the workers see it: a reported file with its text, or a context file by path and digest. */
interface Item {
  path: string;
  text?: string;
  textDigest?: string;
  bytes: number;
}

/**
 * Sets every file on the engine, first filling the store from worker
 * threads with what it lacks (reported files with jobs > 1; context files
 * always, on at least one worker). The engine must use `store`. The engine
 * gets the files in order: `files`, then `context`.
 */
export async function loadFiles(
  engine: Engine,
  store: FactsStore,
  files: readonly SourceFile[],
  options: LoadOptions,
  context: readonly DigestedFile[] = [],
): Promise<LoadStats> {
  const stats: LoadStats = { parsedInWorkers: 0, modelledInWorkers: 0, workers: 0, parsedHere: 0, modelledHere: 0 };
  const getDigested = store.getDigested?.bind(store);
  const putDigested = store.putDigested?.bind(store);
  // Context files the engine gets with their text: those it will not analyse
  // (binary), those a worker could not do, and all of them for a store that
  // cannot key facts by digest. Read on this thread only then.
  const withText = new Map<string, string>();
  const textOf = (c: DigestedFile): string | undefined => {
    if (c.text !== undefined) return c.text;
    const read = readSourceFile(c.path, options.maxFileBytes ? { maxFileBytes: options.maxFileBytes } : {});
    return 'file' in read ? read.file.text : undefined;
  };
  const fallBack = (c: DigestedFile): void => {
    const text = textOf(c);
    if (text !== undefined) withText.set(c.path, text);
  };
  const digested: DigestedFile[] = [];
  for (const c of context) {
    if (c.text !== undefined || !getDigested || !putDigested) fallBack(c);
    else digested.push(c);
  }
  const missing = files.filter((f) => !store.get(f.path, f.text));
  const contextMissing = digested.filter((c) => !getDigested?.(c.path, c.textDigest));
  // The engine parses a file the store lacks (or one a worker could not do)
  // itself: this thread loads the grammar only when, after the workers, some
  // file is still left to it.
  const lacking = (done: (f: SourceFile) => boolean): boolean =>
    files.some((f) => !done(f)) || [...withText].some(([p, text]) => !done({ path: p, text }));
  let pool: Pool | undefined;
  const poolFor = (n: number): Pool =>
    (pool ??= new Pool(Math.max(1, Math.min(options.jobs, Math.ceil(n / CHUNK))), options, digested.length === 0));
  const reportedOnWorkers = (list: readonly SourceFile[]): boolean =>
    options.jobs > 1 &&
    list.length > CHUNK &&
    list.reduce((n, f) => n + f.text.length, 0) >= (options.minSharedBytes ?? MIN_SHARED_BYTES);
  try {
    // Phase 1: layouts, each worker on its share; the owner of each reported file is remembered.
    const owner = new Map<string, number>();
    const phase1: Item[] = [
      ...(reportedOnWorkers(missing) ? missing.map((f) => ({ ...f, bytes: f.text.length })) : []),
      ...contextMissing.map((c) => ({ path: c.path, textDigest: c.textDigest, bytes: c.bytes })),
    ];
    if (phase1.length > 0) {
      const p = poolFor(phase1.length);
      await Promise.all(
        partitionBy(phase1, p.size, (f) => f.bytes).flatMap((share, w) =>
          chunksOf(share).map(async (chunk) => {
            const reply = await p.send(w, {
              kind: 'structs',
              files: chunk.map((f) => (f.text === undefined ? { path: f.path } : { path: f.path, text: f.text })),
            });
            chunk.forEach((f, j) => {
              const r = reply.results[j];
              if (f.text === undefined) {
                // A context file changed since it was digested is done on this thread, from its new text.
                if (r && r.textDigest === f.textDigest) {
                  putDigested!(f.path, f.textDigest!, { own: r.own });
                  stats.parsedInWorkers++;
                } else fallBack({ path: f.path, textDigest: f.textDigest!, bytes: f.bytes });
                return;
              }
              if (!r) return;
              owner.set(f.path, w);
              store.put(f.path, f.text, { own: r.own });
              if (p.members[w].here) stats.parsedHere++;
              else stats.parsedInWorkers++;
            });
          }),
        ),
      );
    }
    if (lacking((f) => store.get(f.path, f.text) !== undefined)) await options.needParser?.();
    for (const f of files) engine.setFile(f.path, f.text);
    for (const c of context) {
      const text = withText.get(c.path);
      if (text !== undefined) engine.setFile(c.path, text);
      else if (!withText.has(c.path) && getDigested?.(c.path, c.textDigest))
        engine.setContextFile(c.path, c.textDigest, getDigested(c.path, c.textDigest)!);
    }
    // Phase 2: models, against the merged layouts: reported files on the worker holding their tree.
    const { structs, context: modelContext } = engine.modelInputs();
    const modelled = (f: SourceFile): boolean => store.get(f.path, f.text)?.model?.context === modelContext;
    const todo = files.filter((f) => store.get(f.path, f.text) !== undefined && !modelled(f));
    const contextTodo = digested.filter((c) => {
      if (withText.has(c.path)) return false;
      const known = getDigested!(c.path, c.textDigest);
      return known !== undefined && known.model?.context !== modelContext;
    });
    const onWorkers = reportedOnWorkers(todo);
    const late: DigestedFile[] = [];
    if (todo.length > 0 && !onWorkers) await options.needParser?.();
    if (onWorkers || contextTodo.length > 0) {
      const p = poolFor(todo.length + contextTodo.length);
      const queues: Item[][] = Array.from({ length: p.size }, () => []);
      const load = queues.map(() => 0);
      const mine = onWorkers ? todo : [];
      for (const f of mine) {
        const w = owner.get(f.path);
        if (w === undefined || w >= p.size) continue;
        queues[w].push({ ...f, bytes: f.text.length });
        load[w] += f.text.length;
      }
      // Files no worker holds a tree of (from the store without a model; context files) go to the least loaded, by bytes.
      const rest: Item[] = [
        ...mine
          .filter((f) => !owner.has(f.path) || owner.get(f.path)! >= p.size)
          .map((f) => ({ ...f, bytes: f.text.length })),
        ...contextTodo.map((c) => ({ path: c.path, textDigest: c.textDigest, bytes: c.bytes })),
      ];
      for (const f of rest.sort((a, b) => b.bytes - a.bytes)) {
        const w = load.reduce((best, n, i) => (n < load[best] ? i : best), 0);
        queues[w].push(f);
        load[w] += f.bytes;
      }
      await Promise.all(
        queues.flatMap((queue, w) => {
          if (queue.length === 0) return [];
          void p.send(w, { kind: 'context', structs });
          return chunksOf(queue).map(async (chunk) => {
            const known = chunk.map((f) =>
              f.text === undefined ? getDigested!(f.path, f.textDigest!)! : store.get(f.path, f.text)!,
            );
            const reply = await p.send(w, {
              kind: 'models',
              files: chunk.map((f, j) =>
                f.text === undefined
                  ? { path: f.path, own: known[j].own }
                  : { path: f.path, text: f.text, own: known[j].own },
              ),
            });
            chunk.forEach((f, j) => {
              const r = reply.results[j];
              const model =
                r?.model ?? (r?.modelJson === undefined ? undefined : (JSON.parse(r.modelJson) as FileModel));
              const facts = { ...known[j], model: { context: modelContext, value: model as FileModel } };
              if (f.text === undefined) {
                if (model && r!.textDigest === f.textDigest) {
                  putDigested!(f.path, f.textDigest!, facts);
                  stats.modelledInWorkers++;
                  return;
                }
                late.push({ path: f.path, textDigest: f.textDigest!, bytes: f.bytes });
                return;
              }
              if (!model) return;
              store.put(f.path, f.text, facts);
              if (p.members[w].here) stats.modelledHere++;
              else stats.modelledInWorkers++;
            });
          });
        }),
      );
    }
    // A context file a worker could not model is left to this thread, from
    // its text; its entry is replaced in place, so the order stays.
    if (late.length > 0) await options.needParser?.();
    for (const c of late) {
      fallBack(c);
      const text = withText.get(c.path);
      if (text !== undefined) engine.setFile(c.path, text);
      else engine.removeFile(c.path);
    }
    // A file a worker could not model is left to the engine, which parses it.
    if (lacking((f) => store.get(f.path, f.text) === undefined || modelled(f))) await options.needParser?.();
    stats.workers = pool?.threads ?? 0;
    return stats;
  } finally {
    pool?.close();
  }
}
