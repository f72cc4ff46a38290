/**
 * Node-only: the worker thread of facts-workers.ts. It does, for the files it
 * is sent, exactly the per-file steps the engine does (parse, struct layouts,
 * model) with the same functions, and answers with plain data. Anything that
 * goes wrong for a file (a parse timeout, an exception) is answered with
 * null: the engine then handles that file itself, with its own messages.
 */
import { parentPort, workerData } from 'worker_threads';
import { buildFileModel, newFunctionModelCache, readFileStructs } from '../model/build-file';
import type { FunctionModelCache } from '../model/build-file';
import type { StructTable } from '../model/structs';
import { ParsedDocuments } from '../parse/parsed-documents';
import type { Backend } from '../parse/syntax';
import { createParser } from './create-parser';
import type { WorkerReply, WorkerRequest } from './facts-workers';

/** Trees kept between the two phases (a file parsed for its layouts is modelled without a second parse). */
const KEPT_TREES = 256;

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('facts-worker must run as a worker thread');
  const { backend, timeoutMs } = workerData as { backend: Backend; timeoutMs: number };
  const parser = await createParser(backend);
  const docs = new ParsedDocuments(parser, KEPT_TREES, timeoutMs);
  const caches = new Map<string, FunctionModelCache>();
  let structs: StructTable = {};
  const cacheOf = (file: string): FunctionModelCache => {
    let c = caches.get(file);
    if (!c) caches.set(file, (c = newFunctionModelCache()));
    return c;
  };
  port.on('message', (req: WorkerRequest) => {
    if (req.kind === 'stop') {
      docs.dispose();
      parser.dispose();
      port.close();
      return;
    }
    const reply: WorkerReply = { id: req.id, results: [] };
    if (req.kind === 'context') {
      structs = req.structs;
      port.postMessage(reply);
      return;
    }
    for (const f of req.files) {
      try {
        const doc = docs.open(f.path, f.text);
        if (!doc.tree) {
          reply.results.push(null);
          continue;
        }
        if (req.kind === 'structs') {
          reply.results.push({ own: readFileStructs(doc.tree.rootNode, cacheOf(f.path)) });
        } else {
          const own = (f as { own: StructTable }).own;
          reply.results.push({
            own,
            model: buildFileModel(doc.tree.rootNode, f.path, f.text, structs, own, cacheOf(f.path)),
          });
        }
      } catch {
        reply.results.push(null);
      }
    }
    port.postMessage(reply);
  });
  port.postMessage({ id: -1, results: [] } satisfies WorkerReply);
}

main().catch((e: unknown) => {
  parentPort?.postMessage({ id: -1, results: [], error: (e as Error)?.message ?? String(e) } satisfies WorkerReply);
});
