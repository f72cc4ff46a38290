/** Small helpers over tree-sitter nodes shared by the model builders. */
import { NODE_TYPE, type SyntaxNode } from '../parse/syntax';

/**
 * A node's type, remembered on the node object: web-tree-sitter asks wasm for
 * it on every access, and the builders look at each node's type several
 * times. A property is much cheaper than a WeakMap entry per node (most nodes
 * are fresh objects, so the WeakMap mostly grew and was collected again).
 */
export function nodeType(n: SyntaxNode): string {
  const holder = n as unknown as { [NODE_TYPE]?: string };
  let t = holder[NODE_TYPE];
  if (t === undefined) {
    t = n.type;
    holder[NODE_TYPE] = t;
  }
  return t;
}

export function line(n: SyntaxNode): number {
  return n.startPosition.row + 1;
}

export function column(n: SyntaxNode): number {
  return n.startPosition.column + 1;
}

/**
 * The list itself when it holds no null (the usual case: both backends'
 * lists are dense, and the wasm nodes keep theirs), else a copy without the
 * nulls the API allows. Read-only: callers share the node's own list.
 */
function dense(list: ReadonlyArray<SyntaxNode | null>): readonly SyntaxNode[] {
  for (let i = 0; i < list.length; i++) {
    if (!list[i]) return list.filter((c): c is SyntaxNode => c !== null);
  }
  return list as readonly SyntaxNode[];
}

/** Children without nulls. */
export function kids(n: SyntaxNode): readonly SyntaxNode[] {
  return dense(n.children);
}

export function namedKids(n: SyntaxNode): readonly SyntaxNode[] {
  return dense(n.namedChildren);
}

/** Strips parentheses around an expression. */
export function unparen(n: SyntaxNode): SyntaxNode {
  let cur = n;
  while (nodeType(cur) === 'parenthesized_expression') {
    const inner = cur.namedChild(0);
    if (!inner) break;
    cur = inner;
  }
  return cur;
}

/** The identifier a declarator declares (through pointers, arrays, init, function declarators). */
export function declaredName(n: SyntaxNode | null): { name: string; pointer: boolean; fn: boolean } | undefined {
  let pointer = false;
  let fn = false;
  let cur = n;
  for (let guard = 0; cur && guard < 32; guard++) {
    switch (nodeType(cur)) {
      case 'identifier':
      case 'field_identifier':
      case 'type_identifier':
        return { name: cur.text, pointer, fn };
      case 'pointer_declarator':
      case 'abstract_pointer_declarator':
        pointer = true;
        cur = cur.childForFieldName('declarator');
        break;
      case 'array_declarator':
        pointer = true;
        cur = cur.childForFieldName('declarator');
        break;
      case 'function_declarator':
        fn = true;
        cur = cur.childForFieldName('declarator');
        break;
      case 'init_declarator':
        cur = cur.childForFieldName('declarator');
        break;
      case 'parenthesized_declarator':
        cur = cur.namedChild(0);
        break;
      case 'attributed_declarator':
        cur = cur.namedChild(0);
        break;
      default:
        return undefined;
    }
  }
  return undefined;
}

/** `struct iommufd_ioas *` → `iommufd_ioas`; a typedef name stays itself. */
export function structOfTypeText(type: string | undefined): string | undefined {
  if (!type) return undefined;
  const m = /\b(?:struct|union)\s+([A-Za-z_]\w*)/.exec(type);
  if (m) return m[1];
  // `const foo_t *`: qualifiers off the front, stars and blanks off the end, one at a time (linear on any run).
  let t = type.trim();
  for (let q = /^(?:const|volatile)\s+/.exec(t); q; q = /^(?:const|volatile)\s+/.exec(t)) t = t.slice(q[0].length);
  let end = t.length;
  while (end > 0 && (t[end - 1] === '*' || /\s/.test(t[end - 1]))) end--;
  const name = t.slice(0, end).trimEnd();
  return /^[A-Za-z_]\w*$/.test(name) ? name : undefined;
}

/** The struct name a type specifier node names (struct_specifier or typedef name). */
export function structOfTypeNode(n: SyntaxNode | null): string | undefined {
  if (!n) return undefined;
  if (nodeType(n) === 'struct_specifier' || nodeType(n) === 'union_specifier') return n.childForFieldName('name')?.text;
  if (nodeType(n) === 'type_identifier') return n.text;
  return undefined;
}

/** Collapses whitespace so expressions read the same however they were wrapped. */
export function squash(text: string): string {
  return isSquashed(text) ? text : text.replace(/\s+/g, ' ').trim();
}

/**
 * True when `squash` would return `text` itself: ASCII only, no blank but
 * single spaces between other characters. Most event and argument texts are
 * like that, and a scan is cheaper than a regex replace that builds a copy.
 */
function isSquashed(text: string): boolean {
  let afterSpace = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32) {
      if (afterSpace) return false;
      afterSpace = true;
    } else if ((c >= 9 && c <= 13) || c > 126) {
      // Other whitespace, or non-ASCII (which may be): the slow path decides.
      return false;
    } else afterSpace = false;
  }
  return !afterSpace || text.length === 0;
}

/** `&acc->ioas_lock`, `acc->ioas`, `prev->obj.id` → `acc` / `prev`: the variable an expression hangs off. */
export function baseVariable(expr: string): string | undefined {
  const m = /^[\s(&*]*([A-Za-z_]\w*)/.exec(expr);
  return m?.[1];
}

/** `text` without any whitespace (argument texts compared however they were spaced). */
export function withoutSpaces(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || (c >= 9 && c <= 13) || c > 126) return text.replace(/\s+/g, '');
  }
  return text;
}

/** The first ERROR or unexpected MISSING node under `n`, if any (only searched when n.hasError). */
export function firstError(n: SyntaxNode, allowed: (m: SyntaxNode) => boolean): SyntaxNode | undefined {
  if (!n.hasError && !n.isMissing) return undefined;
  if (n.isError) return allowed(n) ? undefined : n;
  if (n.isMissing && !allowed(n)) return n;
  for (const c of n.children) {
    if (!c) continue;
    const e = firstError(c, allowed);
    if (e) return e;
  }
  return undefined;
}

/** Same node? (web-tree-sitter hands out a new object per access, so identity does not tell.) */
export function sameNode(a: SyntaxNode | null | undefined, b: SyntaxNode | null | undefined): boolean {
  return Boolean(a && b && a.startIndex === b.startIndex && a.endIndex === b.endIndex && nodeType(a) === nodeType(b));
}
