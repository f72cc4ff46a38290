/**
 * A parsed file → FileModel: every function definition modelled (or listed
 * as skipped with a reason), struct layouts, ops-table initialisers and
 * documented lock orders. The model keeps no syntax nodes.
 */
import { parseDocumentedOrder } from '../knowledge/documented-orders';
import type { SyntaxNode } from '../parse/syntax';
import { identifierBefore, withoutLineComments } from '../text-scan';
import { FunctionBuilder } from './build-function';
import { commentsOf, documentsCallerHolds } from './lock-comments';
import type { FileContext, VarInfo } from './function-state';
import { readStructs } from './structs';
import type { StructTable } from './structs';
import { declaredName, kids, line, namedKids, nodeType, sameNode, structOfTypeNode } from './syntax-util';
import type { FileModel, FunctionModel, OpsImplementation } from './types';

/**
 * Values cached by a top-level node's text across edits. Looked up by a short
 * key (kind, length, first characters) and confirmed by comparing the whole
 * text: a map keyed by the whole text hashed every node's text on every edit,
 * which cost more than the rest of the lookup.
 */
export class TextCache<T> {
  private readonly map = new Map<string, { text: string; value: T }[]>();

  private static key(kind: string, text: string): string {
    return `${kind}\u0000${text.length}\u0000${text.slice(0, 48)}`;
  }

  get(kind: string, text: string): T | undefined {
    const list = this.map.get(TextCache.key(kind, text));
    if (!list) return undefined;
    for (const e of list) if (e.text === text) return e.value;
    return undefined;
  }

  set(kind: string, text: string, value: T): void {
    const k = TextCache.key(kind, text);
    const list = this.map.get(k);
    if (!list) this.map.set(k, [{ text, value }]);
    else if (!list.some((e) => e.text === text)) list.push({ text, value });
  }
}

/** Containers whose children are still file scope. */
const TRANSPARENT = new Set([
  'translation_unit',
  'preproc_if',
  'preproc_ifdef',
  'preproc_else',
  'preproc_elif',
  'preproc_elifdef',
  'linkage_specification',
  'declaration_list',
]);

/** File-scope nodes, looking through #if blocks. */
function topLevel(root: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  const visit = (n: SyntaxNode): void => {
    for (const c of namedKids(n)) {
      if (TRANSPARENT.has(nodeType(c))) visit(c);
      else out.push(c);
    }
  };
  visit(root);
  return out;
}

function functionName(def: SyntaxNode): { name: string; declarator: SyntaxNode; pointer: boolean } | undefined {
  const declarator = def.childForFieldName('declarator');
  if (!declarator) return undefined;
  const named = declaredName(declarator);
  if (!named || !named.fn) return undefined;
  return { name: named.name, declarator, pointer: named.pointer };
}

/**
 * What one file-scope node declares: variables, struct-pointer-returning
 * functions, a function definition's name, ops-table initialisers. It depends
 * on the node's text only, so it is cached by text across edits.
 */
interface TopFacts {
  globals: [string, VarInfo][];
  returns: [string, string][];
  /** function_definition: its name, or null when it cannot be read. */
  fn?: { name: string; pointer: boolean } | null;
  ops: { opsStruct: string; field: string; function: string; lineOffset: number }[];
  /** Arrays of function names this declaration initialises (see `FileContext.tables`). */
  tables?: [string, string[]][];
}

function topFacts(n: SyntaxNode): TopFacts {
  const facts: TopFacts = { globals: [], returns: [], ops: [] };
  const type = n.childForFieldName('type');
  const struct = structOfTypeNode(type);
  // `static DEFINE_MUTEX(lock);`, `static struct foo obj;`: an object of this file only.
  const fileLocal =
    n.type === 'declaration' && namedKids(n).some((c) => c.type === 'storage_class_specifier' && c.text === 'static');
  const declarators =
    n.type === 'function_definition'
      ? [n.childForFieldName('declarator')]
      : namedKids(n).filter((c) => !sameNode(c, type) && c.type !== 'storage_class_specifier');
  for (const d of declarators) {
    const named = declaredName(d);
    if (!named) continue;
    if (named.fn) {
      if (struct && named.pointer) facts.returns.push([named.name, struct]);
    } else {
      facts.globals.push([
        named.name,
        { ...(struct ? { struct } : {}), pointer: named.pointer, int: false, ...(fileLocal ? { fileLocal } : {}) },
      ]);
    }
  }
  if (n.type === 'function_definition') {
    const fn = functionName(n);
    facts.fn = fn ? { name: fn.name, pointer: fn.pointer } : null;
  } else {
    const ops: OpsImplementation[] = [];
    opsImplementations(n, '', ops);
    const tables = functionTables(n);
    if (tables.length > 0) facts.tables = tables;
    const base = line(n);
    facts.ops = ops.map((o) => ({
      opsStruct: o.opsStruct,
      field: o.field,
      function: o.function,
      lineOffset: o.line - base,
    }));
  }
  return facts;
}

