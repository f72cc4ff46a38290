/**
 * Without a base tree, a file's images are rebuilt from what its hunks show:
 * context and added lines for the post-image, context and removed lines for
 * the pre-image. A hunk usually starts inside a function, so the enclosing
 * function is reopened from the `@@ ... @@ section` text git writes (the
 * function's name is what fingerprints use) and unclosed braces are closed,
 * so the parser sees whole functions. Synthesised lines have no patch line.
 */
import type { FileDiff, Hunk } from './types';

export interface Fragment {
  text: string;
  /** Image line (1-based) → patch-file line, for lines the patch shows. */
  origin: Map<number, number>;
  /** Functions whose beginning the hunks do not show (reopened from a section): their bodies are partial. */
  partial: Set<string>;
}

/** Braces of one line of C, ignoring strings, character literals and comments. */
function braceDelta(line: string, inComment: { on: boolean }): { delta: number; min: number } {
  let depth = 0;
  let min = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inComment.on) {
      if (c === '*' && line[i + 1] === '/') {
        inComment.on = false;
        i++;
      }
      continue;
    }
    if (c === '/' && line[i + 1] === '/') break;
    if (c === '/' && line[i + 1] === '*') {
      inComment.on = true;
      i++;
    } else if (c === '"' || c === "'") {
      for (i++; i < line.length && line[i] !== c; i++) if (line[i] === '\\') i++;
    } else if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      min = Math.min(min, depth);
    }
  }
  return { delta: depth, min };
}

/** `static int foo(struct x *a,` (git cuts long sections) → `static int foo(struct x *a)`. */
export function signatureFromSection(section: string): string | undefined {
  const s = section.trim();
  const open = s.indexOf('(');
  if (open < 0 || !/[A-Za-z_]\w*\s*$/.test(s.slice(0, open))) return undefined;
  if (/^(if|for|while|switch|return)\b/.test(s) || s.endsWith(';')) return undefined;
  const close = s.lastIndexOf(')');
  if (close > open) return s.slice(0, close + 1);
  const comma = s.lastIndexOf(',');
  return (comma > open ? s.slice(0, comma) : s.slice(0, open + 1) + 'void') + ')';
}

export function functionNameOf(signature: string | undefined): string | undefined {
  if (!signature) return undefined;
  return /([A-Za-z_]\w*)\s*\($/.exec(signature.slice(0, signature.indexOf('(') + 1))?.[1];
}

export function buildFragment(file: FileDiff, side: 'old' | 'new'): Fragment {
  const out: string[] = [];
  const origin = new Map<number, number>();
  const partial = new Set<string>();
  const comment = { on: false };
  let depth = 0;
  let open: string | undefined; // name of the function the text is inside of
  let candidate: string | undefined;
  const skip = side === 'old' ? '+' : '-';
  const close = () => {
    // Braces we close ourselves: the function's tail is not in view.
    if (depth > 0 && open) partial.add(open);
    while (depth > 0) {
      out.push('}');
      depth--;
    }
    open = undefined;
  };
  file.hunks.forEach((hunk: Hunk) => {
    const lines = hunk.lines.filter((l) => l.op !== skip && l.op !== '\\');
    const signature = signatureFromSection(hunk.section);
    const name = functionNameOf(signature);
    if (depth > 0 && name !== open) close();
    // Continuing the same function after a gap between hunks: lines are missing from it.
    else if (depth > 0 && open) partial.add(open);
    if (out.length > 0 && depth === 0) out.push('');
    // How far below the current depth the hunk reaches: that many braces were opened above it.
    let d = 0;
    let min = 0;
    const probe = { on: comment.on };
    for (const l of lines) {
      const b = braceDelta(l.text, probe);
      min = Math.min(min, d + b.min);
      d += b.delta;
    }
    let missing = Math.max(0, -(depth + min));
    // Balanced but inside a body: its first line is indented (or a goto label).
    const first = lines.find((l) => l.text.trim() !== '')?.text ?? '';
    if (missing === 0 && depth === 0 && signature && (/^\s/.test(first) || /^[A-Za-z_]\w*:\s*$/.test(first))) missing = 1;
    if (missing > 0) {
      if (name) partial.add(name);
      if (signature) out.push(signature);
      for (let k = 0; k < missing; k++) out.push('{');
      depth += missing;
      open = name;
    }
    for (const l of lines) {
      const before = depth;
      out.push(l.text);
      origin.set(out.length, l.patchLine);
      // A definition starting in the hunk: its name is on a column-0 line with `(`.
      if (depth === 0) candidate = /^[A-Za-z_][^(;=]*?([A-Za-z_]\w*)\s*\(/.exec(l.text)?.[1] ?? candidate;
      depth += braceDelta(l.text, comment).delta;
      if (before === 0 && depth > 0) open = candidate ?? name;
      if (depth <= 0) {
        depth = 0;
        if (before > 0) {
          open = undefined;
          candidate = undefined;
        }
      }
    }
  });
  close();
  return { text: out.join('\n') + '\n', origin, partial };
}
