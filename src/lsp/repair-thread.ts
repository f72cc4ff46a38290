/** Runs repair jobs on a worker thread (dist/repair-worker.js); aborting terminates it. */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { RepairJob, RepairReply, RepairRunner } from './repair-job';

export function workerRepairRunner(distFolder: string): RepairRunner {
  return (job: RepairJob, signal: AbortSignal) =>
    new Promise<RepairReply>((resolve, reject) => {
      if (signal.aborted) return reject(new DOMException('the repair search was cancelled', 'AbortError'));
      const worker = new Worker(path.join(distFolder, 'repair-worker.js'), { workerData: job });
      const abort = (): void => {
        void worker.terminate();
        reject(new DOMException('the repair search was cancelled', 'AbortError'));
      };
      signal.addEventListener('abort', abort, { once: true });
      const done = (): void => signal.removeEventListener('abort', abort);
      worker.once('message', (reply: RepairReply) => {
        done();
        resolve(reply);
        void worker.terminate();
      });
      worker.once('error', (e) => {
        done();
        reject(e);
      });
      worker.once('exit', (code) => {
        done();
        // a normal exit after the message has already settled the promise
        if (code !== 0 && !signal.aborted) reject(new Error(`the repair search's thread stopped (exit code ${code})`));
      });
    });
}
