/**
 * Commit message trailers (`Signed-off-by:`, `Reviewed-by:`, `Fixes:`...): the
 * last paragraph of the message when it is made of `Key: value` lines, the
 * way `git interpret-trailers` reads them.
 */
import type { Trailer } from './types';

/** `Key:` at the start of a line; the value is what follows, trimmed (no backtracking regex over it: mail is untrusted). */
const TRAILER_KEY = /^([A-Za-z][A-Za-z0-9-]*):/;

function trailerOf(line: string): Trailer | undefined {
  const key = TRAILER_KEY.exec(line);
  if (!key) return undefined;
  const rest = line.slice(key[0].length);
  const value = rest.trim();
  // `Key: value`: a blank after the colon, and a value.
  return value !== '' && rest.trimStart() !== rest ? { key: key[1], value } : undefined;
}

export function parseTrailers(message: string): Trailer[] {
  const lines = message.trimEnd().split('\n');
  let start = lines.length;
  while (start > 0 && lines[start - 1].trim() !== '') start--;
  const paragraph = lines.slice(start);
  const trailers: Trailer[] = [];
  let others = 0;
  for (const line of paragraph) {
    const t = trailerOf(line);
    if (t) trailers.push(t);
    else if (/^\s/.test(line) && trailers.length > 0) trailers[trailers.length - 1].value += ' ' + line.trim();
    else others++;
  }
  // git requires most of the paragraph to be trailers; a prose paragraph with one colon is not.
  return trailers.length > 0 && trailers.length >= others ? trailers : [];
}
