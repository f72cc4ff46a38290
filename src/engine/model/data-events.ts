/**
 * Data events of the function builder: writes to shared fields (assignments,
 * `x->f++`, store macros such as `WRITE_ONCE()`), reads of fields into
 * locals, local-to-local copies, function pointers and member aliases held
 * in locals, and the field accesses through pointers the lockset rule reads
 * (marked when inside `READ_ONCE()` & co, none inside `sizeof`).
 */
import type { SyntaxNode } from '../parse/syntax';
import { chainRoot } from '../text-scan';
import { ControlFlow } from './control-flow';
import { clip } from './event-text';
import { TRANSPARENT_CALLS } from './lock-apis';
import { column, line, nodeType, squash, unparen } from './syntax-util';
import type { FieldAccess } from './types';

export abstract class DataEvents extends ControlFlow {
  /** Locals assigned from a shared field: their later uses are use events. */
  protected readonly readVars = new Set<string>();
  /** Locals assigned a function's name (`func = vfio_pci_set_intx_trigger;`): the functions a call through them reaches. */
  protected readonly fnPointers = new Map<string, Set<string>>();
  /** Locals set to the address of a member of another local (`hwpt = &hwpt_paging->common`). */
  protected readonly memberAliases: { name: string; of: string; member?: string; line: number }[] = [];
  /** Inside `READ_ONCE()` & co: field accesses are marked (lockless by intent). */
  protected markedDepth = 0;
  /** Inside `sizeof`/`offsetof`: nothing is accessed. */
  protected unevaluatedDepth = 0;

  protected walkAssignment(n: SyntaxNode): void {
    const left = n.childForFieldName('left');
    const right = n.childForFieldName('right');
    const op = n.childForFieldName('operator')?.text ?? n.child(1)?.text ?? '=';
    if (!left || !right) return;
    const target = unparen(left);
    if (nodeType(target) === 'identifier' && op === '=') {
      this.assignLocal(target.text, right, n);
      return;
    }
    this.walkExpr(right);
    if (nodeType(target) === 'field_expression') {
      const base = target.childForFieldName('argument');
      if (base) this.walkExpr(base);
      this.emitWrite(target, op === '=' ? right.text : n.text, n);
    } else if (
      nodeType(target) === 'pointer_expression' &&
      target.child(0)?.type === '*' &&
      this.params.includes(unparen(target.childForFieldName('argument') ?? target).text)
    ) {
      // `*out = id`: a store through a pointer parameter, the callee's out-parameter.
      this.emit({
        kind: 'write',
        target: clip(target.text),
        value: clip(op === '=' ? right.text : n.text),
        line: line(n),
        column: column(n),
      });
    } else this.walkExpr(target);
  }

  /** The functions of the table `v` reads an element of (`handlers[op]`, `pick_handler(op)`), if it does. */
  protected tableOf(v: SyntaxNode): string[] | undefined {
    const tables = this.ctx.tables;
    if (!tables) return undefined;
    if (nodeType(v) === 'subscript_expression') {
      const array = unparen(v.childForFieldName('argument') ?? v);
      return nodeType(array) === 'identifier' && !this.vars.has(array.text) ? tables.get(array.text) : undefined;
    }
    if (nodeType(v) === 'call_expression') {
      const callee = unparen(v.childForFieldName('function') ?? v);
      const table = nodeType(callee) === 'identifier' ? this.ctx.tableGetters?.get(callee.text) : undefined;
      return table ? tables.get(table) : undefined;
    }
    return undefined;
  }

