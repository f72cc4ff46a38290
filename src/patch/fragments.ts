/**
 * Without a base tree, a file's images are rebuilt from what its hunks show:
 * context and added lines for the post-image, context and removed lines for
 * the pre-image. A hunk usually starts inside a function, so the enclosing
 * function is reopened from the `@@ ... @@ section` text git writes (the
 * function's name is what fingerprints use) and unclosed braces are closed,
 * so the parser sees whole functions. Synthesised lines have no patch line.
 *
 * The lines the hunks do not show are unknown, not absent. Hunks of one
 * function are joined in order, each placed at the nesting its indentation
 * shows (kernel style: one tab a level), so the events of the fragment stay
 * in order and in the right blocks. What the unseen head and tail of a
 * function do with locks is inferred from what the shown lines do with them:
 * a lock the shown lines release without having taken it was taken above
 * them; a lock the function releases somewhere in view, still held when the
 * view ends, is released below it (and so are the labels that gotos in view
 * jump to). Both images get the same inference, so what differs between them
 * is what the patch changed.
 */
import { lockApi } from '../engine/model/lock-apis';
import { identifierBefore } from '../engine/text-scan';
import type { FileDiff, Hunk } from './types';

export interface Fragment {
  text: string;
  /** Image line (1-based) → patch-file line, for lines the patch shows. */
  origin: Map<number, number>;
  /** Functions whose beginning the hunks do not show (reopened from a section): their bodies are partial. */
  partial: Set<string>;
  /** Per hunk, in order: the first and last image line its shown lines landed on (to < from when none). */
  hunkLines: { from: number; to: number }[];
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
  if (open < 0 || identifierBefore(s, open) === undefined) return undefined;
  if (/^(if|for|while|switch|return)\b/.test(s) || s.endsWith(';')) return undefined;
  const close = s.lastIndexOf(')');
  if (close > open) return s.slice(0, close + 1);
  const comma = s.lastIndexOf(',');
  return (comma > open ? s.slice(0, comma) : s.slice(0, open + 1) + 'void') + ')';
}

export function functionNameOf(signature: string | undefined): string | undefined {
  if (signature === undefined) return undefined;
  const open = signature.indexOf('(');
  return open < 0 ? undefined : identifierBefore(signature, open);
}

/** `static int foo(` at column 0 → `foo`: the name before the line's first `(`, with no `;` or `=` before it. */
function definitionName(line: string): string | undefined {
  if (!/^[A-Za-z_]/.test(line)) return undefined;
  const stop = line.search(/[(;=]/);
  return stop > 0 && line[stop] === '(' ? identifierBefore(line, stop) : undefined;
}

/** A lock call seen in a shown line: `mutex_unlock(&x->lock)` → its lock argument and the call text. */
interface LockCall {
  action: 'acquire' | 'release';
  /** First argument, blanks removed: the lock's identity within the function. */
  lock: string;
  /** The whole call, as written (without the `;`). */
  call: string;
  name: string;
  args: string;
}

/** Lock acquire/release calls of one line, found in one left-to-right scan (no regex over the line). */
export function lockCalls(line: string): LockCall[] {
  const out: LockCall[] = [];
  const trimmed = line.trimStart();
  if (trimmed.startsWith('//') || trimmed.startsWith('*') || trimmed.startsWith('/*')) return out;
  const isIdent = (c: string | undefined) =>
    c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '_');
  let i = 0;
  while (i < line.length) {
    if (!isIdent(line[i]) || (i > 0 && isIdent(line[i - 1]))) {
      i++;
      continue;
    }
    let j = i;
    while (isIdent(line[j])) j++;
    const name = line.slice(i, j);
    let k = j;
    while (line[k] === ' ' || line[k] === '\t') k++;
    const api = line[k] === '(' ? lockApi(name) : undefined;
    if (api && (api.action === 'acquire' || api.action === 'release') && !api.trylock && !api.onZero) {
      let depth = 0;
      let end = k;
      for (; end < line.length; end++) {
        if (line[end] === '(') depth++;
        else if (line[end] === ')' && --depth === 0) break;
      }
      if (end < line.length) {
        const args = line.slice(k + 1, end);
        let first = '';
        let d = 0;
        for (const c of args) {
          if (c === '(') d++;
          else if (c === ')') d--;
          else if (c === ',' && d === 0) break;
          if (c !== ' ' && c !== '\t') first += c;
        }
        out.push({ action: api.action, lock: first, call: line.slice(i, end + 1), name, args });
        i = end + 1;
        continue;
      }
    }
    i = j;
  }
  return out;
}

