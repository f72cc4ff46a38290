/** Node-only: finds the two wasm files next to the bundle or in node_modules. */
import * as fs from 'fs';
import * as path from 'path';
import type { WasmBytes } from './wasm-parser';

function locate(bundled: string, packaged: string): string {
  const local = path.join(__dirname, bundled);
  if (fs.existsSync(local)) return local;
  return require.resolve(packaged);
}

export function readWasmFromDisk(): WasmBytes {
  return {
    runtime: fs.readFileSync(locate('tree-sitter.wasm', 'web-tree-sitter/tree-sitter.wasm')),
    language: fs.readFileSync(locate('tree-sitter-c.wasm', 'tree-sitter-c/tree-sitter-c.wasm')),
  };
}