/** `static const struct foo_ops x = { .unmap = foo_unmap, }` → implementations. */
function opsImplementations(decl: SyntaxNode, file: string, out: OpsImplementation[]): void {
  const opsStruct = structOfTypeNode(decl.childForFieldName('type'));
  if (!opsStruct) return;
  for (const d of namedKids(decl)) {
    if (d.type !== 'init_declarator') continue;
    const value = d.childForFieldName('value');
    if (!value || value.type !== 'initializer_list') continue;
    for (const pair of namedKids(value)) {
      if (pair.type !== 'initializer_pair') continue;
      const designator = pair.childForFieldName('designator') ?? pair.namedChild(0);
      const fn = pair.childForFieldName('value');
      if (!designator || designator.type !== 'field_designator' || !fn || fn.type !== 'identifier') continue;
      const field = designator.text.replace(/^\./, '').trim();
      out.push({ opsStruct, field, function: fn.text, file, line: line(pair) });
    }
  }
}

/**
 * `static const handler_fn handlers[N] = { [OP_READ] = &rx_read, rx_write }`
 * → `handlers` with `rx_read`, `rx_write`: an array whose every entry is a
 * name or a name's address (NULL entries aside). What the names are is
 * left to whoever resolves them: a name that is no function reaches nothing.
 */
function functionTables(decl: SyntaxNode): [string, string[]][] {
  const out: [string, string[]][] = [];
  if (decl.type !== 'declaration') return out;
  for (const d of namedKids(decl)) {
    if (d.type !== 'init_declarator') continue;
    const declarator = d.childForFieldName('declarator');
    const value = d.childForFieldName('value');
    if (!declarator || declarator.type !== 'array_declarator' || !value || value.type !== 'initializer_list') continue;
    const name = declaredName(declarator)?.name;
    if (!name) continue;
    const names: string[] = [];
    let table = true;
    for (const entry of namedKids(value)) {
      if (entry.type === 'comment') continue;
      const v = entry.type === 'initializer_pair' ? entry.childForFieldName('value') : entry;
      const target = v?.type === 'pointer_expression' && v.child(0)?.type === '&' ? v.childForFieldName('argument') : v;
      if (target?.type !== 'identifier') {
        table = false;
        break;
      }
      if (target.text !== 'NULL' && !names.includes(target.text)) names.push(target.text);
    }
    if (table && names.length > 0) out.push([name, names]);
  }
  return out;
}

/** The text of the comment that ends on the line above (or the line of) node `i`, if one does. */
function commentAbove(nodes: readonly SyntaxNode[], i: number): string | undefined {
  const prev = i > 0 ? nodes[i - 1] : undefined;
  if (!prev || nodeType(prev) !== 'comment' || prev.endPosition.row < nodes[i].startPosition.row - 1) return undefined;
  return prev.text;
}

/** The struct a documenting comment sits above, if the next node defines one. */
function documentedStruct(next: SyntaxNode | undefined): string | undefined {
  if (!next) return undefined;
  const spec = next.type === 'struct_specifier' ? next : next.childForFieldName('type');
  if (spec && spec.type === 'struct_specifier' && spec.childForFieldName('body'))
    return spec.childForFieldName('name')?.text;
  return undefined;
}

/**
 * Functions declared or defined as returning `bool`, kept in the struct table
 * under this reserved name so they travel (and are merged and cached) with
 * the struct layouts: `if (!iommufd_lock_obj(...))` tests a success flag,
 * not an error code.
 */
export const BOOL_FUNCTIONS = '<bool-functions>';
/** File-scope objects with a struct type, by name, kept the same way. */
export const GLOBAL_OBJECTS = '<globals>';

