/**
 * Scans of untrusted text (kernel C, mail, diffs) that a regular expression
 * would do by backtracking. Patterns such as `/\s+$/`, `/(\w+)\s*\($/` or
 * `/^(.*?)\s*\(/` try every start position and rescan the run after it, which
 * is quadratic on a long run of blanks or word characters (a line of 80 000
 * spaces in a mail took 10 s). These walk the text once from a known index.
 * For trailing blanks use String.prototype.trimEnd: it removes exactly what
 * `\s` matches, in linear time.
 */

const isWordCode = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isDigitCode = (c: number) => c >= 48 && c <= 57;
/** Exactly the characters `\s` matches and trim() removes (WhiteSpace and LineTerminator). */
const isBlankCode = (c: number) =>
  c === 32 ||
  (c >= 9 && c <= 13) ||
  c === 0xa0 ||
  c === 0x1680 ||
  (c >= 0x2000 && c <= 0x200a) ||
  c === 0x2028 ||
  c === 0x2029 ||
  c === 0x202f ||
  c === 0x205f ||
  c === 0x3000 ||
  c === 0xfeff;

/**
 * The C identifier that ends just before `end`, after skipping blanks back
 * from there: for `static int foo (` and the index of `(` it is `foo`. Like
 * the regex `([A-Za-z_]\w*)\s*$` on text.slice(0, end), including its choice
 * of the leftmost start (`9abc` gives `abc`); undefined when there is none.
 */
export function identifierBefore(text: string, end: number): string | undefined {
  let i = Math.min(end, text.length);
  while (i > 0 && isBlankCode(text.charCodeAt(i - 1))) i--;
  const wordEnd = i;
  while (i > 0 && isWordCode(text.charCodeAt(i - 1))) i--;
  while (i < wordEnd && isDigitCode(text.charCodeAt(i))) i++;
  return i < wordEnd ? text.slice(i, wordEnd) : undefined;
}

/** The text before the first `(`, without the blanks before it (`x->ops->unmap (a)` → `x->ops->unmap`); undefined without `(`. */
export function textBeforeParen(text: string): string | undefined {
  const open = text.indexOf('(');
  return open < 0 ? undefined : text.slice(0, open).trimEnd();
}

/**
 * Removes the `/* ... *\/` comments that open and close on one line, as
 * `/\/\*.*?\*\//g` would (which rescans the rest of the line from every
 * `/*`). Every character is looked at a bounded number of times: the first
 * `*\/` found is kept while the opens before it are tried.
 */
export function withoutLineComments(text: string): string {
  let out = '';
  let from = 0;
  let close = -1;
  for (let open = text.indexOf('/*'); open >= 0; open = text.indexOf('/*', from)) {
    if (close < open + 2) close = text.indexOf('*/', open + 2);
    if (close < 0) break;
    // What `.` does not match: a line break between them, so not a one-line comment.
    let lineBreak = -1;
    for (let i = open + 2; i < close; i++) {
      const c = text.charCodeAt(i);
      if (c === 10 || c === 13 || c === 0x2028 || c === 0x2029) {
        lineBreak = i;
        break;
      }
    }
    if (lineBreak >= 0) {
      // No open before this break closes on its line either (the first close is past it).
      out += text.slice(from, lineBreak + 1);
      from = lineBreak + 1;
      continue;
    }
    out += text.slice(from, open);
    from = close + 2;
  }
  return out + text.slice(from);
}

/**
 * `text` with each string and character literal's contents removed (`"a\n"`
 * becomes `""`), for tests of which identifiers code mentions. One pass: a
 * quote opens a literal that ends at the next unescaped same quote or at the
 * line's end (an unterminated literal keeps the rest of its line out).
 */
export function withoutStringContents(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const q = text[i];
    out += q;
    i++;
    if (q !== '"' && q !== "'") continue;
    while (i < text.length && text[i] !== q && text[i] !== '\n') i += text[i] === '\\' ? 2 : 1;
    if (i < text.length && text[i] === q) {
      out += q;
      i++;
    }
  }
  return out;
}

/** `text` without the run of `ch` at its end (`/\n+$/` without rescanning the run from each of its characters). */
export function trimTrailing(text: string, ch: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === ch) end--;
  return text.slice(0, end);
}

/** `text` up to its first `?` or `#`: a URI without query and fragment (`/[?#].*$/` rescans from each `?`). */
export function beforeQueryOrFragment(text: string): string {
  const q = text.indexOf('?');
  const h = text.indexOf('#');
  const cut = q < 0 ? h : h < 0 ? q : Math.min(q, h);
  return cut < 0 ? text : text.slice(0, cut);
}

/** Whether a source line holds nothing but one comment (`// ...`, or `/* ... *\/` opening and closing on it). */
export function isCommentOnlyLine(line: string): boolean {
  const t = line.trim();
  return t.startsWith('//') || (t.length >= 4 && t.startsWith('/*') && t.endsWith('*/'));
}

/**
 * The start of the member chain (`a->b.c->`, the characters `[\w>.-]`) that
 * ends at `end`, walking back once: for `&s->acc->ioas` and the index of
 * `ioas` it is the index of `s`.
 */
export function memberChainStart(text: string, end: number): number {
  let i = end;
  while (i > 0) {
    const c = text.charCodeAt(i - 1);
    if (!(isWordCode(c) || c === 62 /* > */ || c === 46 /* . */ || c === 45) /* - */) break;
    i--;
  }
  return i;
}

/**
 * `text` with its first member chain ending in `->field` (blanks allowed
 * after the arrow) replaced by `by`, or `text` itself when there is none.
 */
export function replaceMemberChain(text: string, field: string, by: string): string {
  for (let at = text.indexOf(field); at >= 0; at = text.indexOf(field, at + 1)) {
    let arrow = at;
    while (arrow > 0 && isBlankCode(text.charCodeAt(arrow - 1))) arrow--;
    if (arrow < 2 || text[arrow - 1] !== '>' || text[arrow - 2] !== '-') continue;
    return text.slice(0, memberChainStart(text, arrow - 2)) + by + text.slice(at + field.length);
  }
  return text;
}

/**
 * The identifier a member chain starts from (`s` in `s->a->b`, `&(*vdev).x`
 * gives `vdev`), skipping a leading `&`, `*`, `(` and blanks; undefined when
 * it does not start with an identifier (a cast, a call's result).
 */
export function chainRoot(text: string): string | undefined {
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 38 /* & */ || c === 42 /* * */ || c === 40 /* ( */ || isBlankCode(c)) i++;
    else break;
  }
  let j = i;
  while (j < text.length && isWordCode(text.charCodeAt(j))) j++;
  if (j === i) return undefined;
  const first = text.charCodeAt(i);
  return first >= 48 && first <= 57 ? undefined : text.slice(i, j);
}

/** `text` as a regular expression that matches it literally. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
