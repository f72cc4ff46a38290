/**
 * Per-file facts: what the engine keeps of one file after parsing and
 * modelling (its struct layouts and its model), as plain data, so a store
 * can hand them back instead of parsing the file again. Browser-safe: the
 * store behind this interface is the host's (Node: a folder on disk, see
 * src/engine/node/facts-disk-store.ts; a browser could use IndexedDB).
 *
 * The model is kept whole (whatever fields the model has today or gains
 * later), so the index needs no change when the model grows; the engine
 * version in the store's key makes facts of another build invisible.
 */
import type { StructTable } from '../model/structs';
import type { FileModel } from '../model/types';

export interface FileFacts {
  /** The structs, bool functions and file-scope objects the file defines (`readFileStructs`). */
  own: StructTable;
  /** A note that still let the file be analysed (its struct layouts could not be read). */
  warning?: string;
  /**
   * The file's model and the context it was built in: a digest of the merged
   * struct table it resolved lock names through (every file's layouts plus
   * knowledge). The same text in another context is modelled again.
   */
  model?: { context: string; value: FileModel };
}

/**
 * Where facts live between runs. Keyed by path and exact text (a store may
 * hash them); `get` returns only facts written by this engine version.
 * Must never throw: a store that cannot read or write says so in its own
 * notes and answers as if empty.
 */
export interface FactsStore {
  get(path: string, text: string): FileFacts | undefined;
  put(path: string, text: string, facts: FileFacts): void;
  /** A short, collision-resistant stand-in for a long string (the model context, a file's text). */
  digest(text: string): string;
  /**
   * `get`/`put` by the file's `digest(text)` instead of its text, for hosts
   * that keep a context file's digest and facts but not its text (a whole
   * tree as context: see node/facts-workers.ts). Optional: a store without
   * them gets every file's text.
   */
  getDigested?(path: string, textDigest: string): FileFacts | undefined;
  putDigested?(path: string, textDigest: string, facts: FileFacts): void;
}

/** The context a model is built in: the merged struct layouts' key plus the knowledge's own layouts. */
export function modelContext(store: FactsStore, structsKey: string, knowledgeStructs: StructTable): string {
  return store.digest(`${structsKey}\u0001${JSON.stringify(knowledgeStructs)}`);
}