/** The acquire that a release undoes (`spin_unlock_irqrestore` → `spin_lock_irqsave`, `up_read` → `down_read`). */
export function acquireFor(release: string): string | undefined {
  const candidates = [
    release.replace('_unlock_irqrestore', '_lock_irqsave'),
    release.replace('_unlock', '_lock'),
    release.replace(/^up_/, 'down_'),
  ];
  const mode = lockApi(release)?.mode;
  return candidates.find((c) => c !== release && lockApi(c)?.action === 'acquire' && lockApi(c)?.mode === mode);
}

/**
 * What unseen lines did with locks, inferred from both images together (the
 * unseen lines are the same in both: the patch did not change them).
 */
export interface LockHints {
  /** Per hunk that starts inside a function after unseen lines: locks that function must hold there. */
  gap: Map<number, Map<string, LockCall>>;
  /** Per function: locks it releases on its way out (a release followed by a return, goto or its end). */
  exit: Map<string, Map<string, LockCall>>;
}

interface Built extends Fragment {
  hints: LockHints;
}

const indentOf = (text: string): number => {
  let n = 0;
  for (const c of text) {
    if (c === '\t') n++;
    else break;
  }
  return n;
};

const EXIT = /^\s*(return\b|goto\s)/;
const LABEL = /^([A-Za-z_]\w*):/;
const GOTO = /\bgoto\s+([A-Za-z_]\w*)\s*;/;

function addHint<K>(map: Map<K, Map<string, LockCall>>, key: K, c: LockCall): void {
  let m = map.get(key);
  if (!m) map.set(key, (m = new Map()));
  if (!m.has(c.lock)) m.set(c.lock, c);
}

