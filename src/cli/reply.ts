/**
 * `iommufd-review reply SESSION.json PATCH`: print the reply mail for one
 * patch of a saved review session, exactly as the extension composes it. Lets
 * the format be checked (and mail sent with a mailer of one's choice) without
 * an editor. Read-only: an unreadable session file is reported, not moved.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'util';
import { composeSessionReply } from '../report/reply';
import { ReviewError, resolvePatch } from '../review/session';
import { parseSessionText } from '../review/store';
import { EXIT_OK, UsageError, writeOut } from './usage-error';

export const HELP = `Usage: iommufd-review reply [OPTIONS] SESSION.json PATCH

Print the review reply for one patch of a saved review session (the files
under .vscode/iommufd-review/): headers threading it under the patch, the
commented hunks quoted and trimmed, the comments, the trailers.
PATCH is the patch's Message-ID (with or without <>) or its number in the series.
Nothing is sent.

Options:
      --from ADDRESS   From: header (default: the session's reviewer)
      --to ADDRESS     To: header, repeatable (default: the patch's author)
      --cc ADDRESS     Cc: header, repeatable (default: the patch's To and Cc)
  -o, --output FILE    write the mail to FILE (e.g. reply.eml) instead of stdout
  -h, --help           show this help

Exit status: 0 done, 2 usage or input error, 3 internal error.
`;

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        from: { type: 'string' },
        to: { type: 'string', multiple: true },
        cc: { type: 'string', multiple: true },
        output: { type: 'string', short: 'o' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message, 'reply');
  }
  const { values, positionals } = parsed;
  if (values.help) {
    await writeOut(process.stdout, HELP);
    return EXIT_OK;
  }
  if (positionals.length < 1) throw new UsageError('missing SESSION.json', 'reply');
  const [file, patchRef, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`, 'reply');

  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'reply');
  }
  const session = parseSessionText(text);
  if (typeof session === 'string') throw new UsageError(`${file}: ${session}`, 'reply');
  if (patchRef === undefined) {
    const list = session.series.patches.map((p) => `  ${p.index}  ${p.messageId ?? p.id}  ${p.subject}`).join('\n');
    throw new UsageError(`missing PATCH; the session's patches:\n${list}`, 'reply');
  }
  let mail: string;
  try {
    resolvePatch(session, patchRef);
    mail = composeSessionReply(session, patchRef, {
      ...(values.from !== undefined ? { from: values.from } : {}),
      ...(values.to !== undefined ? { to: values.to } : {}),
      ...(values.cc !== undefined ? { cc: values.cc } : {}),
    });
  } catch (e) {
    if (e instanceof ReviewError) throw new UsageError(e.message, 'reply');
    throw e;
  }
  if (values.output !== undefined) await writeFile(values.output, mail);
  else await writeOut(process.stdout, mail);
  return EXIT_OK;
}