/** The structs a file defines, plus its bool-returning functions and file-scope objects (first pass: every file's are merged before models are built). */
export function readFileStructs(root: SyntaxNode, cache?: FunctionModelCache): StructTable {
  const previous = cache?.structFacts;
  const used = new TextCache<StructTable>();
  const parts: StructTable[] = [];
  for (const n of topLevel(root)) {
    const type = nodeType(n);
    if (
      type === 'comment' ||
      type === 'expression_statement' ||
      type === 'preproc_include' ||
      type === 'preproc_def' ||
      type === 'preproc_function_def' ||
      type === 'preproc_call'
    )
      continue;
    if (!cache) {
      parts.push(nodeStructs(n));
      continue;
    }
    const text = n.text;
    const part = previous?.get(type, text) ?? used.get(type, text) ?? nodeStructs(n);
    used.set(type, text, part);
    parts.push(part);
  }
  if (cache) cache.structFacts = used;
  const out: StructTable = {};
  for (const part of parts) for (const [name, fields] of Object.entries(part)) out[name] = { ...out[name], ...fields };
  return out;
}

/** What one file-scope node contributes to the struct table. */
function nodeStructs(n: SyntaxNode): StructTable {
  const out = readStructs(n);
  if (n.type !== 'function_definition' && n.type !== 'declaration') return out;
  const type = n.childForFieldName('type');
  const declarators =
    n.type === 'function_definition'
      ? [n.childForFieldName('declarator')]
      : namedKids(n).filter((c) => !sameNode(c, type));
  const struct = structOfTypeNode(type);
  for (const d of declarators) {
    const named = declaredName(d);
    if (!named) continue;
    if (named.fn && !named.pointer && type?.text === 'bool')
      out[BOOL_FUNCTIONS] = { ...out[BOOL_FUNCTIONS], [named.name]: 'bool' };
    // File-scope objects of struct type (`extern struct ap_matrix_dev *matrix_dev;` in a
    // header): other files resolve `matrix_dev->mdevs_lock` through them.
    if (!named.fn && n.type === 'declaration' && struct)
      out[GLOBAL_OBJECTS] = { ...out[GLOBAL_OBJECTS], [named.name]: `struct ${struct}${named.pointer ? ' *' : ''}` };
  }
  return out;
}

/**
 * Builds the model of one file. `structs` is the merged table (all files in
 * view plus knowledge) lock identities resolve through; `own` the structs this
 * file defines (kept in the model).
 */
