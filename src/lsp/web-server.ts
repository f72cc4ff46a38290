/**
 * The language server in a browser Web Worker: the VS Code web extension
 * (vscode.dev, github.dev) starts it from dist/web/lsp-server.js through
 * vscode-languageclient/browser. The same server as the Node one
 * (server.ts); only the connection (postMessage) and the host differ: files
 * and the parser's wasm come from the client (client-host.ts).
 */
import { BrowserMessageReader, BrowserMessageWriter, createConnection } from 'vscode-languageserver/browser';
import { clientHost } from './client-host';
import { startServer } from './server';

// the worker's own scope: messages from and to the client that created it
const scope = self as unknown as Worker;
const connection = createConnection(new BrowserMessageReader(scope), new BrowserMessageWriter(scope));
// The rule links are rewritten by the extension to its shipped docs; this base is for any other client.
startServer(
  connection,
  clientHost(connection, {
    docsBaseUri: 'https://github.com/iommufd-review/iommufd-review/blob/main/docs/engine.md',
    version: 'web',
  }),
);
connection.listen();
