/**
 * The `iommufd-review` command: a dispatcher over subcommands. Each subcommand
 * is a module exporting `run(argv): Promise<exitCode>`, loaded only when used.
 * To add one, add ONE line to `commands` and a line to `summaries`.
 */
import { packageInfo } from './package-info';
import { EXIT_INTERNAL, EXIT_USAGE, UsageError } from './usage-error';

export interface Command {
  run(argv: string[]): Promise<number>;
}

export const commands: Record<string, () => Promise<Command>> = {
  check: () => import('./check'),
  simulate: () => import('./simulate'),
  reply: () => import('./reply'),
  patch: () => import('./patch'),
  lsp: () => import('./lsp'),
};

/** One line per command for --help; a command without one is still listed. */
const summaries: Record<string, string> = {
  check: 'analyse C files or directories for lock-order, callback-under-lock, rollback problems',
  patch: 'review a patch series: findings introduced, fixed or unchanged by each patch, on its lines',
  simulate: 'explore every interleaving of the access replace flow and check its invariants',
  reply: 'print the review reply mail for one patch of a saved review session',
  lsp: 'run the language server (--stdio) for Neovim, Vim, Emacs, Helix and other LSP clients',
};

export function mainHelp(): string {
  const names = Object.keys(commands).sort();
  const width = Math.max(...names.map((n) => n.length));
  return [
    'Usage: iommufd-review COMMAND [OPTIONS] [ARGS]',
    '',
    'Review Linux iommufd patches and code: lock ordering, callbacks under locks,',
    'irreversible steps before fallible ones.',
    '',
    'Commands:',
    ...names.map((n) => `  ${n.padEnd(width)}  ${summaries[n] ?? ''}`.trimEnd()),
    '',
    'Options:',
    "  -h, --help     show this help (COMMAND --help: the command's own)",
    '  -v, --version  print the version',
    '',
    'Exit status: 0 no findings, 1 findings, 2 usage or input error, 3 internal error.',
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    if (first === 'help' && rest[0] && commands[rest[0]]) return (await commands[rest[0]]()).run(['--help']);
    process.stdout.write(mainHelp());
    return first === undefined ? EXIT_USAGE : 0;
  }
  if (first === '-v' || first === '--version') {
    process.stdout.write(`${packageInfo().version}\n`);
    return 0;
  }
  const load = Object.prototype.hasOwnProperty.call(commands, first) ? commands[first] : undefined;
  if (!load) {
    const what = first.startsWith('-') ? `unknown option '${first}'` : `unknown command '${first}'`;
    process.stderr.write(
      `iommufd-review: ${what}\nCommands: ${Object.keys(commands).sort().join(', ')}. Try 'iommufd-review --help'.\n`,
    );
    return EXIT_USAGE;
  }
  try {
    return await (await load()).run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      const cmd = e.command ?? first;
      process.stderr.write(`iommufd-review ${cmd}: ${e.message}\nTry 'iommufd-review ${cmd} --help'.\n`);
      return EXIT_USAGE;
    }
    const err = e as Error;
    process.stderr.write(`iommufd-review ${first}: internal error: ${err?.stack ?? String(e)}\n`);
    return EXIT_INTERNAL;
  }
}

if (require.main === module) {
  // `iommufd-review check ... | head`: a reader that went away is not a
  // crash; the run finishes and exits with its own status.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
  }
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`iommufd-review: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = EXIT_INTERNAL;
    },
  );
}
