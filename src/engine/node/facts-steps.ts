/**
 * Node-only: the per-file steps of facts-workers.ts, for the files of one
 * run: exactly the steps the engine does (parse, struct layouts, model) with
 * the same functions, answered as plain data. Anything that goes wrong for a
 * file (a parse timeout, an exception, a file that cannot be read) is
 * answered with null: the host then gives that file to the engine, which
 * says what is wrong with it.
 *
 * A file sent without its text is a context file: it is read from disk,
 * answered with its text's digest beside the facts, and nothing of it is
 * kept (no tree, no model cache), so a whole kernel tree passes through in
 * bounded memory. Files sent with their text keep their tree between the two
 * phases (at most KEPT_TREES of them).
 */
import { buildFileModel, newFunctionModelCache, readFileStructs } from '../model/build-file';
import type { FunctionModelCache } from '../model/build-file';
import type { StructTable } from '../model/structs';
import { ParsedDocuments } from '../parse/parsed-documents';
import type { CParser } from '../parse/syntax';
import { sha256Hex } from './facts-disk-store';
import type { WorkRequest, WorkerReply } from './facts-workers';
import { readSourceFile } from './read-sources';

/** Trees kept between the two phases (a file parsed for its layouts is modelled without a second parse). */
const KEPT_TREES = 256;

/**
 * The per-file steps for the requests of one run, on whichever thread: the
 * worker thread below, or the main thread taking a share itself
 * (facts-workers.ts). `json` answers models as JSON text (for a message to
 * another thread: see WorkerReply), else as the objects built.
 */
export class FactsSteps {
  private readonly docs: ParsedDocuments;
  private readonly caches = new Map<string, FunctionModelCache>();
  private structs: StructTable = {};

  constructor(
    parser: CParser,
    private readonly options: { timeoutMs: number; maxFileBytes?: number; json: boolean },
  ) {
    this.docs = new ParsedDocuments(parser, KEPT_TREES, options.timeoutMs);
  }

  private cacheOf(file: string): FunctionModelCache {
    let c = this.caches.get(file);
    if (!c) this.caches.set(file, (c = newFunctionModelCache()));
    return c;
  }

  handle(req: WorkRequest & { id: number }): WorkerReply {
    const reply: WorkerReply = { id: req.id, results: [] };
    if (req.kind === 'context') {
      this.structs = req.structs;
      return reply;
    }
    const { maxFileBytes } = this.options;
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
        const doc = this.docs.open(f.path, text);
        if (!doc.tree) {
          reply.results.push(null);
          continue;
        }
        // A context file keeps no cache: it is read and parsed again if it must be modelled.
        const cache = fromDisk ? newFunctionModelCache() : this.cacheOf(f.path);
        const digest = fromDisk ? { textDigest: sha256Hex(text) } : {};
        if (req.kind === 'structs') {
          reply.results.push({ own: readFileStructs(doc.tree.rootNode, cache), ...digest });
        } else {
          const own = (f as { own: StructTable }).own;
          const model = buildFileModel(doc.tree.rootNode, f.path, text, this.structs, own, cache);
          reply.results.push({
            own,
            ...(this.options.json ? { modelJson: JSON.stringify(model) } : { model }),
            ...digest,
          });
          // Modelled once per run: nothing of this file is needed again.
          this.caches.delete(f.path);
          this.docs.close(f.path);
        }
      } catch {
        reply.results.push(null);
      } finally {
        // A context file's tree goes at once.
        if (fromDisk) this.docs.close(f.path);
      }
    }
    return reply;
  }

  /** Lets every tree go (the parser is the caller's). */
  dispose(): void {
    this.docs.dispose();
    this.caches.clear();
  }
}
