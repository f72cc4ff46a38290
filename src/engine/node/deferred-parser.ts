/**
 * Node-only: a parser loaded only when a file must really be parsed. Loading
 * the grammar (compiling the wasm) is the largest fixed cost of a CLI run;
 * a run whose every file comes from the index never pays it. `load()` must
 * be awaited before the engine parses (facts-workers.ts `loadFiles` does).
 */
import type { Backend, CParser, SyntaxTree } from '../parse/syntax';
import { createParser } from './create-parser';

export class DeferredParser implements CParser {
  private real: CParser | undefined;

  constructor(readonly backend: Backend) {}

  get loaded(): boolean {
    return this.real !== undefined;
  }

  async load(): Promise<void> {
    this.real ??= await createParser(this.backend);
  }

  parse(text: string, oldTree?: SyntaxTree, timeoutMs?: number): SyntaxTree | null {
    if (!this.real)
      throw new Error('the parser was used before it was loaded (a bug: loadFiles decides when it is needed)');
    return this.real.parse(text, oldTree, timeoutMs);
  }

  free(tree: SyntaxTree): void {
    this.real?.free(tree);
  }

  dispose(): void {
    this.real?.dispose();
  }
}
