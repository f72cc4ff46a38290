/**
 * The server host of a server that cannot read files itself (a browser Web
 * Worker): the parser's wasm, the open files' siblings and the configuration
 * file all come from the client, which reads them with its own file system
 * (VS Code's workspace.fs: the extension's files, a virtual workspace such
 * as vscode.dev's). Browser-safe: no Node. The requests are in protocol.ts;
 * the VS Code extension answers them (src/extension/server-files.ts).
 */
import type { Connection } from 'vscode-languageserver';
import { parseConfig } from '../engine/knowledge/config';
import { createWasmParser } from '../engine/parse/wasm-parser';
import type { TreeReader } from '../patch/tree';
import type { LoadedConfiguration, ServerHost } from './host';
import {
  CLIENT_CONFIG_REQUEST,
  CLIENT_LIST_REQUEST,
  CLIENT_READ_REQUEST,
  CLIENT_WASM_REQUEST,
  type ClientConfigAnswer,
  type ClientWasmAnswer,
} from './protocol';

function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** No base tree (kernelRoot finds none): a patch mail is reviewed from its hunks alone here. */
const noTree: TreeReader = { readFile: async () => undefined, listDir: async () => [] };

export function clientHost(connection: Connection, options: { docsBaseUri: string; version: string }): ServerHost {
  // The configuration is read once, with the parser (the engine asks for it synchronously right after).
  let configuration: LoadedConfiguration = { problems: [] };
  return {
    async createParser() {
      const [wasm, config] = await Promise.all([
        connection.sendRequest<ClientWasmAnswer>(CLIENT_WASM_REQUEST, {}),
        connection.sendRequest<ClientConfigAnswer>(CLIENT_CONFIG_REQUEST, {}),
      ]);
      if (config) {
        const { config: parsed, problems } = parseConfig(config.text, config.file);
        configuration = { file: config.file, config: parsed, problems };
      }
      return createWasmParser({ runtime: fromBase64(wasm.runtime), language: fromBase64(wasm.language) });
    },
    readable: (key) => !key.startsWith('untitled:'),
    async readText(key) {
      try {
        return (await connection.sendRequest<string | null>(CLIENT_READ_REQUEST, { key })) ?? undefined;
      } catch {
        return undefined;
      }
    },
    async listFiles(dir) {
      try {
        return await connection.sendRequest<string[]>(CLIENT_LIST_REQUEST, { dir });
      } catch {
        return [];
      }
    },
    // no kernel-tree context here: reading 200 files through a remote file system on every open costs too much
    kernelRoot: async () => undefined,
    listTree: async () => [],
    loadConfig: () => configuration,
    tree: () => noTree,
    docsBaseUri: options.docsBaseUri,
    version: options.version,
  };
}
