/**
 * Models seen at another text's lines. After an edit that only moves code
 * (a comment or a blank line inserted, a statement edited in place), a
 * file's new model is the old one with its lines shifted. The global step
 * (summaries, lock graph) was built at the old lines; the engine keeps it
 * by giving the rules the new model at those old lines (`atStepLines`), and
 * moves the findings to the new lines on the way out (`findingsAtLines`).
 * Everything the rules read is then at one set of lines, and the step need
 * not be redone over a whole tree for a comment.
 *
 * A line is any field named in LINE_KEYS, at any depth of a model (events,
 * accesses, blocks, lock inits, member aliases, ops tables, documented
 * orders), and `line N` in a partial function's `reason`. The unit tests
 * move a model there and back and compare it with the model built from the
 * other text, so a line field added under another name fails them.
 */
import type { LineMap } from './line-map';
import type { FileModel, FunctionModel } from './types';
import type { Finding, LockGraph, RelatedLocation } from '../types';
import { escapeRegExp } from '../text-scan';

const LINE_KEYS = new Set(['line', 'endLine', 'gotoLine', 'branchLine']);

/** `line N` in a message: a line of the file the message is about. */
const LINE_WORD = /\bline (\d+)/g;

/**
 * A copy of plain data with every line passed through `to`; undefined when
 * some line has no image (the edit added it) or the data is not plain.
 * An object met twice is copied once, so the copy shares what the original shared.
 */
function moveLines<T>(value: T, to: (line: number) => number | undefined): T | undefined {
  const copies = new Map<object, unknown>();
  let lost = false;
  const walk = (v: unknown): unknown => {
    if (lost || typeof v !== 'object' || v === null) return v;
    const done = copies.get(v);
    if (done !== undefined) return done;
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      copies.set(v, out);
      for (const x of v) out.push(walk(x));
      return out;
    }
    if (Object.getPrototypeOf(v) !== Object.prototype) {
      lost = true;
      return v;
    }
    const out: Record<string, unknown> = {};
    copies.set(v, out);
    for (const [k, x] of Object.entries(v)) {
      if (LINE_KEYS.has(k) && typeof x === 'number') {
        const moved = to(x);
        if (moved === undefined) lost = true;
        out[k] = moved;
      } else if (k === 'reason' && typeof x === 'string') {
        // Why a function is partial names the line the parser could not read.
        out[k] = x.replace(LINE_WORD, (m: string, n: string) => {
          const moved = to(Number(n));
          if (moved === undefined) lost = true;
          return `line ${moved ?? n}`;
        });
      } else out[k] = walk(x);
    }
    return out;
  };
  const copy = walk(value) as T;
  return lost ? undefined : copy;
}

/** Structural equality of plain data; an absent key and one set to undefined are the same. */
function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const y = b as unknown[];
    return a.length === y.length && a.every((x, i) => sameData(x, y[i]));
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = (o: Record<string, unknown>): string[] => Object.keys(o).filter((k) => o[k] !== undefined);
  const kx = keys(x);
  if (kx.length !== keys(y).length) return false;
  return kx.every((k) => sameData(x[k], y[k]));
}

/** A function model's view at the step's lines, while it lies in one run of the map moved by `shift`. */
const seenAt = new WeakMap<FunctionModel, { was: FunctionModel; shift: number; view: FunctionModel }>();

/**
 * `current` (built from the new text) at the lines of `step`, the model the
 * global step was built from, through `map` (old text → new text). A
 * function that is the step's, lines aside, is the step's own object, so
 * what is cached for it stays; when all are, `step` itself. Undefined when
 * the file's functions are not the same list, or some line of the model is
 * one the edit added (then the step must be redone).
 */
export function atStepLines(current: FileModel, step: FileModel, map: LineMap): FileModel | undefined {
  if (current.file !== step.file || current.functions.length !== step.functions.length) return undefined;
  const toOld = (line: number): number | undefined => map.toOld(line);
  const functions: FunctionModel[] = [];
  let same = true;
  for (let i = 0; i < current.functions.length; i++) {
    const was = step.functions[i];
    const fn = current.functions[i];
    // The builder kept this function's model (same text, same place): nothing to move.
    if (fn === was && map.keeps(was.line, was.endLine)) {
      functions.push(was);
      continue;
    }
    // Moved as far as when it was last seen (typing elsewhere in the file after a line was inserted above it).
    const shift = map.shiftOf(fn.line, fn.endLine);
    const hit = seenAt.get(fn);
    let view: FunctionModel;
    if (hit && hit.was === was && shift !== undefined && hit.shift === shift) view = hit.view;
    else {
      const moved = moveLines(fn, toOld);
      if (!moved || moved.name !== was.name) return undefined;
      view = sameData(moved, was) ? was : moved;
      if (shift !== undefined) seenAt.set(fn, { was, shift, view });
    }
    functions.push(view);
    if (view !== was) same = false;
  }
  const opsImplementations = moveLines(current.opsImplementations, toOld);
  const documentedOrders = moveLines(current.documentedOrders, toOld);
  if (!opsImplementations || !documentedOrders) return undefined;
  if (
    same &&
    sameData(opsImplementations, step.opsImplementations) &&
    sameData(documentedOrders, step.documentedOrders) &&
    sameData(current.structs, step.structs)
  )
    return step;
  return {
    ...current,
    functions,
    opsImplementations,
    documentedOrders,
    // Not read by the rules (coverage reads the file's own model); a definition the edit added keeps its line.
    skipped: current.skipped.map((s) => ({ ...s, line: map.toOld(s.line) ?? s.line })),
  };
}

/**
 * Findings computed at the step's lines, moved to the files' current lines.
 * Messages follow one convention (checks/check.ts `lineRef`): `line N` is a
 * line of the location's own file, `path:N` one of `path`.
 */
export function findingsAtLines(findings: readonly Finding[], maps: ReadonlyMap<string, LineMap>): Finding[] {
  if (maps.size === 0) return [...findings];
  const named = [...maps.keys()].map((file) => ({
    map: maps.get(file)!,
    re: new RegExp(`${escapeRegExp(file)}:(\\d+)`, 'g'),
  }));
  const text = (message: string, file: string): string => {
    const own = maps.get(file);
    let out = own ? message.replace(LINE_WORD, (_, n: string) => `line ${own.toNew(Number(n))}`) : message;
    for (const { map, re } of named)
      if (out.includes(':'))
        out = out.replace(re, (m: string, n: string) => m.slice(0, m.length - n.length) + map.toNew(Number(n)));
    return out;
  };
  const at = (file: string, line: number): number => maps.get(file)?.toNew(line) ?? line;
  return findings.map((f) => {
    const related = f.related.map((r): RelatedLocation => ({
      ...r,
      line: at(r.file, r.line),
      message: text(r.message, r.file),
    }));
    const moved: Finding = { ...f, line: at(f.file, f.line), message: text(f.message, f.file), related };
    if (f.endLine !== undefined) moved.endLine = at(f.file, f.endLine);
    return moved;
  });
}

/** The lock graph's sites moved to the files' current lines. */
export function lockGraphAtLines(graph: LockGraph, maps: ReadonlyMap<string, LineMap>): LockGraph {
  if (maps.size === 0) return graph;
  return {
    edges: graph.edges.map((e) =>
      e.sites.some((s) => maps.has(s.file))
        ? { ...e, sites: e.sites.map((s) => ({ ...s, line: maps.get(s.file)?.toNew(s.line) ?? s.line })) }
        : e,
    ),
  };
}
