/**
 * A parsed file → FileModel: every function definition modelled (or listed
 * as skipped with a reason), struct layouts, ops-table initialisers and
 * documented lock orders. The model keeps no syntax nodes.
 */
import { parseDocumentedOrder } from '../knowledge/documented-orders';
import type { SyntaxNode } from '../parse/syntax';
import { FunctionBuilder } from './build-function';
import type { FileContext, VarInfo } from './build-function';
import { readStructs } from './structs';
import type { StructTable } from './structs';
import { declaredName, kids, line, namedKids, sameNode, structOfTypeNode } from './syntax-util';
import type { FileModel, FunctionModel, OpsImplementation } from './types';

/** Containers whose children are still file scope. */
const TRANSPARENT = new Set(['translation_unit', 'preproc_if', 'preproc_ifdef', 'preproc_else', 'preproc_elif', 'preproc_elifdef', 'linkage_specification', 'declaration_list']);

/** File-scope nodes, looking through #if blocks. */
function topLevel(root: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  const visit = (n: SyntaxNode): void => {
    for (const c of namedKids(n)) {
      if (TRANSPARENT.has(c.type)) visit(c);
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

/** File-scope variables and struct-pointer-returning functions: what expression types resolve through. */
function fileScope(nodes: SyntaxNode[]): { globals: Map<string, VarInfo>; returns: Map<string, string> } {
  const globals = new Map<string, VarInfo>();
  const returns = new Map<string, string>();
  for (const n of nodes) {
    if (n.type === 'function_definition' || n.type === 'declaration') {
      const type = n.childForFieldName('type');
      const struct = structOfTypeNode(type);
      const declarators = n.type === 'function_definition' ? [n.childForFieldName('declarator')] : namedKids(n).filter((c) => !sameNode(c, type));
      for (const d of declarators) {
        const named = declaredName(d);
        if (!named) continue;
        if (named.fn) {
          if (struct && named.pointer) returns.set(named.name, struct);
        } else {
          globals.set(named.name, { ...(struct ? { struct } : {}), pointer: named.pointer, int: false });
        }
      }
    }
  }
  return { globals, returns };
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

/** The struct a documenting comment sits above, if the next node defines one. */
function documentedStruct(next: SyntaxNode | undefined): string | undefined {
  if (!next) return undefined;
  const spec = next.type === 'struct_specifier' ? next : next.childForFieldName('type');
  if (spec && spec.type === 'struct_specifier' && spec.childForFieldName('body')) return spec.childForFieldName('name')?.text;
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

/** The structs a file defines, plus its bool-returning functions (first pass: every file's are merged before models are built). */
export function readFileStructs(root: SyntaxNode): StructTable {
  const out = readStructs(root);
  const bools: Record<string, string> = {};
  for (const n of topLevel(root)) {
    if (n.type !== 'function_definition' && n.type !== 'declaration') continue;
    const type = n.childForFieldName('type');
    if (!type || type.text !== 'bool') continue;
    const declarators = n.type === 'function_definition' ? [n.childForFieldName('declarator')] : namedKids(n).filter((c) => !sameNode(c, type));
    for (const d of declarators) {
      const named = declaredName(d);
      if (named?.fn && !named.pointer) bools[named.name] = 'bool';
    }
  }
  if (Object.keys(bools).length > 0) out[BOOL_FUNCTIONS] = bools;
  // File-scope objects of struct type (`extern struct ap_matrix_dev *matrix_dev;` in a
  // header): other files resolve `matrix_dev->mdevs_lock` through them.
  const objects: Record<string, string> = {};
  for (const n of topLevel(root)) {
    if (n.type !== 'declaration') continue;
    const type = n.childForFieldName('type');
    const struct = structOfTypeNode(type);
    if (!struct) continue;
    for (const d of namedKids(n).filter((c) => !sameNode(c, type))) {
      const named = declaredName(d);
      if (named && !named.fn) objects[named.name] = `struct ${struct}${named.pointer ? ' *' : ''}`;
    }
  }
  if (Object.keys(objects).length > 0) out[GLOBAL_OBJECTS] = objects;
  return out;
}

/**
 * Builds the model of one file. `structs` is the merged table (all files in
 * view plus knowledge) lock identities resolve through; `own` the structs this
 * file defines (kept in the model).
 */
export function buildFileModel(root: SyntaxNode, file: string, original: string, structs: StructTable, own: StructTable, cache?: FunctionModelCache): FileModel {
  const nodes = topLevel(root);
  const { globals, returns } = fileScope(nodes);
  const ctx: FileContext = { file, original, structs, globals, returns };
  // A function whose text, position and file-scope context are unchanged keeps its model.
  const scopeKey = cache ? JSON.stringify([...globals], null, 0) + JSON.stringify([...returns]) : '';
  const reuse = cache && cache.scopeKey === scopeKey && cache.structs === structs ? cache.models : new Map<string, FunctionModel>();
  const used = new Map<string, FunctionModel>();
  const functions: FunctionModel[] = [];
  const skipped: FileModel['skipped'] = [];
  const ops: OpsImplementation[] = [];
  const documentedOrders: FileModel['documentedOrders'] = [];

  const modelFunction = (def: SyntaxNode): void => {
    const fn = functionName(def);
    if (!fn) {
      skipped.push({ function: '<unnamed>', line: line(def), reason: 'a function definition whose name could not be read (a macro in its declarator?)' });
      return;
    }
    const key = cache ? `${def.startPosition.row}:${def.startPosition.column}:${def.text}` : '';
    const hit = cache ? reuse.get(key) : undefined;
    if (hit) {
      functions.push(hit);
      used.set(key, hit);
      return;
    }
    try {
      const model = new FunctionBuilder(ctx).build(def, fn.name, fn.declarator);
      functions.push(model);
      if (cache) used.set(key, model);
    } catch (e) {
      // A bug in the builder must not cost the whole file: say so in coverage.
      const reason = e instanceof RangeError ? 'nested too deeply to model (statements or expressions thousands of levels deep)' : `the model could not be built (${(e as Error).message})`;
      skipped.push({ function: fn.name, line: line(def), reason });
    }
  };

  nodes.forEach((n, i) => {
    switch (n.type) {
      case 'function_definition':
        modelFunction(n);
        break;
      case 'declaration':
        opsImplementations(n, file, ops);
        break;
      case 'comment': {
        if (!/order/i.test(n.text)) break;
        const names = parseDocumentedOrder(n.text);
        if (names) {
          const struct = documentedStruct(nodes[i + 1]);
          // The line the order itself is on, not the comment's first line.
          const at = n.text.search(/lock(?:ing)?\s+order/i);
          const offset = at > 0 ? n.text.slice(0, at).split('\n').length - 1 : 0;
          documentedOrders.push({ names, line: line(n) + offset, ...(struct ? { struct } : {}) });
        }
        break;
      }
      case 'ERROR': {
        // Definitions the parser folded into an error: model the complete ones, list the rest.
        for (const c of namedKids(n)) {
          if (c.type === 'function_definition') modelFunction(c);
        }
        // Only a declarator followed by a body is a lost definition (`module_exit(x)` lines are not).
        const children = kids(n);
        const declarator = children.find((c, i) => c.type === 'function_declarator' && children.slice(i + 1).some((b) => b.type === 'compound_statement' || b.type === '{'));
        const named = declarator ? declaredName(declarator) : undefined;
        if (named) skipped.push({ function: named.name, line: line(declarator!), reason: 'the parser could not read this definition (unbalanced braces, or an unknown macro around it?)' });
        break;
      }
      default:
        break;
    }
  });
  if (cache) {
    cache.models = used;
    cache.scopeKey = scopeKey;
    cache.structs = structs;
  }
  const { [BOOL_FUNCTIONS]: _bools, [GLOBAL_OBJECTS]: _globals, ...structsOnly } = own;
  return { file, functions, structs: structsOnly, opsImplementations: ops, documentedOrders, skipped };
}

/** Function models of one file from its previous build, reused when a function did not change. */
export interface FunctionModelCache {
  models: Map<string, FunctionModel>;
  scopeKey: string;
  structs?: StructTable;
}

export function newFunctionModelCache(): FunctionModelCache {
  return { models: new Map(), scopeKey: '' };
}
