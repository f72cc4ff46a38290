/**
 * Commit message trailers (`Signed-off-by:`, `Reviewed-by:`, `Fixes:`...): the
 * last paragraph of the message when it is made of `Key: value` lines, the
 * way `git interpret-trailers` reads them.
 */
import type { Trailer } from './types';

const TRAILER = /^([A-Za-z][A-Za-z0-9-]*):\s+(.*\S)\s*$/;

export function parseTrailers(message: string): Trailer[] {
  const lines = message.replace(/\s+$/, '').split('\n');
  let start = lines.length;
  while (start > 0 && lines[start - 1].trim() !== '') start--;
  const paragraph = lines.slice(start);
  const trailers: Trailer[] = [];
  let others = 0;
  for (const line of paragraph) {
    const m = TRAILER.exec(line);
    if (m) trailers.push({ key: m[1], value: m[2] });
    else if (/^\s/.test(line) && trailers.length > 0) trailers[trailers.length - 1].value += ' ' + line.trim();
    else others++;
  }
  // git requires most of the paragraph to be trailers; a prose paragraph with one colon is not.
  return trailers.length > 0 && trailers.length >= others ? trailers : [];
}
