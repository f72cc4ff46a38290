/**
 * Splits an mbox into messages. The mbox format is nothing but messages
 * separated by `From ` lines, so this is done here by hand rather than with a
 * library: a `From ` line separates only at the start of the file or after an
 * empty line, and only when a header line follows (so a commit message line
 * that begins with "From " is not taken for a separator). Body lines quoted as
 * `>From ` (mboxo) or `>>From ` (mboxrd) lose one `>`.
 */

export interface RawMessage {
  text: string;
  /** 1-based line of the input where the message starts (its `From ` line, if any). */
  startLine: number;
  endLine: number;
  /** Lines of `text` before the first header (the `From ` line): 0 or 1. */
  envelopeLines: number;
}

const HEADER_LINE = /^[A-Za-z0-9][A-Za-z0-9-]*:/;

export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function isSeparator(lines: string[], i: number): boolean {
  if (!lines[i].startsWith('From ')) return false;
  if (i > 0 && lines[i - 1].replace(/\r$/, '') !== '') return false;
  const next = lines[i + 1];
  return next !== undefined && HEADER_LINE.test(next);
}

/** True when the text looks like an mbox or a mail (starts with `From ` or a header). */
export function looksLikeMail(text: string): boolean {
  const first = text.slice(0, 200).split('\n', 1)[0];
  return (
    first.startsWith('From ') || (HEADER_LINE.test(first) && !first.startsWith('diff') && !first.startsWith('Index:'))
  );
}

export function splitMbox(text: string): RawMessage[] {
  const lines = splitLines(text);
  const starts: number[] = [];
  for (let i = 0; i < lines.length; i++) if (isSeparator(lines, i)) starts.push(i);
  if (starts.length === 0 || starts[0] !== 0) starts.unshift(0);
  const out: RawMessage[] = [];
  for (let k = 0; k < starts.length; k++) {
    const from = starts[k];
    const to = k + 1 < starts.length ? starts[k + 1] : lines.length;
    const chunk = lines.slice(from, to);
    const envelopeLines =
      chunk.length > 0 && chunk[0].startsWith('From ') && chunk.length > 1 && HEADER_LINE.test(chunk[1]) ? 1 : 0;
    const body = chunk.slice(envelopeLines).map((l) => (/^>+From /.test(l) ? l.slice(1) : l));
    // The empty line that separates messages belongs to the format, not the message.
    out.push({ text: body.join('\n') + '\n', startLine: from + 1, endLine: Math.max(from + 1, to), envelopeLines });
  }
  return out;
}
