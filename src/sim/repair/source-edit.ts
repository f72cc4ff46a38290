/**
 * A proposal's step list back to an edit of the function's source. The body
 * is split into its top-level statements with tree-sitter (the engine's own
 * parser); each statement carries the steps whose lines it holds, a fallible
 * call carries the `if (rc)` block of its error path, and a statement with no
 * step travels with the one before it (the lookup's put after the reference
 * it balances). The statements are laid out in the proposal's order, added
 * steps are written in the function's own names, and a call into a same-file
 * helper whose steps the proposal separates is replaced by the helper's body
 * (under the call's guard, if it had one).
 *
 * The edit is line-based replacements plus a unified diff, both computed by
 * the `diff` package from the old and the new text.
 */
import { createTwoFilesPatch, structuredPatch } from 'diff';
import { blankAnnotations } from '../../engine/parse/blank-annotations';
import { escapeRegExp, identifierBefore, isCommentOnlyLine, replaceMemberChain } from '../../engine/text-scan';
import type { CParser, SyntaxNode } from '../../engine/parse/syntax';
import type { SourceStep } from '../types';
import type { RepairStep } from './flow';

/** Replace old lines `start..end` (1-based, inclusive; `end = start - 1` inserts before `start`) with `lines`. */
export interface LineReplacement {
  start: number;
  end: number;
  lines: string[];
}

export interface SourceEdit {
  file: string;
  function: string;
  replacements: LineReplacement[];
  /** Unified diff of the file (`a/` and `b/` prefixes). */
  diff: string;
  newText: string;
  /** Helpers whose body was written out at the call site. */
  inlined: string[];
}

/** A run of body lines that moves as one: a statement (with comments before it and blank lines after it). */
interface Item {
  /** 0-based rows of the original text, inclusive. */
  start: number;
  end: number;
  /** Origins of the steps whose lines it holds. */
  origins: Set<number>;
  /** Written text, when it is not the original rows (inlined, added). */
  text?: string[];
  /** Inlined from a guarded call: the guard's condition, with parentheses. */
  guard?: string;
  node?: SyntaxNode;
}

export const namedKids = (n: SyntaxNode): SyntaxNode[] => n.namedChildren.filter((c): c is SyntaxNode => !!c);

export function findFunction(root: SyntaxNode, name: string): SyntaxNode | undefined {
  const re = new RegExp(`(^|[^\\w])${name}\\s*\\(`);
  return namedKids(root).find(
    (n) => n.type === 'function_definition' && re.test(n.childForFieldName('declarator')?.text ?? ''),
  );
}

/** The body's statements as items: comments go with the statement after them, blank lines with the one before. */
function itemsOf(body: SyntaxNode, lastRow: number): Item[] {
  const kids = namedKids(body);
  const items: Item[] = [];
  let pendingStart: number | undefined;
  for (const k of kids) {
    if (k.type === 'comment') {
      pendingStart ??= k.startPosition.row;
      continue;
    }
    items.push({ start: pendingStart ?? k.startPosition.row, end: k.endPosition.row, origins: new Set(), node: k });
    pendingStart = undefined;
  }
  // blank lines (and a trailing comment) up to the next item belong to this one
  for (let i = 0; i < items.length; i++) items[i].end = (i + 1 < items.length ? items[i + 1].start : lastRow + 1) - 1;
  return items;
}

export const indentOf = (line: string): string => /^\s*/.exec(line)![0];

