/**
 * `iommufd-review lsp --stdio`: the language server over standard input and
 * output, for any LSP client (Neovim, Vim, Emacs, Helix, VS Code). The server
 * itself is src/lsp/server.ts; this file only makes the Node connection and
 * host. Standard output carries the protocol alone: logs go to the client
 * (window/logMessage) and, when the connection is gone, to standard error.
 */
import { parseArgs } from 'util';
import { createConnection } from 'vscode-languageserver/node';
import { nodeHost } from '../lsp/node-host';
import { startServer } from '../lsp/server';
import { INDEX_ARG_OPTIONS, INDEX_HELP, readIndexOptions } from './index-options';
import { EXIT_OK, UsageError, writeOut } from './usage-error';

export const HELP = `Usage: iommufd-review lsp --stdio [--index DIR | --no-index]

Run the iommufd-review language server over standard input and output:
diagnostics (pushed, or pulled by clients that pull) on C files and patch
mails (.patch, .diff, .mbox, .eml), hovers, Simulate code lenses, code
actions, and the requests iommufd/simulation, iommufd/lockGraph and
iommufd/reviewSeries. Settings: the VS Code extension's iommufd.* keys, through
workspace/configuration, didChangeConfiguration or initializationOptions;
knowledge from .iommufd-review.json found upward from the files.

Editor configurations (Neovim, Vim, Emacs, Helix): docs/lsp.md.

The persistent index is the one \`check\`, \`patch\` and \`simulate\` use, so
context files they have read are not parsed again (documents being typed
into are never stored).

Options:
      --stdio                  talk LSP over stdin/stdout (the only transport)
${INDEX_HELP}  -h, --help                   show this help
`;

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: { stdio: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, ...INDEX_ARG_OPTIONS },
    });
  } catch (e) {
    throw new UsageError((e as Error).message.split(/\.(?:\s|$)/)[0], 'lsp');
  }
  if (parsed.values.help) {
    await writeOut(process.stdout, HELP);
    return EXIT_OK;
  }
  if (!parsed.values.stdio)
    throw new UsageError('say --stdio: the server talks LSP over standard input and output', 'lsp');
  const { indexDir } = readIndexOptions(parsed.values, 'lsp');
  const connection = createConnection(process.stdin, process.stdout);
  // Nothing the analysis throws may end the server: it is logged and the next request is served.
  process.on('uncaughtException', (e) => process.stderr.write(`iommufd-review lsp: ${e?.stack ?? String(e)}\n`));
  process.on('unhandledRejection', (e) =>
    process.stderr.write(`iommufd-review lsp: ${(e as Error)?.stack ?? String(e)}\n`),
  );
  startServer(connection, nodeHost({ indexDir }));
  connection.listen();
  // The connection ends the process (exit notification, or the client's end of stdin).
  return new Promise<number>(() => undefined);
}
