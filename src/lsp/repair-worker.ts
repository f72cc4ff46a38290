/**
 * The repair search on a worker thread (the extension on Node hosts, and the
 * language server's verified-fix code action): it explores tens of thousands
 * of states per candidate, so it runs off the event loop that answers the
 * editor, and cancelling it is terminating this thread. Bundled as
 * dist/repair-worker.js; reads the parser's wasm from the folder it is in.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { createWasmParser } from '../engine/parse/wasm-parser';
import { proposeRepair, RepairInputError } from '../sim/repair';
import type { RepairJob, RepairReply } from './repair-job';

async function main(job: RepairJob): Promise<RepairReply> {
  const parser = await createWasmParser({
    runtime: readFileSync(path.join(__dirname, 'tree-sitter.wasm')),
    language: readFileSync(path.join(__dirname, 'tree-sitter-c.wasm')),
  });
  try {
    return { report: proposeRepair({ ...job, parser }) };
  } catch (e) {
    return { error: (e as Error)?.message ?? String(e), input: e instanceof RepairInputError };
  } finally {
    parser.dispose();
  }
}

main(workerData as RepairJob).then(
  (reply) => parentPort?.postMessage(reply),
  (e: unknown) =>
    parentPort?.postMessage({ error: (e as Error)?.message ?? String(e), input: false } satisfies RepairReply),
);
