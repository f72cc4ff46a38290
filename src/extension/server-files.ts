/**
 * The client's half of src/lsp/client-host.ts: the browser's language server
 * (a Web Worker) has no file system, so it asks the extension for the
 * parser's wasm, the configuration file and the open files' siblings, and
 * the extension answers with workspace.fs (the extension's own files, a
 * virtual workspace's). A file over `maxFileBytes`, or one that cannot be
 * read, is answered as absent.
 */
import * as vscode from 'vscode';
import type { BaseLanguageClient } from 'vscode-languageclient';
import { decodeText } from '../patch/bytes';
import {
  CLIENT_CONFIG_REQUEST,
  CLIENT_LIST_REQUEST,
  CLIENT_READ_REQUEST,
  CLIENT_WASM_REQUEST,
  type ClientConfigAnswer,
  type ClientWasmAnswer,
} from '../lsp/protocol';
import { readConfigFile } from './analysis/session-engines';
import { uriOfKey } from './analysis/paths';
import { readSettings } from './settings';

function toBase64(bytes: Uint8Array): string {
  let s = '';
  // in chunks: String.fromCharCode takes its arguments on the stack
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function answerFileRequests(client: BaseLanguageClient, extensionUri: vscode.Uri): void {
  const fs = vscode.workspace.fs;
  client.onRequest(CLIENT_WASM_REQUEST, async (): Promise<ClientWasmAnswer> => {
    const [runtime, language] = await Promise.all([
      fs.readFile(vscode.Uri.joinPath(extensionUri, 'dist', 'tree-sitter.wasm')),
      fs.readFile(vscode.Uri.joinPath(extensionUri, 'dist', 'tree-sitter-c.wasm')),
    ]);
    return { runtime: toBase64(runtime), language: toBase64(language) };
  });
  client.onRequest(CLIENT_CONFIG_REQUEST, async (): Promise<ClientConfigAnswer> => (await readConfigFile()) ?? null);
  client.onRequest(CLIENT_READ_REQUEST, async ({ key }: { key: string }): Promise<string | null> => {
    try {
      const uri = uriOfKey(key);
      if ((await fs.stat(uri)).size > readSettings(uri).maxFileBytes) return null;
      return decodeText(await fs.readFile(uri)).text;
    } catch {
      return null;
    }
  });
  client.onRequest(CLIENT_LIST_REQUEST, async ({ dir }: { dir: string }): Promise<string[]> => {
    try {
      return (await fs.readDirectory(uriOfKey(dir))).filter(([, t]) => t === vscode.FileType.File).map(([n]) => n);
    } catch {
      return [];
    }
  });
}
