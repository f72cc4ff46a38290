/**
 * The native tree-sitter binding, for bulk CLI runs in Node. Never imported
 * by the browser bundle (it needs a compiled addon).
 */
import type { CParser, SyntaxTree } from './syntax';

interface NativeParser {
  setLanguage(lang: unknown): void;
  setTimeoutMicros(us: number): void;
  parse(text: string, old?: unknown, options?: { bufferSize?: number }): unknown;
  reset(): void;
}

class NativeCParser implements CParser {
  readonly backend = 'native' as const;
  constructor(private readonly parser: NativeParser) {}

  parse(text: string, oldTree?: SyntaxTree, timeoutMs = 0): SyntaxTree | null {
    this.parser.setTimeoutMicros(timeoutMs > 0 ? timeoutMs * 1000 : 0);
    try {
      // bufferSize: the binding copies the input through a fixed buffer otherwise.
      const tree = this.parser.parse(text, oldTree, { bufferSize: text.length * 2 + 1 });
      return (tree as SyntaxTree | undefined) ?? null;
    } catch {
      this.parser.reset();
      return null;
    }
  }

  free(): void {
    // Native trees are garbage collected.
  }

  dispose(): void {}
}

export function createNativeParser(): CParser {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Parser = require('tree-sitter') as new () => NativeParser;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const C = require('tree-sitter-c') as unknown;
  const parser = new Parser();
  parser.setLanguage(C);
  return new NativeCParser(parser);
}
