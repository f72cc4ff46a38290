/**
 * How the model keeps source text in events: squashed to one line and clipped
 * to a bounded length (a finding quotes it; a huge initialiser must not bloat
 * the model), and argument lists split at top-level commas.
 */
import { squash } from './syntax-util';

const MAX_TEXT = 160;

export function clip(text: string): string {
  const s = squash(text);
  return s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT - 1)}…` : s;
}

/** The argument texts of `(a, f(b, c), d)`, split at top-level commas. */
export function splitArguments(text: string): string[] {
  const inner = text.replace(/^\s*\(/, '').replace(/\)\s*$/, '');
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c === '"' || c === "'") {
      // Skip a string or character literal (commas inside do not split).
      for (i++; i < inner.length && inner[i] !== c; i++) if (inner[i] === '\\') i++;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(clip(inner.slice(start, i)));
      start = i + 1;
    }
  }
  const last = inner.slice(start);
  if (out.length > 0 || last.trim() !== '') out.push(clip(last));
  return out;
}
