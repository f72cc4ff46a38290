/**
 * The language server as the VS Code extension starts it in a Node child
 * process (bundled as dist/lsp-server.js, next to the parser's wasm files):
 * the transport comes from the command line as vscode-languageclient passes
 * it (`--node-ipc`, `--stdio`), and `--index DIR` keeps the persistent facts
 * index there (the extension's global storage), and `--no-config` reads no
 * configuration file (an untrusted workspace). Other editors run the same
 * server as `iommufd-review lsp --stdio` (src/cli/lsp.ts).
 */
import { createConnection } from 'vscode-languageserver/node';
import { nodeHost } from './node-host';
import { startServer } from './server';

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const connection = createConnection();
// Nothing the analysis throws may end the server: it is logged and the next request is served.
process.on('uncaughtException', (e) => connection.console.error(`iommufd-review lsp: ${e?.stack ?? String(e)}`));
process.on('unhandledRejection', (e) =>
  connection.console.error(`iommufd-review lsp: ${(e as Error)?.stack ?? String(e)}`),
);
startServer(
  connection,
  nodeHost({ indexDir: argument('--index'), configFiles: !process.argv.includes('--no-config') }),
);
connection.listen();
