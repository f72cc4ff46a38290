import { Language, Parser, type Tree } from 'web-tree-sitter';
import type { CParser, SyntaxTree } from './syntax';
import { HOST_LITTLE_ENDIAN, WasmNodeRuntime, WasmTree, type WasmModule } from './wasm-nodes';

/** The two wasm files, as bytes: callers load them (fs in Node, workspace.fs in VS Code). */
export interface WasmBytes {
  /** web-tree-sitter's runtime, `tree-sitter.wasm`. */
  runtime: Uint8Array;
  /** tree-sitter-c's grammar, `tree-sitter-c.wasm`. */
  language: Uint8Array;
}

// Parser.init sets up one global emscripten module: do it once per process.
let languagePromise: Promise<{ language: Language; nodes: WasmNodeRuntime | undefined }> | undefined;

function loadLanguage(bytes: WasmBytes): Promise<{ language: Language; nodes: WasmNodeRuntime | undefined }> {
  if (!languagePromise) {
    languagePromise = (async () => {
      const options = {
        wasmBinary: bytes.runtime,
        // The web host asks for a URL even when the bytes are given.
        locateFile: (name: string) => name,
      };
      await Parser.init(options);
      const language = await Language.load(bytes.language);
      // emscripten makes the options object the module itself: the fast nodes call its exports (wasm-nodes.ts).
      // When another copy of this module initialised web-tree-sitter first, the options were not used: keep its nodes.
      const module = options as unknown as Partial<WasmModule>;
      const nodes =
        HOST_LITTLE_ENDIAN && typeof module._ts_init === 'function'
          ? new WasmNodeRuntime(module as WasmModule, language)
          : undefined;
      return { language, nodes };
    })();
    languagePromise.catch(() => {
      languagePromise = undefined;
    });
  }
  return languagePromise;
}

/** web-tree-sitter's tree under a SyntaxTree this parser returned. */
function innerTree(tree: SyntaxTree): Tree {
  return tree instanceof WasmTree ? tree.inner : (tree as unknown as Tree);
}

class WasmCParser implements CParser {
  readonly backend = 'wasm' as const;
  constructor(
    private readonly parser: Parser,
    private readonly nodes: WasmNodeRuntime | undefined,
  ) {}

  parse(text: string, oldTree?: SyntaxTree, timeoutMs = 0): SyntaxTree | null {
    const start = Date.now();
    const tree = this.parser.parse(text, oldTree ? innerTree(oldTree) : null, {
      // progressCallback returning true cancels the parse: our time cap.
      progressCallback: timeoutMs > 0 ? () => Date.now() - start > timeoutMs : undefined,
    });
    if (!tree) {
      this.parser.reset();
      return null;
    }
    return this.nodes ? new WasmTree(this.nodes, tree, text) : (tree as unknown as SyntaxTree);
  }

  free(tree: SyntaxTree): void {
    innerTree(tree).delete();
  }

  dispose(): void {
    this.parser.delete();
  }
}

export async function createWasmParser(bytes: WasmBytes): Promise<CParser> {
  const { language, nodes } = await loadLanguage(bytes);
  const parser = new Parser();
  parser.setLanguage(language);
  return new WasmCParser(parser, nodes);
}
