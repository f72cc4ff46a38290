import { Language, Parser, type Tree } from 'web-tree-sitter';
import type { CParser, SyntaxTree } from './syntax';

/** The two wasm files, as bytes: callers load them (fs in Node, workspace.fs in VS Code). */
export interface WasmBytes {
  /** web-tree-sitter's runtime, `tree-sitter.wasm`. */
  runtime: Uint8Array;
  /** tree-sitter-c's grammar, `tree-sitter-c.wasm`. */
  language: Uint8Array;
}

// Parser.init sets up one global emscripten module: do it once per process.
let languagePromise: Promise<Language> | undefined;

function loadLanguage(bytes: WasmBytes): Promise<Language> {
  if (!languagePromise) {
    languagePromise = (async () => {
      await Parser.init({
        wasmBinary: bytes.runtime,
        // The web host asks for a URL even when the bytes are given.
        locateFile: (name: string) => name,
      });
      return Language.load(bytes.language);
    })();
    languagePromise.catch(() => {
      languagePromise = undefined;
    });
  }
  return languagePromise;
}

class WasmCParser implements CParser {
  readonly backend = 'wasm' as const;
  constructor(private readonly parser: Parser) {}

  parse(text: string, oldTree?: SyntaxTree, timeoutMs = 0): SyntaxTree | null {
    const start = Date.now();
    const tree = this.parser.parse(text, (oldTree as unknown as Tree | undefined) ?? null, {
      // progressCallback returning true cancels the parse: our time cap.
      progressCallback: timeoutMs > 0 ? () => Date.now() - start > timeoutMs : undefined,
    });
    if (!tree) this.parser.reset();
    return tree as unknown as SyntaxTree | null;
  }

  free(tree: SyntaxTree): void {
    (tree as unknown as Tree).delete();
  }

  dispose(): void {
    this.parser.delete();
  }
}

export async function createWasmParser(bytes: WasmBytes): Promise<CParser> {
  const language = await loadLanguage(bytes);
  const parser = new Parser();
  parser.setLanguage(language);
  return new WasmCParser(parser);
}
