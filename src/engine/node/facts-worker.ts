/**
 * Node-only: the worker thread of facts-workers.ts. It does, for the files it
 * is sent, exactly the per-file steps the engine does (parse, struct layouts,
 * model) with the same functions, and answers with plain data. Anything that
 * goes wrong for a file (a parse timeout, an exception, a file that cannot be
 * read) is answered with null: the host then gives that file to the engine,
 * which says what is wrong with it.
 *
 * A file sent without its text is a context file: the worker reads it from
 * disk, answers with its text's digest beside the facts, and keeps nothing of
 * it (no tree, no model cache), so a whole kernel tree passes through a
 * worker in bounded memory. Files sent with their text keep their tree
 * between the two phases (at most KEPT_TREES of them).
 */
import { parentPort, workerData } from 'worker_threads';
import { buildFileModel, newFunctionModelCache, readFileStructs } from '../model/build-file';
import type { FunctionModelCache } from '../model/build-file';
import type { StructTable } from '../model/structs';
import { ParsedDocuments } from '../parse/parsed-documents';
import type { Backend } from '../parse/syntax';
import { createParser } from './create-parser';
import { sha256Hex } from './facts-disk-store';
import type { WorkerReply, WorkerRequest } from './facts-workers';
import { readSourceFile } from './read-sources';

/** Trees kept between the two phases (a file parsed for its layouts is modelled without a second parse). */
const KEPT_TREES = 256;

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('facts-worker must run as a worker thread');
  const { backend, timeoutMs, maxFileBytes } = workerData as {
    backend: Backend;
    timeoutMs: number;
    maxFileBytes?: number;
  };
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
      const fromDisk = f.text === undefined;
      try {
        let text = f.text;
        if (text === undefined) {
          const read = readSourceFile(f.path, maxFileBytes ? { maxFileBytes } : {});
          if (!('file' in read)) {
            reply.results.push(null);
            continue;
          }
          text = read.file.text;
        }
        const doc = docs.open(f.path, text);
        if (!doc.tree) {
          reply.results.push(null);
          continue;
        }
        // A context file keeps no cache: it is read and parsed again if it must be modelled.
        const cache = fromDisk ? newFunctionModelCache() : cacheOf(f.path);
        const digest = fromDisk ? { textDigest: sha256Hex(text) } : {};
        if (req.kind === 'structs') {
          reply.results.push({ own: readFileStructs(doc.tree.rootNode, cache), ...digest });
        } else {
          const own = (f as { own: StructTable }).own;
          reply.results.push({
            own,
            modelJson: JSON.stringify(buildFileModel(doc.tree.rootNode, f.path, text, structs, own, cache)),
            ...digest,
          });
          // Modelled once per run: nothing of this file is needed again.
          caches.delete(f.path);
          docs.close(f.path);
        }
      } catch {
        reply.results.push(null);
      } finally {
        // A context file's tree goes at once.
        if (fromDisk) docs.close(f.path);
      }
    }
    port.postMessage(reply);
  });
  port.postMessage({ id: -1, results: [] } satisfies WorkerReply);
}

main().catch((e: unknown) => {
  parentPort?.postMessage({ id: -1, results: [], error: (e as Error)?.message ?? String(e) } satisfies WorkerReply);
});
