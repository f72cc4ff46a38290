/**
 * Shapes of kernel C that tree-sitter reads oddly, as the function builder
 * accepts them: an iterator or scoped-guard macro head (a call statement
 * whose `;` is MISSING) followed by its block, and ERROR nodes that cost
 * nothing. Everything else the parser could not read makes a function partial.
 */
import type { SyntaxNode } from '../parse/syntax';
import { kids, namedKids, nodeType } from './syntax-util';

/** Is this node a statement the builder walks (as opposed to an expression or punctuation)? */
export function isStatement(n: SyntaxNode): boolean {
  return nodeType(n).endsWith('_statement') || nodeType(n) === 'declaration';
}

/** `list_for_each_entry(...)` / `scoped_guard(...)` read as a call statement whose `;` is MISSING. */
function macroHeadName(n: SyntaxNode): string | undefined {
  if (nodeType(n) !== 'expression_statement') return undefined;
  // Cheap test first: a statement that ends in `;` is an ordinary one.
  if (n.text.endsWith(';')) return undefined;
  const last = n.child(n.childCount - 1);
  if (!last || !(last.isMissing || nodeType(last) !== ';')) return undefined;
  const call = n.namedChild(0);
  if (!call || nodeType(call) !== 'call_expression') return undefined;
  const fn = call.childForFieldName('function');
  if (!fn || nodeType(fn) !== 'identifier') return undefined;
  return fn.text;
}

/** Statement children with the macro-block pairing resolved: [head, body] pairs or single statements. */
export function pairMacroBlocks(
  children: readonly SyntaxNode[],
): Array<{ stmt: SyntaxNode; body?: SyntaxNode; macro?: string }> {
  const out: Array<{ stmt: SyntaxNode; body?: SyntaxNode; macro?: string }> = [];
  for (let i = 0; i < children.length; i++) {
    const c = children[i];
    const name = macroHeadName(c);
    const next = children[i + 1];
    if (name && next && isStatement(next)) {
      out.push({ stmt: c, body: next, macro: name });
      i++;
    } else out.push({ stmt: c });
  }
  return out;
}

/**
 * ERROR nodes that cost nothing: a type given to a macro as an argument
 * (`container_of(p, struct foo, member)`, `rb_entry(n, struct x, node)`) and
 * GNU case ranges (`case 1 ... 5:`). The surrounding call or case is still
 * modelled whole.
 */
export function isBenignError(n: SyntaxNode): boolean {
  const parent = n.parent;
  if (!parent) return false;
  if (nodeType(parent) === 'argument_list') {
    return namedKids(n).every((c) =>
      /^(?:identifier|type_identifier|primitive_type|sized_type_specifier|struct_specifier|union_specifier|type_qualifier)$/.test(
        nodeType(c),
      ),
    );
  }
  if (nodeType(parent) === 'case_statement') return kids(n).some((c) => nodeType(c) === '...');
  return false;
}

export function isAllowedMissing(m: SyntaxNode): boolean {
  if (m.isError) return isBenignError(m);
  // The MISSING `;` of a macro head followed by its block is the shape we model.
  const parent = m.parent;
  if (!parent || nodeType(m) !== ';' || nodeType(parent) !== 'expression_statement') return false;
  return macroHeadName(parent) !== undefined;
}
