/**
 * Node-only: the worker thread of facts-workers.ts. It does, for the files it
 * is sent, the per-file steps of facts-steps.ts (the engine's own functions)
 * and answers with plain data, models as JSON text.
 */
import { parentPort, workerData } from 'worker_threads';
import type { Backend } from '../parse/syntax';
import { createParser } from './create-parser';
import { FactsSteps } from './facts-steps';
import type { WorkerReply, WorkerRequest } from './facts-workers';

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('facts-worker must run as a worker thread');
  const { backend, timeoutMs, maxFileBytes } = workerData as {
    backend: Backend;
    timeoutMs: number;
    maxFileBytes?: number;
  };
  const parser = await createParser(backend);
  const steps = new FactsSteps(parser, { timeoutMs, maxFileBytes, json: true });
  port.on('message', (req: WorkerRequest) => {
    if (req.kind === 'stop') {
      steps.dispose();
      parser.dispose();
      port.close();
      return;
    }
    port.postMessage(steps.handle(req));
  });
  port.postMessage({ id: -1, results: [] } satisfies WorkerReply);
}

main().catch((e: unknown) => {
  parentPort?.postMessage({ id: -1, results: [], error: (e as Error)?.message ?? String(e) } satisfies WorkerReply);
});
