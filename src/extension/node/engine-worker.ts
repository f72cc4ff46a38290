/**
 * The editor's engine on a worker thread (Node extension hosts): parsing,
 * modelling and analysis of the open files and their context run here, so
 * the extension host's event loop only reads files and shows results. The
 * persistent facts index (src/engine/node/facts-disk-store.ts) lives in the
 * extension's global storage: a file whose text it has seen is not parsed
 * again. Bundled as dist/engine-worker.js; reads the parser's wasm from the
 * folder it is in. Requests are answered one at a time, in the order sent.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { Engine } from '../../engine/engine';
import { createWasmParser } from '../../engine/parse/wasm-parser';
import { DiskFactsStore } from '../../engine/node/facts-disk-store';
import type { FactsStore } from '../../engine/index/facts';
import type { Replacement } from '../../engine/parse/parsed-documents';
import type { Confidence } from '../../engine/types';
import type { EngineReply, EngineRequest, EngineThreadInit } from './engine-protocol';

const init = workerData as EngineThreadInit;
const facts = new DiskFactsStore({ dir: init.indexDir });
/**
 * Paths being typed into (edited since their last whole text): their every
 * keystroke is a new text, so storing them would write an entry per keystroke
 * and grow the index without end. They are modelled as usual, never stored;
 * a whole text set again (the file closed and read back from disk) is.
 */
const typing = new Set<string>();
const store: FactsStore = {
  get: (p, text) => (typing.has(p) ? undefined : facts.get(p, text)),
  put: (p, text, f) => {
    if (!typing.has(p)) facts.put(p, text, f);
  },
  digest: (text) => facts.digest(text),
};

const engine = (async () => {
  const parser = await createWasmParser({
    runtime: readFileSync(path.join(__dirname, 'tree-sitter.wasm')),
    language: readFileSync(path.join(__dirname, 'tree-sitter-c.wasm')),
  });
  return new Engine({ parser, config: init.config, facts: store });
})();

function answer(e: Engine, { op, args }: EngineRequest): unknown {
  switch (op) {
    case 'setFile': {
      const loaded = facts.stats.loaded;
      typing.delete(args[0] as string);
      e.setFile(args[0] as string, args[1] as string);
      return { fromIndex: facts.stats.loaded > loaded };
    }
    case 'editFile':
      typing.add(args[0] as string);
      return e.editFile(args[0] as string, args[1] as Replacement[]);
    case 'removeFile':
      return e.removeFile(args[0] as string);
    case 'fileModel':
      return e.fileModel(args[0] as string);
    case 'analyze':
      return e.analyze(args[0] as { paths?: string[]; minConfidence?: Confidence } | undefined);
    case 'indexNotes':
      return facts.notes;
  }
}

let queue: Promise<unknown> = Promise.resolve();
parentPort?.on('message', (request: EngineRequest) => {
  queue = queue.then(async () => {
    let reply: EngineReply;
    try {
      reply = { id: request.id, value: answer(await engine, request) };
    } catch (e) {
      reply = { id: request.id, error: (e as Error)?.message ?? String(e) };
    }
    parentPort?.postMessage(reply);
  });
});