/** Splits the arguments of a call's text at top-level commas. */
function callArgs(call: string): string[] {
  const open = call.indexOf('(');
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of call.slice(open + 1, call.lastIndexOf(')'))) {
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

interface Names {
  access: string;
  cur: string;
  next: string;
  savedId: string;
}

/*
 * Statement pieces read by one scan each: the regexes these replace
 * (`/(\w+)\s*=\s*([^;=]+);\s*$/` and kin) backtrack quadratically on long
 * runs of blanks or word characters, and the text is the user's C.
 */

/** The identifier directly before the first `->` that is followed by a name (`old = acc->ioas` gives `acc`). */
function firstDereferenced(text: string): string | undefined {
  for (let at = text.indexOf('->'); at >= 0; at = text.indexOf('->', at + 2)) {
    if (!/\w/.test(text[at + 2] ?? '') || !/\w/.test(text[at - 1] ?? '')) continue;
    const name = identifierBefore(text, at);
    if (name) return name;
  }
  return undefined;
}

/** `x = v;` or `T *x = v;`: the name and the trimmed value; undefined for `==`, `+=` and the like. */
function assignmentParts(stmt: string): { name: string; value: string } | undefined {
  const t = stmt.trimEnd();
  if (!t.endsWith(';')) return undefined;
  const body = t.slice(0, -1);
  const eq = body.lastIndexOf('=');
  if (eq < 0 || body.includes(';', eq)) return undefined;
  const name = identifierBefore(body, eq);
  const value = body.slice(eq + 1).trim();
  return name && value ? { name, value } : undefined;
}

/** The name a declaration without a value declares (`struct foo *bar;` gives `bar`). */
function declaredName(decl: string): string | undefined {
  const t = decl.trimEnd();
  return t.endsWith(';') ? identifierBefore(t, t.length - 1) : undefined;
}

/** `line` with `arg` appended to the first call of `fn` that closes before a `;`. */
function withArgumentAppended(line: string, fn: string, arg: string): string {
  const at = line.indexOf(fn);
  if (at < 0) return line;
  const open = line.indexOf('(', at + fn.length);
  if (open < 0 || line.slice(at + fn.length, open).trim() !== '') return line;
  const stop = line.indexOf(';', open);
  for (
    let close = line.indexOf(')', open);
    close >= 0 && (stop < 0 || close < stop);
    close = line.indexOf(')', close + 1)
  ) {
    let next = close + 1;
    while (next < line.length && /\s/.test(line[next])) next++;
    if (line[next] === ';') return `${line.slice(0, close)}, ${arg}${line.slice(close)}`;
  }
  return line;
}

function namesOf(steps: readonly SourceStep[]): Names {
  const cur = steps.find((s) => s.op === 'save-cur');
  const add = steps.find((s) => s.op === 'add-access' && s.target === 'new');
  const id = steps.find((s) => s.op === 'save-id');
  const access = firstDereferenced(cur?.action.split('=')[1] ?? '') ?? callArgs(add?.action ?? '')[1] ?? 'access';
  return {
    access,
    cur: /^(\w+)\s*=/.exec(cur?.action ?? '')?.[1] ?? 'cur',
    next: /&\s*(\w+)->iopt/.exec(add?.action ?? '')?.[1] ?? 'new',
    savedId: /^(\w+)\s*=/.exec(id?.action ?? '')?.[1] ?? 'saved_id',
  };
}

/** C text of a step the search added, in the function's names. */
function render(s: SourceStep, n: Names): string[] {
  switch (s.op) {
    case 'restore-ioas':
      return [`${n.access}->ioas = ${n.cur};`];
    case 'clear-ioas':
      return [`${n.access}->ioas = NULL;`];
    case 'busy-check':
      return [`if (${n.cur} != ${n.access}->ioas_unpin)`, '\treturn -EBUSY;'];
    case 'save-id':
      return [`${n.savedId} = ${n.access}->iopt_access_list_id;`];
    case 'put-ref':
      return [`refcount_dec(&${s.target === 'new' ? n.next : n.cur}->obj.users);`];
    case 'lock':
    case 'unlock':
      return [`mutex_${s.op}(&${n.access}->ioas_lock);`];
    default:
      return [`${s.action};`];
  }
}

/** The statement (child of a compound statement) that holds row `row`, climbing out of a braceless `if`. */
function statementAt(node: SyntaxNode, row: number): SyntaxNode | undefined {
  let found: SyntaxNode | undefined;
  const visit = (n: SyntaxNode): void => {
    if (n.startPosition.row > row || n.endPosition.row < row) return;
    if (n.parent?.type === 'compound_statement' && n.type !== 'comment' && n.startPosition.row === row) found ??= n;
    for (const c of namedKids(n)) visit(c);
  };
  visit(node);
  if (!found) {
    // a braceless if's body: the if is the statement
    const visitIf = (n: SyntaxNode): void => {
      if (n.startPosition.row > row || n.endPosition.row < row) return;
      if (
        n.parent?.type === 'compound_statement' &&
        n.type === 'if_statement' &&
        n.childForFieldName('consequence')?.type !== 'compound_statement'
      )
        found ??= n;
      for (const c of namedKids(n)) visitIf(c);
    };
    visitIf(node);
  }
  return found;
}

export class SourceEditError extends Error {}

/**
 * The edit that turns `fnName` in `text` into the proposal. `original` is the
 * step list the search started from (origins index it); `proposal` the
 * repaired list.
 */
export function sourceEditFor(
  parser: CParser,
  file: string,
  text: string,
  fnName: string,
  original: readonly SourceStep[],
  proposal: readonly RepairStep[],
): SourceEdit {
  const tree = parser.parse(blankAnnotations(text));
  if (!tree) throw new SourceEditError(`${file}: the parser gave up on this file`);
  try {
    return build(tree.rootNode, file, text, fnName, original, proposal);
  } finally {
    parser.free(tree);
  }
}

function build(
  root: SyntaxNode,
  file: string,
  text: string,
  fnName: string,
  original: readonly SourceStep[],
  proposal: readonly RepairStep[],
): SourceEdit {
  const lines = text.split('\n');
  const fn = findFunction(root, fnName);
  const body = fn?.childForFieldName('body');
  if (!fn || !body) throw new SourceEditError(`no definition of ${fnName}() in ${file}`);
  const firstRow = body.startPosition.row + 1;
  const lastRow = body.endPosition.row - 1;
  const names = namesOf(proposal);
  const rowOf = (s: SourceStep): number | undefined => {
    const at = s.via && s.via.length > 0 ? s.via[0] : s;
    return at.file === undefined || at.file === file ? (at.line ?? 0) - 1 : undefined;
  };
  let items = itemsOf(body, lastRow);
  const itemAt = (row: number): Item | undefined => items.find((it) => it.start <= row && row <= it.end);
  const place = (): void => {
    items.forEach((it) => it.origins.clear());
    original.forEach((s, i) => {
      const row = rowOf(s);
      const it = row !== undefined ? itemAt(row) : undefined;
      if (!it) throw new SourceEditError(`step \`${s.action}\` (line ${s.line ?? '?'}) is outside ${fnName}()`);
      it.origins.add(i);
    });
  };
  place();

  const mainOrder = proposal.slice(0, proposal.findIndex((s) => s.op === 'return') + 1);
  const inlined: string[] = [];
  // a helper call whose steps the proposal separates or changes is written out in place
  for (const it of [...items]) {
    const viaSteps = [...it.origins].filter((o) => original[o].via?.length);
    if (viaSteps.length === 0) continue;
    const positions = viaSteps.map((o) => mainOrder.findIndex((s) => s.origin === o));
    const kept = positions.filter((p) => p >= 0).sort((a, b) => a - b);
    const contiguous = kept.every((p, k) => k === 0 || p === kept[k - 1] + 1) && kept.length === viaSteps.length;
    const changed = viaSteps.some((o) => {
      const now = proposal.find((s) => s.origin === o);
      return !now || now.listId !== original[o].listId;
    });
    if (contiguous && !changed) continue;
    const call = original[viaSteps[0]].via![0];
    const calleeName = /^(\w+)\s*\(/.exec(call.action)?.[1];
    const callee = calleeName ? findFunction(root, calleeName) : undefined;
    const calleeBody = callee?.childForFieldName('body');
    if (!callee || !calleeBody || !calleeName)
      throw new SourceEditError(
        `the proposal reorders steps inside ${calleeName ?? call.action}(), whose definition is not in ${file}`,
      );
    if (viaSteps.some((o) => (original[o].via?.length ?? 0) > 1))
      throw new SourceEditError(`the proposal reorders steps two calls deep inside ${calleeName}(); write it by hand`);
    inlined.push(calleeName);
    const params = namedKids(callee.childForFieldName('declarator')?.childForFieldName('parameters') ?? callee).map(
      (p) => identifierBefore(p.text, p.text.length) ?? '',
    );
    const args = callArgs(call.action);
    const rename = (l: string): string =>
      params.reduce(
        (acc, p, k) => (p && args[k] && p !== args[k] ? acc.replace(new RegExp(`\\b${p}\\b`, 'g'), args[k]) : acc),
        l,
      );
    const node = it.node;
    const guard =
      node?.type === 'if_statement' &&
      node.childForFieldName('consequence')?.type !== 'compound_statement' &&
      !node.childForFieldName('alternative')
        ? node.childForFieldName('condition')?.text
        : undefined;
    const callerText = lines.slice(firstRow, lastRow + 1).join('\n');
    const inner = itemsOf(calleeBody, calleeBody.endPosition.row - 1).filter((c) => {
      const t = c.node!.text;
      if (/^lockdep_assert/.test(t) && callerText.includes(rename(t))) return false;
      return true;
    });
    const indent = indentOf(lines[it.start]);
    // a local of the helper that holds what the caller already keeps (`old = acc->ioas`) takes the caller's name
    const locals = new Map<string, string>();
    const repeats = new Set<Item>();
    for (const c of inner) {
      // `T *x = v;` or `x = v;`: the caller keeps v already
      const kind = c.node!.type;
      const save =
        kind === 'declaration' || kind === 'expression_statement' ? assignmentParts(rename(c.node!.text)) : null;
      const same = save ? new RegExp(`(\\w+)\\s*=\\s*${escapeRegExp(save.value)}\\s*;`).exec(callerText) : null;
      if (save && same) {
        if (same[1] !== save.name) locals.set(save.name, same[1]);
        repeats.add(c);
      }
    }
    // a declaration without a value, of a name the caller has or that now takes the caller's name, goes too
    const callerDecls = lines.slice(firstRow, it.start).join('\n');
    for (const c of inner) {
      const bare =
        c.node!.type === 'declaration' && !c.node!.text.includes('=') ? declaredName(c.node!.text) : undefined;
      if (bare && (locals.has(bare) || new RegExp(`\\b${bare}\\b`).test(callerDecls))) repeats.add(c);
    }
    const renameAll = (l: string): string =>
      [...locals].reduce((acc, [from, to]) => acc.replace(new RegExp(`\\b${from}\\b`, 'g'), to), rename(l));
    for (const c of inner) {
      const rows = repeats.has(c) ? [] : lines.slice(c.start, c.end + 1).map(renameAll);
      c.text = rows.map((r) => (r.trim() ? indent + r.replace(/^\s*/, (w) => w.replace(/^\t/, '')) : ''));
      if (guard) c.guard = guard;
    }
    // the inlined statements hold the helper's steps by their own lines
    const at = items.indexOf(it);
    items = [...items.slice(0, at), ...inner, ...items.slice(at + 1)];
    for (const o of viaSteps) {
      const target = inner.find((c) => c.start <= (original[o].line ?? 0) - 1 && (original[o].line ?? 0) - 1 <= c.end);
      target?.origins.add(o);
    }
    it.origins.clear();
    // the blank lines after the call stay after the last inlined statement
    const tail = lines.slice(it.start, it.end + 1);
    const blanks = tail.length - 1 - [...tail].reverse().findIndex((l) => l.trim() !== '');
    if (inner.length > 0 && blanks < tail.length - 1) inner[inner.length - 1].text!.push(...tail.slice(blanks + 1));
  }

  // a fallible call and the `if (rc)` that checks it move together
  const itemOf = (o: number): Item | undefined => items.find((it) => it.origins.has(o));
  for (const s of original) {
    if (typeof s.onFail !== 'number') continue;
    const head = itemOf(original.indexOf(s));
    const handler = itemOf(s.onFail);
    if (!head || !handler || head === handler) continue;
    const hi = items.indexOf(head);
    // an error path at a label elsewhere stays where it is
    if (items[hi + 1] !== handler) continue;
    head.end = handler.end;
    handler.origins.forEach((o) => head.origins.add(o));
    items.splice(hi + 1, 1);
  }

  // edits inside statements: line replacements, deletions and insertions on original rows
  const replaced = new Map<number, string>();
  const deleted = new Set<number>();
  const insertBefore = new Map<number, string[]>();
  const proposalOf = new Map<number, RepairStep>(
    proposal.filter((s) => s.origin !== undefined).map((s) => [s.origin!, s]),
  );
  const needsIdDecl = proposal.some((s) => s.op === 'save-id' && s.origin === undefined);
  original.forEach((s, i) => {
    const now = proposalOf.get(i);
    if (s.op === 'remove-access' && now && now.listId === 'saved' && s.listId !== 'saved' && s.line) {
      const row = s.line - 1;
      const it = itemOf(i);
      const src = it?.text ? undefined : lines[row];
      const edit = (l: string): string => {
        if (/->\s*iopt_access_list_id/.test(l)) return replaceMemberChain(l, 'iopt_access_list_id', names.savedId);
        return withArgumentAppended(l, 'iopt_remove_access', names.savedId);
      };
      if (src !== undefined) replaced.set(row, edit(src));
      else if (it?.text) it.text = it.text.map((l) => (l.includes('iopt_remove_access') ? edit(l) : l));
    }
  });
  // error paths: steps the proposal dropped go, steps it added come before the return
  const mainProposal = mainOrder;
  for (const m of mainProposal) {
    if (m.origin === undefined || typeof original[m.origin].onFail !== 'number') continue;
    const oldStart = original[m.origin].onFail as number;
    const oldBlock: number[] = [];
    for (let k = oldStart; k < original.length; k++) {
      oldBlock.push(k);
      if (original[k].op === 'return') break;
    }
    const newStart = typeof m.onFail === 'number' ? m.onFail : undefined;
    const newBlock: RepairStep[] = [];
    if (newStart !== undefined)
      for (let k = newStart; k < proposal.length; k++) {
        newBlock.push(proposal[k]);
        if (proposal[k].op === 'return') break;
      }
    const keptOrigins = new Set(newBlock.filter((s) => s.origin !== undefined).map((s) => s.origin!));
    for (const o of oldBlock) {
      if (keptOrigins.has(o) || !original[o].line) continue;
      const st = statementAt(body, original[o].line! - 1);
      if (!st)
        throw new SourceEditError(`cannot find the statement of \`${original[o].action}\` (line ${original[o].line})`);
      let from = st.startPosition.row;
      while (from - 1 >= firstRow && isCommentOnlyLine(lines[from - 1])) from--;
      for (let r = from; r <= st.endPosition.row; r++) deleted.add(r);
    }
    const added = newBlock.filter((s) => s.origin === undefined);
    if (added.length === 0) continue;
    // the undo goes inside the `if` that checks the call, before its jump (its return may be shared with the success path)
    const callRow = (original[m.origin].line ?? 0) - 1;
    const call = statementAt(body, callRow);
    const check =
      call?.type === 'if_statement'
        ? call
        : call?.parent && namedKids(call.parent).find((k) => k.startIndex > call.endIndex - 1 && k.type !== 'comment');
    const then = check?.type === 'if_statement' ? check.childForFieldName('consequence') : null;
    if (!check || !then)
      throw new SourceEditError(
        `cannot find the check of \`${original[m.origin].action}\`'s result (line ${callRow + 1})`,
      );
    const inner = then.type === 'compound_statement' ? namedKids(then).filter((k) => k.type !== 'comment') : [then];
    const last = inner[inner.length - 1];
    const jumps = last && /^(return_statement|goto_statement|break_statement|continue_statement)$/.test(last.type);
    const at = jumps ? last.startPosition.row : then.endPosition.row;
    const indent =
      then.type === 'compound_statement'
        ? indentOf(lines[jumps ? at : then.startPosition.row]) + (jumps ? '' : '\t')
        : indentOf(lines[then.startPosition.row]);
    if (then.type !== 'compound_statement') {
      // `if (rc) return rc;` gets braces to hold more than the jump
      const ifRow = check.startPosition.row;
      const outer = indentOf(lines[ifRow]);
      const cond = check.childForFieldName('condition')?.text ?? '(rc)';
      const rows = [
        `${outer}if ${cond} {`,
        ...added.flatMap((s) => render(s, names)).map((l) => `${outer}\t${l}`),
        `${outer}\t${then.text}`,
        `${outer}}`,
      ];
      replaced.set(ifRow, rows.join('\n'));
      for (let r = ifRow + 1; r <= then.endPosition.row; r++) deleted.add(r);
      continue;
    }
    const text = added.flatMap((s) => render(s, names)).map((l) => indent + l);
    insertBefore.set(at, [...(insertBefore.get(at) ?? []), ...text]);
  }

  const textOf = (it: Item): string[] => {
    if (it.text) return it.text;
    const out: string[] = [];
    for (let r = it.start; r <= it.end; r++) {
      out.push(...(insertBefore.get(r) ?? []));
      if (!deleted.has(r)) out.push(...(replaced.get(r) ?? lines[r]).split('\n'));
    }
    return out;
  };

  // the new order: statements with steps in the proposal's order, added steps written where they go
  const stepItems = new Set(items.filter((it) => it.origins.size > 0));
  const placed = new Set<Item>();
  const order: Item[] = [];
  const lead: Item[] = [];
  for (const it of items) {
    if (stepItems.has(it)) break;
    lead.push(it);
    placed.add(it);
  }
  const follow = (it: Item): void => {
    order.push(it);
    placed.add(it);
    // statements without a step travel with the one before them
    for (let k = items.indexOf(it) + 1; k < items.length && !stepItems.has(items[k]); k++) {
      order.push(items[k]);
      placed.add(items[k]);
    }
  };
  for (const s of mainOrder) {
    if (s.origin !== undefined) {
      const it = itemOf(s.origin);
      if (it && !placed.has(it)) follow(it);
      continue;
    }
    const nextIt = mainOrder
      .slice(mainOrder.indexOf(s) + 1)
      .map((n) => (n.origin !== undefined ? itemOf(n.origin) : undefined))
      .find((x) => x && !placed.has(x));
    const indentSrc = nextIt ? (textOf(nextIt).find((l) => l.trim()) ?? '\t') : '\t';
    const added: Item = {
      start: -1,
      end: -1,
      origins: new Set(),
      text: render(s, names).map((l) => indentOf(indentSrc) + l),
    };
    // right after a declaration that saves a value, an added save is a declaration too, before the statements
    const prevStep = mainOrder[mainOrder.indexOf(s) - 1];
    const decl = prevStep?.origin !== undefined ? itemOf(prevStep.origin) : undefined;
    if (s.op === 'save-id' && decl?.node?.type === 'declaration' && order[order.length - 1] !== decl)
      order.splice(order.indexOf(decl) + 1, 0, added);
    else order.push(added);
  }
  // statements whose steps the proposal dropped are gone; any other statement keeps its place at the end
  const droppedOrigins = new Set(original.map((_, i) => i).filter((i) => !proposal.some((s) => s.origin === i)));
  for (const it of items) {
    if (placed.has(it)) continue;
    if ([...it.origins].every((o) => droppedOrigins.has(o)) && it.origins.size > 0) continue;
    order.push(it);
  }

  // the leading declarations: where a new local's declaration goes
  let leadingDecls = 0;
  while (leadingDecls < items.length && items[leadingDecls].node?.type === 'declaration') leadingDecls++;
  const lastDecl = leadingDecls > 0 ? items[leadingDecls - 1] : undefined;
  const saveCurItem = proposal.find((x) => x.op === 'save-cur' && x.origin !== undefined);
  const curIsDecl = saveCurItem ? itemOf(saveCurItem.origin!)?.node?.type === 'declaration' : false;
  if (needsIdDecl && curIsDecl) {
    // saved next to a declaration that saves the IOAS: declare it there too
    for (const it of order)
      if (it.start < 0 && it.text && /iopt_access_list_id;$/.test(it.text[0] ?? '') && !it.guard)
        it.text[0] = it.text[0].replace(/^(\s*)/, '$1u32 ');
  }
  const out: string[] = [];
  let declEnd = -1;
  const emit = (it: Item, rows: string[]): void => {
    out.push(...rows);
    if (it === lastDecl) {
      declEnd = out.length;
      while (declEnd > 0 && !out[declEnd - 1].trim()) declEnd--;
    }
  };
  for (const it of lead) emit(it, textOf(it));
  // consecutive statements inlined from one guarded call keep their guard
  for (let k = 0; k < order.length;) {
    const g = order[k].guard;
    if (!g) {
      emit(order[k], textOf(order[k]));
      k++;
      continue;
    }
    let j = k;
    while (j < order.length && order[j].guard === g) j++;
    const run = order.slice(k, j).flatMap(textOf);
    const trailing: string[] = [];
    while (run.length > 0 && !run[run.length - 1].trim()) trailing.unshift(run.pop()!);
    const indent = indentOf(run.find((l) => l.trim()) ?? '\t');
    // one statement needs no braces (kernel style)
    const single = run.length === 1 && !run[0].trim().startsWith('if');
    if (single) emit(order[k], [`${indent}if ${g}`, `\t${run[0]}`, ...trailing]);
    else
      emit(order[k], [`${indent}if ${g} {`, ...run.map((l) => (l.trim() ? `\t${l}` : l)), `${indent}}`, ...trailing]);
    k = j;
  }
  if (needsIdDecl && !curIsDecl) out.splice(declEnd < 0 ? 0 : declEnd, 0, `\tu32 ${names.savedId};`);
  const newLines = [...lines.slice(0, firstRow), ...out, ...lines.slice(lastRow + 1)];
  return { ...editBetween(file, fnName, text, newLines.join('\n')), inlined };
}

/** The edit from `text` to `newText`: line replacements and a unified diff, both from the `diff` package. */
export function editBetween(file: string, fnName: string, text: string, newText: string): Omit<SourceEdit, 'inlined'> {
  const rel = file.replace(/^\/+/, '');
  const diff = createTwoFilesPatch(`a/${rel}`, `b/${rel}`, text, newText, undefined, undefined, { context: 3 });
  const patch = structuredPatch(file, file, text, newText, undefined, undefined, { context: 0 });
  const replacements: LineReplacement[] = patch.hunks.map((h) => ({
    // jsdiff gives an insertion's oldStart as the line it goes before
    start: h.oldStart,
    end: h.oldStart + h.oldLines - 1,
    lines: h.lines.filter((l) => l.startsWith('+')).map((l) => l.slice(1)),
  }));
  return { file, function: fnName, replacements, diff, newText };
}

/** Applies line replacements (as `SourceEdit.replacements`) to a text: what an editor or a script does with the JSON. */
export function applyReplacements(text: string, replacements: readonly LineReplacement[]): string {
  const lines = text.split('\n');
  for (const r of [...replacements].sort((a, b) => b.start - a.start))
    lines.splice(r.start - 1, r.end - r.start + 1, ...r.lines);
  return lines.join('\n');
}
