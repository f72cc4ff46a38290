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
 */
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { Engine } from '../engine';
import type { FactsStore } from '../index/facts';
import type { StructTable } from '../model/structs';
import type { FileModel } from '../model/types';
import type { Backend } from '../parse/syntax';
import type { SourceFile } from '../types';

export type WorkerRequest = (WorkRequest & { id: number }) | { kind: 'stop' };

type WorkRequest =
  | { kind: 'structs'; files: { path: string; text: string }[] }
  | { kind: 'context'; structs: StructTable }
  | { kind: 'models'; files: { path: string; text: string; own: StructTable }[] };

export interface WorkerReply {
  id: number;
  results: ({ own: StructTable; model?: FileModel } | null)[];
  error?: string;
}

export interface LoadOptions {
  /** Worker threads; 1 runs everything on this thread, as the engine always did. */
  jobs: number;
  backend: Backend;
  timeoutMs: number;
  /** Loads the engine's parser (a DeferredParser): called only when this thread may have to parse. */
  needParser?: () => Promise<void>;
}

export interface LoadStats {
  /** Files parsed on worker threads (the rest came from the store or were left to the engine). */
  parsedInWorkers: number;
  modelledInWorkers: number;
  workers: number;
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
 * Shares files out among workers, by bytes (parse and model time both grow
 * with a file's size): largest first, each to the worker with the fewest
 * bytes so far (LPT scheduling). Fixed before any work starts, because the
 * worker that parses a file also models it (it keeps the tree): handing
 * files to whichever worker is free first gives the one that started first
 * most of the parsing, and then most of the modelling, which costs three
 * times as much. Each worker's share is sent in messages of at most CHUNK files.
 */
export function partition<T extends { text: string }>(files: readonly T[], workers: number): T[][] {
  const shares: T[][] = Array.from({ length: Math.max(1, workers) }, () => []);
  const bytes = shares.map(() => 0);
  for (const f of [...files].sort((a, b) => b.text.length - a.text.length)) {
    const w = bytes.reduce((best, n, i) => (n < bytes[best] ? i : best), 0);
    shares[w].push(f);
    bytes[w] += f.text.length;
  }
  return shares;
}

class Pool {
  private readonly workers: { worker: Worker; ready: Promise<void>; pending: Map<number, (r: WorkerReply) => void> }[] =
    [];
  private nextId = 0;

  constructor(count: number, options: LoadOptions) {
    for (let i = 0; i < count; i++) {
      const worker = new Worker(path.join(__dirname, 'facts-worker.js'), {
        workerData: { backend: options.backend, timeoutMs: options.timeoutMs },
      });
      const pending = new Map<number, (r: WorkerReply) => void>();
      const ready = new Promise<void>((resolve, reject) => {
        worker.on('message', (r: WorkerReply) => {
          if (r.id === -1) return r.error ? reject(new Error(`worker failed to start: ${r.error}`)) : resolve();
          pending.get(r.id)?.(r);
          pending.delete(r.id);
        });
        worker.on('error', (e) => {
          reject(e);
          // A crashed worker answers its outstanding requests with "not done": the engine does those files.
          for (const [id, done] of pending) done({ id, results: [] });
          pending.clear();
        });
      });
      this.workers.push({ worker, ready, pending });
    }
  }

  get size(): number {
    return this.workers.length;
  }

  async send(index: number, req: WorkRequest): Promise<WorkerReply> {
    const w = this.workers[index];
    try {
      await w.ready;
    } catch {
      return { id: -1, results: [] };
    }
    const id = this.nextId++;
    return new Promise((resolve) => {
      w.pending.set(id, resolve);
      w.worker.postMessage({ ...req, id });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}

/**
 * Sets every file on the engine, first filling the store from worker
 * threads with what it lacks (with jobs > 1). The engine must use `store`.
 */
export async function loadFiles(
  engine: Engine,
  store: FactsStore,
  files: readonly SourceFile[],
  options: LoadOptions,
): Promise<LoadStats> {
  const stats: LoadStats = { parsedInWorkers: 0, modelledInWorkers: 0, workers: 0 };
  const missing = files.filter((f) => !store.get(f.path, f.text));
  // The engine parses a file the store lacks (or one a worker could not do)
  // itself: this thread loads the grammar only when, after the workers, some
  // file is still left to it.
  const lacking = (done: (f: SourceFile) => boolean): boolean => files.some((f) => !done(f));
  let pool: Pool | undefined;
  const poolFor = (n: number): Pool => (pool ??= new Pool(Math.min(options.jobs, Math.ceil(n / CHUNK)), options));
  try {
    // Phase 1: layouts, each worker on its share; the owner of each file is remembered.
    const owner = new Map<string, number>();
    if (options.jobs > 1 && missing.length > CHUNK) {
      const p = poolFor(missing.length);
      const shares = partition(missing, p.size);
      await Promise.all(
        shares.map(async (share, w) => {
          for (let i = 0; i < share.length; i += CHUNK) {
            const chunk = share.slice(i, i + CHUNK);
            const reply = await p.send(w, {
              kind: 'structs',
              files: chunk.map((f) => ({ path: f.path, text: f.text })),
            });
            chunk.forEach((f, j) => {
              const r = reply.results[j];
              if (!r) return;
              owner.set(f.path, w);
              store.put(f.path, f.text, { own: r.own });
              stats.parsedInWorkers++;
            });
          }
        }),
      );
    }
    if (lacking((f) => store.get(f.path, f.text) !== undefined)) await options.needParser?.();
    for (const f of files) engine.setFile(f.path, f.text);
    // Phase 2: models, against the merged layouts, on the worker holding the tree.
    const { structs, context } = engine.modelInputs();
    const modelled = (f: SourceFile): boolean => store.get(f.path, f.text)?.model?.context === context;
    const todo = files.filter((f) => store.get(f.path, f.text) !== undefined && !modelled(f));
    const onWorkers = options.jobs > 1 && todo.length > CHUNK;
    if (todo.length > 0 && !onWorkers) await options.needParser?.();
    if (onWorkers) {
      const p = poolFor(todo.length);
      const queues: SourceFile[][] = Array.from({ length: p.size }, () => []);
      for (const f of todo) {
        const w = owner.get(f.path);
        if (w !== undefined) queues[w].push(f);
      }
      // Files no worker parsed (they came from the store without a model) go to the least loaded, by bytes.
      const load = queues.map((q) => q.reduce((n, f) => n + f.text.length, 0));
      for (const f of [...todo].sort((a, b) => b.text.length - a.text.length)) {
        if (owner.has(f.path)) continue;
        const w = load.reduce((best, n, i) => (n < load[best] ? i : best), 0);
        queues[w].push(f);
        load[w] += f.text.length;
      }
      await Promise.all(
        queues.map(async (queue, w) => {
          if (queue.length === 0) return;
          await p.send(w, { kind: 'context', structs });
          for (let i = 0; i < queue.length; i += CHUNK) {
            const chunk = queue.slice(i, i + CHUNK);
            const known = chunk.map((f) => store.get(f.path, f.text)!);
            const reply = await p.send(w, {
              kind: 'models',
              files: chunk.map((f, j) => ({ path: f.path, text: f.text, own: known[j].own })),
            });
            chunk.forEach((f, j) => {
              const r = reply.results[j];
              if (!r?.model) return;
              store.put(f.path, f.text, { ...known[j], model: { context, value: r.model } });
              stats.modelledInWorkers++;
            });
          }
        }),
      );
    }
    // A file a worker could not model is left to the engine, which parses it.
    if (onWorkers && lacking((f) => store.get(f.path, f.text) === undefined || modelled(f)))
      await options.needParser?.();
    stats.workers = pool?.size ?? 0;
    return stats;
  } finally {
    await pool?.close();
  }
}