export function buildFileModel(
  root: SyntaxNode,
  file: string,
  original: string,
  structs: StructTable,
  own: StructTable,
  cache?: FunctionModelCache,
): FileModel {
  const nodes = topLevel(root);
  // Per-node facts, by text (reused across edits when a cache is given).
  const previousFacts = cache?.facts;
  const usedFacts = new TextCache<TopFacts>();
  const texts: (string | undefined)[] = [];
  const facts: (TopFacts | undefined)[] = [];
  const globals = new Map<string, VarInfo>();
  const returns = new Map<string, string>();
  const tables = new Map<string, string[]>();
  for (const n of nodes) {
    const type = nodeType(n);
    if (type !== 'function_definition' && type !== 'declaration') {
      texts.push(undefined);
      facts.push(undefined);
      continue;
    }
    const text = n.text;
    const f = previousFacts?.get(type, text) ?? usedFacts.get(type, text) ?? topFacts(n);
    usedFacts.set(type, text, f);
    texts.push(text);
    facts.push(f);
    for (const [k, v] of f.globals) globals.set(k, v);
    for (const [k, v] of f.returns) returns.set(k, v);
    for (const [k, v] of f.tables ?? []) tables.set(k, v);
  }
  // Functions handing back an element of a table (`return handlers[op];`): a pointer set from their result
  // is one of the table's functions.
  const tableGetters = new Map<string, string>();
  if (tables.size > 0)
    facts.forEach((f, i) => {
      const name = f?.fn?.name;
      if (!name) return;
      for (const m of (texts[i] ?? '').matchAll(/\breturn\s+([A-Za-z_]\w*)\s*\[/g))
        if (tables.has(m[1])) tableGetters.set(name, m[1]);
    });
  const ctx: FileContext = {
    file,
    original,
    structs,
    globals,
    returns,
    ...(tables.size > 0 ? { tables, tableGetters } : {}),
  };
  // A function whose text, position and file-scope context are unchanged keeps its model.
  const scopeKey = cache
    ? JSON.stringify([...globals], null, 0) +
      JSON.stringify([...returns]) +
      JSON.stringify([...tables]) +
      JSON.stringify([...tableGetters])
    : '';
  const reuse = cache && cache.scopeKey === scopeKey && cache.structs === structs ? cache.models : undefined;
  const used = new TextCache<FunctionModel>();
  const usedHolds = new TextCache<boolean>();
  const functions: FunctionModel[] = [];
  const skipped: FileModel['skipped'] = [];
  const ops: OpsImplementation[] = [];
  const documentedOrders: FileModel['documentedOrders'] = [];

  const modelFunction = (def: SyntaxNode, name: string | undefined, text?: string, above?: string): void => {
    if (name === undefined) {
      skipped.push({
        function: '<unnamed>',
        line: line(def),
        reason: 'a function definition whose name could not be read (a macro in its declarator?)',
      });
      return;
    }
    // The position is part of the identity: the model's lines are absolute.
    const at = cache ? `${def.startPosition.row}:${def.startPosition.column}` : '';
    const own = text ?? def.text;
    // Keyed by the definition's own text (a slice of the file) and a short kind: a key made by joining
    // texts would copy every function's text on every edit, and the copies were kept as the next cache.
    const callerHolds =
      cache?.callerHolds?.get(above ?? '', own) ?? documentsCallerHolds(`${above ?? ''}\n${commentsOf(own)}`);
    if (cache) usedHolds.set(above ?? '', own, callerHolds);
    // The comment above is not part of the definition's text: it keys the reuse too.
    const kind = cache ? `${at}${callerHolds ? 'H' : '-'}` : '';
    const hit = reuse?.get(kind, own);
    if (hit) {
      functions.push(hit);
      used.set(kind, own, hit);
      return;
    }
    try {
      const declarator = def.childForFieldName('declarator')!;
      const model = new FunctionBuilder(ctx).build(def, name, declarator);
      if (callerHolds) model.callerHoldsNote = true;
      if (kids(def).some((c) => c.type === 'storage_class_specifier' && c.text === 'static')) model.fileLocal = true;
      functions.push(model);
      if (cache) used.set(kind, own, model);
    } catch (e) {
      // A bug in the builder must not cost the whole file: say so in coverage.
      const reason =
        e instanceof RangeError
          ? 'nested too deeply to model (statements or expressions thousands of levels deep)'
          : `the model could not be built (${(e as Error).message})`;
      skipped.push({ function: name, line: line(def), reason });
    }
  };

  nodes.forEach((n, i) => {
    const f = facts[i];
    switch (nodeType(n)) {
      case 'function_definition':
        modelFunction(n, f?.fn?.name, texts[i], commentAbove(nodes, i));
        break;
      case 'declaration':
        if (f && f.ops.length > 0) {
          const base = line(n);
          for (const o of f.ops)
            ops.push({ opsStruct: o.opsStruct, field: o.field, function: o.function, file, line: base + o.lineOffset });
        }
        break;
      case 'comment': {
        const text = n.text;
        if (!/order/i.test(text)) break;
        const names = parseDocumentedOrder(text);
        if (names) {
          const struct = documentedStruct(nodes[i + 1]);
          // The line the order itself is on, not the comment's first line.
          const at = text.search(/lock(?:ing)?\s+order/i);
          const offset = at > 0 ? text.slice(0, at).split('\n').length - 1 : 0;
          documentedOrders.push({ names, line: line(n) + offset, ...(struct ? { struct } : {}) });
        }
        break;
      }
      case 'ERROR': {
        // Definitions the parser folded into an error: model the complete ones, list the rest.
        for (const c of namedKids(n)) {
          if (c.type === 'function_definition') modelFunction(c, functionName(c)?.name);
        }
        // Only a declarator followed by a body is a lost definition (`module_exit(x)` lines are not).
        const children = kids(n);
        const declarator = children.find(
          (c, i) =>
            c.type === 'function_declarator' &&
            children.slice(i + 1).some((b) => b.type === 'compound_statement' || b.type === '{'),
        );
        const named = declarator ? declaredName(declarator) : undefined;
        if (named)
          skipped.push({
            function: named.name,
            line: line(declarator!),
            reason: 'the parser could not read this definition (unbalanced braces, or an unknown macro around it?)',
          });
        break;
      }
      default:
        break;
    }
  });
  accountForLexicalHeads(original, functions, skipped);
  if (cache) {
    cache.models = used;
    cache.callerHolds = usedHolds;
    cache.scopeKey = scopeKey;
    cache.structs = structs;
    cache.facts = usedFacts;
  }
  const { [BOOL_FUNCTIONS]: _bools, [GLOBAL_OBJECTS]: _globals, ...structsOnly } = own;
  return { file, functions, structs: structsOnly, opsImplementations: ops, documentedOrders, skipped };
}

/** Function models of one file from its previous build, reused when a function did not change. */
export interface FunctionModelCache {
  /** By position (`row:column`) and text. */
  models: TextCache<FunctionModel>;
  scopeKey: string;
  structs?: StructTable;
  /** File-scope node facts by type and text. */
  facts?: TextCache<TopFacts>;
  /** File-scope struct layouts (and reserved entries) by node type and text. */
  structFacts?: TextCache<StructTable>;
  /**
   * Whether a definition's comments say its callers hold a lock, by the
   * comment above it and its text (read on every build of the file, so an
   * edit does not tokenise every unchanged function's comments again).
   */
  callerHolds?: TextCache<boolean>;
}

export function newFunctionModelCache(): FunctionModelCache {
  return { models: new TextCache(), scopeKey: '' };
}

/**
 * Function-definition heads found in the text itself, kernel style: a
 * declaration starting at column 0 and ending in `)`, then a line that is
 * just `{`. Independent of the syntax tree, so a definition the parser
 * swallowed (unbalanced braces) is still seen. Cheap: only `\n{` lines are
 * looked at, then a few lines back for the head.
 */
export function lexicalFunctionHeads(text: string): { name: string; line: number; braceLine: number }[] {
  const out: { name: string; line: number; braceLine: number }[] = [];
  let lineNo = 1;
  let counted = 0;
  for (let at = text.indexOf('\n{'); at >= 0; at = text.indexOf('\n{', at + 1)) {
    // The brace line must be `{` alone (trailing blanks or a comment allowed).
    const eol = text.indexOf('\n', at + 1);
    const rest = text.slice(at + 2, eol < 0 ? text.length : eol);
    if (!/^\s*(?:\/[*/].*)?$/.test(rest)) continue;
    // Head: up to 8 lines back, stopping at the first one starting at column 0.
    let start = at;
    let headStart = -1;
    for (let n = 0; n < 8 && start > 0; n++) {
      const prev = text.lastIndexOf('\n', start - 1);
      const ls = prev + 1;
      const c = text[ls];
      if (c === undefined || c === '\n') break;
      if (/[A-Za-z_]/.test(c)) {
        headStart = ls;
        break;
      }
      if (c !== ' ' && c !== '\t') break;
      start = prev;
      if (prev < 0) break;
    }
    if (headStart < 0) continue;
    const head = withoutLineComments(text.slice(headStart, at)).trimEnd();
    // A head ends in `)` (a parameter list or an annotation); before its `(` there is no statement or initialiser.
    if (
      !head.endsWith(')') ||
      /[;=#{}]/.test(head.split('(')[0]!) ||
      /^(?:if|for|while|switch|return|else|do)\b/.test(head)
    )
      continue;
    const name = identifierBefore(head, head.indexOf('('));
    if (name === undefined) continue;
    // 1-based line of the head's start, counted incrementally.
    for (let i = text.indexOf('\n', counted); i >= 0 && i < headStart; i = text.indexOf('\n', i + 1)) {
      lineNo++;
      counted = i + 1;
    }
    const braceLine = lineNo + head.split('\n').length;
    out.push({ name, line: lineNo, braceLine });
  }
  return out;
}

/**
 * "Nothing is silently dropped": a definition head the text contains but the
 * tree did not yield (as a model or a skipped entry) was swallowed into an
 * earlier body by a syntax error. It is listed as skipped, and the function
 * whose body swallowed it is marked partial (its body is not what it seems).
 * Models are replaced, not mutated: they may be shared with the edit cache.
 */
function accountForLexicalHeads(text: string, functions: FunctionModel[], skipped: FileModel['skipped']): void {
  if (!text.includes('\n{')) return;
  const names = new Set<string>([...functions.map((f) => f.name), ...skipped.map((s) => s.function)]);
  const lines = [...functions.map((f) => f.line), ...skipped.map((s) => s.line)];
  for (const head of lexicalFunctionHeads(text)) {
    if (names.has(head.name)) continue;
    // A definition the tree yielded under another name (a macro-made name) starts on the head's lines.
    if (lines.some((l) => l >= head.line - 2 && l <= head.braceLine)) continue;
    const host = functions.findIndex((f) => f.line < head.line && f.endLine >= head.braceLine);
    const hostFn = host >= 0 ? functions[host] : undefined;
    const why = hostFn
      ? `swallowed into the body of ${hostFn.name} (line ${hostFn.line}) by a syntax error before line ${head.line} (unbalanced braces?)`
      : `swallowed by a syntax error before line ${head.line} (unbalanced braces, or an unknown macro around it?)`;
    skipped.push({ function: head.name, line: head.line, reason: why });
    names.add(head.name);
    if (hostFn) {
      const reason = `its body runs into the definition of ${head.name} at line ${head.line} (a brace left open?); the model of it is unreliable`;
      functions[host] = {
        ...hostFn,
        status: 'partial',
        reason: hostFn.reason ? `${hostFn.reason}; ${reason}` : reason,
      };
    }
  }
}
