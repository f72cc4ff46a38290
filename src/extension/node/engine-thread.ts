/**
 * The editor's `LiveEngine` on a worker thread (dist/engine-worker.js): each
 * call is a message answered in order. If the thread stops, every pending and
 * later call is refused with the reason (the status bar and log say it), never
 * left hanging.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LiveEngine } from '../analysis/engine-api';
import type { EngineOp, EngineReply, EngineRequest, EngineThreadInit } from './engine-protocol';

export function workerLiveEngine(distFolder: string, init: EngineThreadInit): LiveEngine {
  const worker = new Worker(path.join(distFolder, 'engine-worker.js'), { workerData: init });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let stopped: Error | undefined;
  const stop = (why: Error): void => {
    stopped ??= why;
    for (const p of pending.values()) p.reject(stopped);
    pending.clear();
  };
  worker.on('message', (reply: EngineReply) => {
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    if ('error' in reply) p.reject(new Error(reply.error));
    else p.resolve(reply.value);
  });
  worker.on('error', (e) => stop(new Error(`the engine thread failed: ${e.message}`)));
  worker.on('exit', (code) => stop(new Error(`the engine thread stopped (exit code ${code})`)));
  const call = <T>(op: EngineOp, ...args: unknown[]): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (stopped) return reject(stopped);
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ id, op, args } satisfies EngineRequest);
    });
  return {
    setFile: (p, text) => call('setFile', p, text),
    editFile: (p, replacements) => call('editFile', p, replacements),
    removeFile: (p) => call('removeFile', p),
    fileModel: (p) => call('fileModel', p),
    analyze: (options) => call('analyze', options),
    indexNotes: () => call('indexNotes'),
    dispose: () => {
      stop(new Error('the engine was disposed'));
      void worker.terminate();
    },
  };
}