  /** `name = value` (assignment or initialiser): result ties, reads, error state, lock aliases. */
  protected assignLocal(name: string, value: SyntaxNode, at: SyntaxNode): void {
    this.callSites.delete(name);
    const v = stripWrappers(value);
    if (nodeType(v) === 'call_expression') this.walkExpr(value, name);
    else this.walkExpr(value);
    // An element of a file-scope table of functions, directly or from a helper returning one:
    // the local then holds one of the table's functions.
    const table = this.vars.has(name) ? this.tableOf(v) : undefined;
    if (table) {
      const targets = this.fnPointers.get(name) ?? new Set<string>();
      for (const t of table) targets.add(t);
      this.fnPointers.set(name, targets);
    }
    if (nodeType(v) === 'field_expression') {
      const baseType = this.typeOf(v.childForFieldName('argument'));
      const field = v.childForFieldName('field')?.text;
      this.emit({
        kind: 'read',
        source: clip(v.text),
        ...(baseType && field ? { field: `${baseType}.${field}` } : {}),
        into: name,
        line: line(at),
        column: column(at),
      });
      this.readVars.add(name);
    } else if (
      nodeType(v) === 'identifier' &&
      this.vars.has(name) &&
      !this.vars.has(v.text) &&
      !this.ctx.globals.has(v.text) &&
      !this.vars.get(name)!.int &&
      !/^[A-Z_0-9]+$/.test(v.text)
    ) {
      // A local function pointer given a function (not a variable, not a constant).
      const targets = this.fnPointers.get(name);
      if (targets) targets.add(v.text);
      else this.fnPointers.set(name, new Set([v.text]));
    } else if (
      nodeType(v) === 'identifier' &&
      v.text !== name &&
      this.vars.has(v.text) &&
      this.vars.has(name) &&
      nodeType(uncast(value)) === 'identifier'
    ) {
      // Local to local (`err = npinned`, `pos = next`): a read marked `local`, so the
      // checks see the local reassigned and where its value came from.
      this.emit({ kind: 'read', source: v.text, into: name, local: true, line: line(at), column: column(at) });
    } else if (nodeType(v) === 'pointer_expression' && v.child(0)?.type === '&') {
      const ref = this.lockRef(v, 'unknown');
      if (ref.resolved && ref.kind !== 'unknown') this.lockAliases.set(name, ref);
      else {
        // `hwpt = &hwpt_paging->common`: the same object under another name.
        const member = unparen(v.childForFieldName('argument') ?? v);
        const base =
          nodeType(member) === 'field_expression' ? unparen(member.childForFieldName('argument') ?? member) : undefined;
        const field = nodeType(member) === 'field_expression' ? member.childForFieldName('field')?.text : undefined;
        if (base && nodeType(base) === 'identifier' && base.text !== name)
          this.memberAliases.push({ name, of: base.text, ...(field ? { member: field } : {}), line: line(at) });
      }
    }
    const error = this.isErrorValue(value);
    if (error !== this.env.has(name)) {
      // The set may be shared with other paths: change a copy.
      const next = new Set(this.env);
      if (error) next.add(name);
      else next.delete(name);
      this.env = next;
    }
  }

  protected emitWrite(target: SyntaxNode, value: string, at: SyntaxNode, marked = false): void {
    const baseType = this.typeOf(target.childForFieldName('argument'));
    const field = target.childForFieldName('field')?.text;
    if (baseType && field) this.recordAccess(target, 'write', `${baseType}.${field}`, marked);
    this.emit({
      kind: 'write',
      target: clip(target.text),
      ...(baseType && field ? { field: `${baseType}.${field}` } : {}),
      value: clip(value),
      line: line(at),
      column: column(at),
    });
  }

  /**
   * `WRITE_ONCE(x->f, v)`, `smp_store_release(&x->f, v)`, `rcu_assign_pointer(x->f, v)`:
   * a store to a shared field, modelled as the write `x->f = v` is. False for any other call.
   */
  protected walkStoreMacro(n: SyntaxNode, name: string, args: readonly SyntaxNode[]): boolean {
    if (!(STORE_MACROS.has(name) && args.length === 2)) return false;
    const target = storeTarget(args[0]!);
    if (!target) return false;
    this.walkExpr(args[1]!);
    const base = target.childForFieldName('argument');
    if (base) this.walkExpr(base);
    this.emitWrite(target, args[1]!.text, n, true);
    return true;
  }

