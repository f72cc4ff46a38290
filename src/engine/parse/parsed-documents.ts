import { blankAnnotations } from './blank-annotations';
import { applyEdit, describeEdit } from './text-edit';
import type { CParser, SyntaxTree } from './syntax';

/** One replacement, in offsets of the text it applies to. */
export interface Replacement {
  start: number;
  deletedLength: number;
  inserted: string;
}

export interface ParsedDocument {
  path: string;
  /** The user's text. */
  text: string;
  /** `text` with kernel annotations blanked: what the tree describes. */
  parsedText: string;
  tree: SyntaxTree | null;
  /** True when the last parse hit the time cap (tree is then null). */
  timedOut: boolean;
  parseMs: number;
}

/**
 * Parsed documents with incremental reparse and an LRU bound: the least
 * recently used tree is freed when the cache is full, so wasm memory stays
 * bounded however many files an editor session touches.
 */
export class ParsedDocuments {
  private readonly docs = new Map<string, ParsedDocument>();

  constructor(
    private readonly parser: CParser,
    private readonly capacity = 64,
    private readonly timeoutMs = 2000,
  ) {}

  get(path: string): ParsedDocument | undefined {
    const doc = this.docs.get(path);
    if (doc) {
      this.docs.delete(path);
      this.docs.set(path, doc);
    }
    return doc;
  }

  /** Parses `text` from scratch (or returns the cached parse of the same text). */
  open(path: string, text: string): ParsedDocument {
    const cached = this.get(path);
    if (cached && cached.text === text) return cached;
    this.close(path);
    const parsedText = blankAnnotations(text);
    return this.store(this.run(path, text, parsedText, undefined));
  }

  /** Applies replacements in order and reparses with the old tree. */
  edit(path: string, replacements: readonly Replacement[]): ParsedDocument {
    const doc = this.get(path);
    if (!doc) throw new Error(`${path} is not open`);
    let text = doc.text;
    let blanked = doc.parsedText;
    const tree = doc.tree;
    for (const r of replacements) {
      tree?.edit(describeEdit(blanked, r.start, r.deletedLength, r.inserted));
      text = applyEdit(text, r.start, r.deletedLength, r.inserted);
      blanked = applyEdit(blanked, r.start, r.deletedLength, r.inserted);
    }
    const parsedText = blankAnnotations(text);
    // Blanking can change outside the edited range (an annotation completed
    // by the edit): tell the tree about that span too.
    if (tree && parsedText !== blanked) {
      let lo = 0;
      while (parsedText.charCodeAt(lo) === blanked.charCodeAt(lo)) lo++;
      let hi = parsedText.length;
      while (hi > lo && parsedText.charCodeAt(hi - 1) === blanked.charCodeAt(hi - 1)) hi--;
      tree.edit(describeEdit(blanked, lo, hi - lo, parsedText.slice(lo, hi)));
    }
    this.docs.delete(path);
    const next = this.run(path, text, parsedText, tree ?? undefined);
    if (tree) this.parser.free(tree);
    return this.store(next);
  }

  close(path: string): void {
    const doc = this.docs.get(path);
    if (!doc) return;
    this.docs.delete(path);
    if (doc.tree) this.parser.free(doc.tree);
  }

  dispose(): void {
    for (const path of [...this.docs.keys()]) this.close(path);
  }

  private run(path: string, text: string, parsedText: string, oldTree: SyntaxTree | undefined): ParsedDocument {
    const started = performance.now();
    const tree = this.parser.parse(parsedText, oldTree, this.timeoutMs);
    return { path, text, parsedText, tree, timedOut: tree === null, parseMs: performance.now() - started };
  }

  private store(doc: ParsedDocument): ParsedDocument {
    this.docs.set(doc.path, doc);
    while (this.docs.size > this.capacity) {
      const oldest = this.docs.keys().next().value as string;
      this.close(oldest);
    }
    return doc;
  }
}
