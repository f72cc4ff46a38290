/**
 * Kernel iterator macros (`list_for_each_entry(pos, head, member) stmt;`,
 * `xa_for_each(xa, index, entry)`, the hundreds of `for_each_*` forms,
 * `with_intel_runtime_pm(rpm, wf)`) expand to a `for` head. tree-sitter-c
 * sees a call with no `;` and, when no brace follows, recovers with ERROR
 * nodes that swallow the statements after it. Before parsing we rename such
 * a head to `while` padded with spaces: `while (pos, head, member) stmt;`
 * is C the grammar reads as a loop whose condition is the argument list, and
 * every offset, line and column still points at the user's text. The model
 * recognises the renamed head by the original text at that offset (see
 * `loopMacroAt`).
 */

const isWord = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;

/**
 * Identifiers that name an iterator macro (`*for_each*`, `with_*` scope loops)
 * followed by `(`: [start of the name, index of the `(`], found by plain scans
 * (no regex: kernel files are large and adversarial text must stay linear).
 */
function* loopMacroHeads(text: string): Generator<[number, number]> {
  const seen = new Set<number>();
  for (const needle of ['for_each', 'with_']) {
    for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.length)) {
      let start = at;
      while (start > 0 && isWord(text.charCodeAt(start - 1))) start--;
      if (needle === 'with_' && start !== at) continue;
      let end = at + needle.length;
      while (end < text.length && isWord(text.charCodeAt(end))) end++;
      if (seen.has(start)) continue;
      seen.add(start);
      let open = end;
      while (open < text.length && (text[open] === ' ' || text[open] === '\t')) open++;
      if (text[open] === '(' && end > start && !(text.charCodeAt(start) >= 48 && text.charCodeAt(start) <= 57))
        yield [start, open];
    }
  }
}

/** Characters after which a statement can start (the end of the previous one, a block, a label or an else). */
function statementStart(text: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i--;
  if (i < 0) return false;
  const c = text[i];
  if (c === ';' || c === '{' || c === '}' || c === ':') return true;
  // `else list_for_each(...)`, and a comment ending the previous line.
  if (c === 'e' && /(?:^|[^\w])else$/.test(text.slice(Math.max(0, i - 4), i + 1))) return true;
  if (c === '/' && text[i - 1] === '*') return true;
  // `if (cond) list_for_each(...)` / `for (...) xa_for_each(...)`: a control head's `)`.
  if (c === ')') {
    const lineStart = text.lastIndexOf('\n', i) + 1;
    return (
      /^\s*(?:\}\s*)?(?:else\s+)?(?:if|for|while)\s*\(/.test(text.slice(lineStart, i + 1)) &&
      !/^\s*#/.test(text.slice(lineStart, i))
    );
  }
  return false;
}

/** Index just past the parenthesis that closes the one at `open`, or -1 (a `;` or `{` first: unbalanced). */
export function closingParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 40 /* ( */) depth++;
    else if (c === 41 /* ) */) {
      depth--;
      if (depth === 0) return i + 1;
    } else if (c === 59 /* ; */ || c === 123 /* { */) return -1;
  }
  return -1;
}

/** The first character after `i` that is not blank or inside a comment. */
function nextSignificant(text: string, i: number): string {
  for (let j = i; j < text.length; j++) {
    const c = text[j];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\\') continue;
    if (c === '/' && text[j + 1] === '*') {
      const end = text.indexOf('*/', j + 2);
      if (end < 0) return '';
      j = end + 1;
      continue;
    }
    if (c === '/' && text[j + 1] === '/') {
      const end = text.indexOf('\n', j);
      if (end < 0) return '';
      j = end;
      continue;
    }
    return c;
  }
  return '';
}

/** `text` with every iterator macro head used as a loop renamed to `while` (same length). */
export function rewriteLoopMacros(text: string): string {
  if (text.indexOf('for_each') < 0 && text.indexOf('with_') < 0) return text;
  const heads = [...loopMacroHeads(text)].sort((x, y) => x[0] - y[0]);
  let out: string[] | undefined;
  let last = 0;
  for (const [start, open] of heads) {
    if (start < last) continue;
    const name = text.slice(start, open).trimEnd();
    if (name.length < 5 || !statementStart(text, start)) continue;
    // Not inside a preprocessor line (`#define for_each_x(...)`).
    const lineStart = text.lastIndexOf('\n', start) + 1;
    if (text.slice(lineStart, start).trimStart().startsWith('#')) continue;
    const close = closingParen(text, open) - 1;
    if (close < 0) continue;
    // A call statement ends in `;` (a call in a list or an argument in `,` or `)`); at the
    // start of a statement, anything else after an iterator's head is its body.
    const next = nextSignificant(text, close + 1);
    if (next === '' || next === ';' || next === ',' || next === ')' || next === ']') continue;
    (out ??= []).push(text.slice(last, start), 'while', ' '.repeat(name.length - 5));
    last = start + name.length;
  }
  if (!out) return text;
  out.push(text.slice(last));
  return out.join('');
}

/** The iterator macro name when the `while` at `offset` of the parsed text was renamed from one. */
export function loopMacroAt(original: string, offset: number): string | undefined {
  if (original.startsWith('while', offset)) return undefined;
  const m = /^\w+/.exec(original.slice(offset, offset + 80));
  return m ? m[0] : undefined;
}