function build(file: FileDiff, side: 'old' | 'new', given: LockHints): Built {
  const out: string[] = [];
  const origin = new Map<number, number>();
  const partial = new Set<string>();
  const seen: LockHints = { gap: new Map(), exit: new Map() };
  const hunkLines: Fragment['hunkLines'] = [];
  const comment = { on: false };
  let depth = 0;
  let open: string | undefined; // name of the function the text is inside of
  let candidate: string | undefined;
  // Locks the function holds at its own level (depth 1), as far as the shown lines and the inferences say.
  let held = new Map<string, LockCall>();
  const gotos = new Set<string>();
  const labels = new Set<string>();
  const skip = side === 'old' ? '+' : '-';
  const fresh = () => {
    held = new Map();
    gotos.clear();
    labels.clear();
  };
  /** Where shown lines resume after unseen ones: take what the unseen lines must have taken. */
  const resume = (hunk: number) => {
    for (const [lock, rel] of given.gap.get(hunk) ?? []) {
      const acquire = held.has(lock) ? undefined : acquireFor(rel.name);
      if (!acquire) continue;
      out.push(`\t${acquire}(${rel.args});`);
      held.set(lock, rel);
    }
  };
  const close = () => {
    // Braces we close ourselves: the function's tail is not in view.
    if (depth > 0 && open) {
      partial.add(open);
      while (depth > 1) {
        out.push('}');
        depth--;
      }
      // The unseen tail: gotos in view land there, and it releases what the function releases on its way out.
      const exits = given.exit.get(open);
      for (const label of gotos) if (!labels.has(label)) out.push(`${label}:`);
      const before = out.length;
      for (const lock of held.keys()) {
        const release = exits?.get(lock);
        if (release) out.push(`\t${release.call};`);
      }
      // A label needs a statement after it.
      if (out.length === before && [...gotos].some((g) => !labels.has(g))) out.push('\t;');
    }
    while (depth > 0) {
      out.push('}');
      depth--;
    }
    open = undefined;
  };
  file.hunks.forEach((hunk: Hunk, h: number) => {
    const lines = hunk.lines.filter((l) => l.op !== skip && l.op !== '\\');
    const signature = signatureFromSection(hunk.section);
    const name = functionNameOf(signature);
    const firstCode = lines.find((l) => l.text.trim() !== '' && !LABEL.test(l.text))?.text;
    // This hunk starts inside a function whose preceding lines are unseen.
    let continuing = false;
    if (depth > 0 && name !== open) close();
    else if (depth > 0 && open) {
      // Continuing the same function after a gap: lines are missing from it. Resume at the nesting the next line's indentation shows.
      partial.add(open);
      continuing = true;
      const want = firstCode !== undefined ? Math.max(1, indentOf(firstCode)) : depth;
      while (depth > want) {
        out.push('}');
        depth--;
      }
      while (depth < want) {
        out.push('{');
        depth++;
      }
      resume(h);
    }
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
    if (missing === 0 && depth === 0 && signature && (/^\s/.test(first) || LABEL.test(first)))
      missing = Math.max(1, firstCode !== undefined ? indentOf(firstCode) : 1);
    if (missing > 0) {
      const reopened = depth === 0;
      if (name) partial.add(name);
      if (signature && reopened) out.push(signature);
      out.push('{');
      if (reopened) {
        open = name;
        fresh();
        continuing = true;
        resume(h);
      }
      for (let k = 1; k < missing; k++) out.push('{');
      depth += missing;
    }
    // Until the continued function ends: releases of locks not taken in view mean the unseen lines took them.
    let inGap = continuing;
    const takenHere = new Set<string>();
    let lastRelease: LockCall[] = [];
    hunkLines.push({ from: lines.length > 0 ? out.length + 1 : 0, to: out.length + lines.length });
    for (const l of lines) {
      const before = depth;
      out.push(l.text);
      origin.set(out.length, l.patchLine);
      // A definition starting in the hunk: its name is on a column-0 line with `(`.
      if (depth === 0) candidate = definitionName(l.text) ?? candidate;
      if (depth > 0 && open) {
        const label = LABEL.exec(l.text)?.[1];
        if (label && label !== 'default') labels.add(label);
        const target = GOTO.exec(l.text)?.[1];
        if (target) gotos.add(target);
        if (l.text.trim() !== '') {
          if (EXIT.test(l.text)) for (const c of lastRelease) addHint(seen.exit, open, c);
          lastRelease = [];
        }
        for (const c of lockCalls(l.text)) {
          if (c.action === 'release') {
            if (inGap && !held.has(c.lock) && !takenHere.has(c.lock)) addHint(seen.gap, h, c);
            if (depth === 1) held.delete(c.lock);
            lastRelease.push(c);
          } else {
            takenHere.add(c.lock);
            if (depth === 1) held.set(c.lock, c);
          }
        }
      }
      depth += braceDelta(l.text, comment).delta;
      if (before === 0 && depth > 0) {
        open = candidate ?? name;
        fresh();
      }
      if (depth <= 0) {
        depth = 0;
        if (before > 0) {
          // A release just before the function's closing brace is on its way out.
          if (open) for (const c of lastRelease) addHint(seen.exit, open, c);
          lastRelease = [];
          open = undefined;
          candidate = undefined;
          inGap = false;
        }
      }
    }
  });
  close();
  return { text: out.join('\n') + '\n', origin, partial, hunkLines, hints: seen };
}

/**
 * Both images of a file from its hunks. Built twice: once to see what each
 * side's shown lines do with locks, then with what the unseen lines must
 * have done, inferred from both sides together.
 */
export function buildFragments(file: FileDiff): { old: Fragment; new: Fragment } {
  const none: LockHints = { gap: new Map(), exit: new Map() };
  const first = { old: build(file, 'old', none), new: build(file, 'new', none) };
  const hints: LockHints = { gap: new Map(), exit: new Map() };
  for (const side of [first.old, first.new]) {
    for (const [h, m] of side.hints.gap) for (const c of m.values()) addHint(hints.gap, h, c);
    for (const [fn, m] of side.hints.exit) for (const c of m.values()) addHint(hints.exit, fn, c);
  }
  const strip = (b: Built): Fragment => ({
    text: b.text,
    origin: b.origin,
    partial: b.partial,
    hunkLines: b.hunkLines,
  });
  if (hints.gap.size === 0 && hints.exit.size === 0) return { old: strip(first.old), new: strip(first.new) };
  return { old: strip(build(file, 'old', hints)), new: strip(build(file, 'new', hints)) };
}

export function buildFragment(file: FileDiff, side: 'old' | 'new'): Fragment {
  return buildFragments(file)[side];
}
