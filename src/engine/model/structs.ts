/**
 * Struct layouts: read from the struct definitions of a file (anonymous
 * unions and structs flattened into their parent, the way C names their
 * fields), and merged across files and the knowledge base into one table
 * that lock identities are resolved through.
 */
import type { SyntaxNode } from '../parse/syntax';
import { declaredName, kids, namedKids, sameNode } from './syntax-util';

/** Nodes whose children can still be file-scope struct definitions. */
const CONTAINERS = new Set([
  'translation_unit',
  'preproc_if',
  'preproc_ifdef',
  'preproc_else',
  'preproc_elif',
  'preproc_elifdef',
  'linkage_specification',
  'declaration_list',
  'ERROR',
]);

/** Conditional blocks inside a struct body, whose children are field declarations. */
const FIELD_CONTAINERS = new Set(['preproc_if', 'preproc_ifdef', 'preproc_else', 'preproc_elif', 'preproc_elifdef']);

export type StructTable = Record<string, Record<string, string>>;

/** Field declarations of a struct body into `out` (name → type text). */
function readFields(body: SyntaxNode, out: Record<string, string>, nestedOut: StructTable): void {
  for (const decl of namedKids(body)) {
    // Fields under `#if IS_ENABLED(CONFIG_...)` are still fields: the kernel
    // puts whole groups of members behind config options, and a lock reached
    // through one (`device->group->group_lock`) must resolve all the same.
    if (FIELD_CONTAINERS.has(decl.type)) {
      readFields(decl, out, nestedOut);
      continue;
    }
    if (decl.type !== 'field_declaration') continue;
    const type = decl.childForFieldName('type');
    if (!type) continue;
    const declarators = namedKids(decl).filter(
      (c) =>
        !sameNode(c, type) &&
        c.type !== 'bitfield_clause' &&
        !c.type.endsWith('comment') &&
        c.type !== 'type_qualifier' &&
        c.type !== 'storage_class_specifier' &&
        c.type !== 'attribute_specifier',
    );
    const innerBody =
      type.type === 'struct_specifier' || type.type === 'union_specifier' ? type.childForFieldName('body') : null;
    if (innerBody) {
      const innerName = type.childForFieldName('name')?.text;
      if (declarators.length === 0) {
        // Anonymous member struct/union: its fields are the parent's.
        readFields(innerBody, out, nestedOut);
        continue;
      }
      if (innerName) {
        const inner: Record<string, string> = {};
        readFields(innerBody, inner, nestedOut);
        nestedOut[innerName] = inner;
      }
    }
    const qualifiers = kids(decl)
      .filter((c) => c.type === 'type_qualifier')
      .map((c) => c.text + ' ')
      .join('');
    const baseType =
      type.type === 'struct_specifier' || type.type === 'union_specifier'
        ? `${type.type === 'union_specifier' ? 'union' : 'struct'} ${type.childForFieldName('name')?.text ?? '<anonymous>'}`
        : type.text;
    for (const d of declarators) {
      const named = declaredName(d);
      if (!named) continue;
      out[named.name] = named.fn
        ? `${qualifiers}${baseType} (*)()`
        : `${qualifiers}${baseType}${named.pointer ? ' *' : ''}`;
    }
  }
}

/**
 * Every struct (and union) defined at file scope in this tree, by tag, plus
 * `typedef struct {...} name_t` under the typedef name. Function bodies are
 * not searched: structs defined there are local.
 */
export function readStructs(root: SyntaxNode): StructTable {
  const out: StructTable = {};
  const visit = (n: SyntaxNode, typedefName?: string): void => {
    if (n.type === 'function_definition') return;
    if ((n.type === 'struct_specifier' || n.type === 'union_specifier') && n.childForFieldName('body')) {
      const name = n.childForFieldName('name')?.text ?? typedefName;
      const fields: Record<string, string> = {};
      readFields(n.childForFieldName('body')!, fields, out);
      if (name) out[name] = { ...out[name], ...fields };
      return;
    }
    if (n.type === 'type_definition') {
      const decl = n.childForFieldName('declarator');
      const named = declaredName(decl);
      const type = n.childForFieldName('type');
      if (type) visit(type, named?.name);
      return;
    }
    if (n.type === 'declaration') {
      // `struct foo { ... } x = { ... };`: only the type can define a struct,
      // never the (possibly huge) initialiser.
      const type = n.childForFieldName('type');
      if (type) visit(type);
      return;
    }
    if (!CONTAINERS.has(n.type)) return;
    for (const c of namedKids(n)) visit(c);
  };
  visit(root);
  return out;
}

/**
 * Merges struct tables, later ones winning per field (a field keeps its first
 * position). Linear in the fields merged: a whole tree has names defined in
 * many files, and copying the merged struct again at each one was quadratic.
 * An array, not rest arguments: a tree's tens of thousands of files would
 * overflow a call's argument list.
 */
export function mergeStructs(tables: readonly StructTable[]): StructTable {
  const out: StructTable = {};
  for (const t of tables) {
    for (const [name, fields] of Object.entries(t)) {
      const merged = out[name];
      if (merged) Object.assign(merged, fields);
      else out[name] = { ...fields };
    }
  }
  return out;
}