  /**
   * Records a field access reached through a pointer (the chain has a `->`),
   * at the current point of the current block; fields of stack objects
   * (`cfg.len`) are not shared and are left out.
   */
  protected recordAccess(n: SyntaxNode, kind: 'read' | 'write', resolved?: string, marked = false): void {
    if (this.unevaluatedDepth > 0) return;
    const text = n.text;
    if (text.indexOf('->') < 0) return;
    let field = resolved;
    if (!field) {
      const baseType = this.typeOf(n.childForFieldName('argument'));
      const name = n.childForFieldName('field')?.text;
      if (!baseType || !name) return;
      field = `${baseType}.${name}`;
    }
    const block = this.blocks[this.here()];
    const root = chainRoot(text);
    const access: FieldAccess = {
      field,
      kind,
      text: clip(squash(text)),
      at: block.events.length,
      line: line(n),
      column: column(n),
      ...(root ? { root } : {}),
      ...(marked || this.markedDepth > 0 ? { marked: true } : {}),
    };
    (block.accesses ??= []).push(access);
  }

  /** `&obj->field` arguments: index → `struct.field` (only when some argument takes a field's address). */
  protected addressedFields(args: readonly SyntaxNode[]): Record<number, string> | undefined {
    let out: Record<number, string> | undefined;
    args.forEach((a, i) => {
      if (a.text.charCodeAt(0) !== 38 /* & */) return;
      const e = unparen(a);
      if (nodeType(e) !== 'pointer_expression' || e.child(0)?.type !== '&') return;
      const target = unparen(e.childForFieldName('argument') ?? e);
      if (nodeType(target) !== 'field_expression') return;
      const base = this.typeOf(target.childForFieldName('argument'));
      const field = target.childForFieldName('field')?.text;
      if (base && field) (out ??= {})[i] = `${base}.${field}`;
    });
    return out;
  }
}

/** Strips parens and casts only (not value wrappers such as `PTR_ERR()`). */
function uncast(n: SyntaxNode): SyntaxNode {
  let cur = unparen(n);
  for (let guard = 0; guard < 8 && nodeType(cur) === 'cast_expression'; guard++)
    cur = unparen(cur.childForFieldName('value') ?? cur);
  return cur;
}

/**
 * Calls whose argument is read or written locklessly on purpose: the
 * once-accessors, acquire/release, RCU accessors, data_race() and atomics.
 */
export const MARKED_ACCESS =
  /^(?:READ_ONCE|WRITE_ONCE|data_race|smp_load_acquire|smp_store_release|rcu_dereference\w*|rcu_access_pointer|rcu_assign_pointer|RCU_INIT_POINTER|srcu_dereference\w*|atomic\w*|test_bit|set_bit|clear_bit|test_and_\w+_bit)$/;

/** Store macros whose first argument is the stored-to location (by lvalue, or by address for smp_store_release). */
const STORE_MACROS = new Set(['WRITE_ONCE', 'rcu_assign_pointer', 'RCU_INIT_POINTER', 'smp_store_release']);

/** The field a store macro writes (`x->f` from `x->f` or `&x->f`), or undefined for any other target. */
function storeTarget(arg: SyntaxNode): SyntaxNode | undefined {
  let t = unparen(arg);
  if (nodeType(t) === 'pointer_expression' && t.child(0)?.type === '&')
    t = unparen(t.childForFieldName('argument') ?? t);
  return nodeType(t) === 'field_expression' ? t : undefined;
}

/** Unwraps parens, casts and value-preserving wrappers (`READ_ONCE(x)`, `xa_err(...)`). */
export function stripWrappers(n: SyntaxNode): SyntaxNode {
  let cur = unparen(n);
  for (let guard = 0; guard < 8; guard++) {
    if (nodeType(cur) === 'cast_expression') {
      cur = unparen(cur.childForFieldName('value') ?? cur);
      continue;
    }
    if (nodeType(cur) === 'call_expression') {
      const fn = cur.childForFieldName('function');
      const arg = cur.childForFieldName('arguments')?.namedChild(0);
      if (fn?.type === 'identifier' && TRANSPARENT_CALLS.has(fn.text) && arg && fn.text !== 'sizeof') {
        cur = unparen(arg);
        continue;
      }
    }
    break;
  }
  return cur;
}
