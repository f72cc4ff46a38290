/**
 * Loads the parser the same way in both hosts: the two wasm files are read
 * with workspace.fs from the extension's own dist/ folder (a file: URI on the
 * desktop, an https: one on vscode.dev) and handed over as bytes.
 */
import * as vscode from 'vscode';
import { createWasmParser } from '../../engine/parse/wasm-parser';
import type { CParser } from '../../engine/parse/syntax';

export async function loadParser(extensionUri: vscode.Uri): Promise<CParser> {
  const [runtime, language] = await Promise.all([
    vscode.workspace.fs.readFile(vscode.Uri.joinPath(extensionUri, 'dist', 'tree-sitter.wasm')),
    vscode.workspace.fs.readFile(vscode.Uri.joinPath(extensionUri, 'dist', 'tree-sitter-c.wasm')),
  ]);
  return createWasmParser({ runtime, language });
}
