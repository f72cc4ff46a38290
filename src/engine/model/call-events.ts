/**
 * Expressions of the function builder, in evaluation order: calls and
 * callbacks through ops tables (call and callback events, tied to the local
 * their result goes to), uses of locals read from shared fields, field
 * reads; lock API calls are handed to lock-events.ts, assignments and
 * stores to data-events.ts, statement expressions back to control-flow.ts.
 */
import type { SyntaxNode } from '../parse/syntax';
import { DataEvents, MARKED_ACCESS, stripWrappers } from './data-events';
import { clip, splitArguments } from './event-text';
import { TRANSPARENT_CALLS } from './lock-apis';
import { isBenignError } from './statement-shapes';
import { column, line, namedKids, nodeType, squash, unparen } from './syntax-util';

export abstract class CallEvents extends DataEvents {
  /** The expression whose operands are being walked (for the text of use events). */
  protected exprParent: SyntaxNode | undefined;

  protected walkExpr(n: SyntaxNode, resultVar?: string): void {
    switch (nodeType(n)) {
      case 'call_expression':
        this.walkCall(n, resultVar);
        return;
      case 'assignment_expression':
        this.walkAssignment(n);
        return;
      case 'update_expression': {
        const arg = n.childForFieldName('argument');
        if (arg) this.walkExpr(arg);
        if (arg?.type === 'field_expression') this.emitWrite(arg, n.text, n);
        return;
      }
      case 'identifier':
        if (this.readVars.size > 0 && this.readVars.has(n.text)) {
          // The enclosing expression's text (asking a node for its parent is slow in web-tree-sitter).
          const context = this.exprParent;
          this.emit({
            kind: 'use',
            variable: n.text,
            text: clip(context ? context.text : n.text),
            line: line(n),
            column: column(n),
          });
        }
        return;
      case 'field_expression': {
        const saved = this.exprParent;
        const isAddress =
          saved !== undefined && nodeType(saved) === 'pointer_expression' && saved.text.charCodeAt(0) === 38; /* & */
        if (!isAddress || this.markedDepth > 0) this.recordAccess(n, 'read');
        const base = n.childForFieldName('argument');
        if (base && (nodeType(base) === 'field_expression' || this.mayHaveEvents(base))) {
          this.exprParent = n;
          this.walkExpr(base);
          this.exprParent = saved;
        }
        return;
      }
      case 'parenthesized_expression':
      case 'pointer_expression':
      case 'unary_expression':
      case 'binary_expression':
      case 'subscript_expression':
      case 'cast_expression':
      case 'conditional_expression':
      case 'comma_expression':
      case 'argument_list':
      case 'initializer_list':
      case 'initializer_pair':
      case 'compound_literal_expression':
      case 'sizeof_expression':
        // Most operands hold no call, assignment or tracked local: skip them
        // without asking the tree for their children (the costly part).
        if (!this.mayHaveEvents(n)) return;
        for (const c of namedKids(n)) {
          const ct = nodeType(c);
          if (
            ct === 'field_identifier' ||
            ct === 'type_descriptor' ||
            ct === 'number_literal' ||
            ct === 'string_literal'
          )
            continue;
          const saved = this.exprParent;
          this.exprParent = n;
          this.walkExpr(c);
          this.exprParent = saved;
        }
        return;
      case 'compound_statement':
        // GNU statement expression `({ ... })`.
        this.walkStatement(n);
        return;
      case 'ERROR':
        if (isBenignError(n)) return;
        this.partial(n, 'syntax the parser could not read');
        for (const c of namedKids(n)) this.walkExpr(c);
        return;
      default:
        return;
    }
  }

  /**
   * A call: `guard()` and lock APIs become lock events, store macros writes;
   * any other call through a name or a local function pointer is a call
   * event, one through a struct member (`ops->fn()`) a callback event.
   */
  protected walkCall(n: SyntaxNode, resultVar?: string): void {
    const fn = unparen(n.childForFieldName('function') ?? n);
    const argList = n.childForFieldName('arguments');
    const args = argList
      ? namedKids(argList).filter((a) => a.type !== 'comment' && !(a.type === 'ERROR' && isBenignError(a)))
      : [];
    const argTexts = argList ? splitArguments(argList.text) : [];

    if (this.walkGuardCall(n, fn, args)) return;

    if (nodeType(fn) === 'identifier') {
      const name = fn.text;
      if (this.walkLockApiCall(n, name, args, resultVar)) return;
      if (this.walkStoreMacro(n, name, args)) return;
      const marked = MARKED_ACCESS.test(name);
      const unevaluated = name === 'sizeof' || name === 'offsetof' || name === 'typeof';
      if (marked) this.markedDepth++;
      if (unevaluated) this.unevaluatedDepth++;
      try {
        if (TRANSPARENT_CALLS.has(name)) {
          for (const a of args) {
            if (stripWrappers(a).type === 'call_expression') this.walkExpr(a, resultVar);
            else this.walkExpr(a);
          }
          return;
        }
        if (marked) this.walkArgs(n, args);
      } finally {
        if (marked) this.markedDepth--;
        if (unevaluated) this.unevaluatedDepth--;
      }
      this.recordLockInit(n, name, args);
      if (!marked) this.walkArgs(n, args);
      const addressed = this.addressedFields(args);
      const targets = this.fnPointers.get(name);
      const loc = this.emit({
        kind: 'call',
        // A parameter or local called is a function pointer: `(*fn)`, not the function of that name elsewhere
        // (a whole tree has global functions named `fn`, `func` and `cb`); what was assigned to it is `targets`.
        callee: this.vars.has(name) ? `(*${name})` : name,
        args: argTexts,
        ...(resultVar ? { resultVar } : {}),
        text: clip(n.text),
        line: line(n),
        column: column(n),
        ...(addressed ? { addressed } : {}),
        ...(targets ? { targets: [...targets] } : {}),
      });
      this.eventsByNode.set(n.startIndex, loc);
      if (resultVar) this.callSites.set(resultVar, loc);
      return;
    }

    if (nodeType(fn) === 'field_expression') {
      const base = fn.childForFieldName('argument');
      if (base) this.walkExpr(base);
      this.walkArgs(n, args);
      const opsStruct = this.typeOf(base);
      const loc = this.emit({
        kind: 'callback',
        ...(opsStruct ? { opsStruct } : {}),
        field: fn.childForFieldName('field')?.text ?? '',
        args: argTexts,
        ...(resultVar ? { resultVar } : {}),
        text: clip(n.text),
        line: line(n),
        column: column(n),
      });
      this.eventsByNode.set(n.startIndex, loc);
      if (resultVar) this.callSites.set(resultVar, loc);
      return;
    }

    this.walkExpr(fn);
    this.walkArgs(n, args);
    // Through an element of a file-scope table of functions (`handlers[op](pkt)`): each function in it.
    const table = this.tableOf(fn);
    this.emit({
      kind: 'call',
      callee: squash(fn.text),
      args: argTexts,
      ...(resultVar ? { resultVar } : {}),
      text: clip(n.text),
      line: line(n),
      column: column(n),
      ...(table ? { targets: [...table] } : {}),
    });
  }

  /** Could walking `n` emit anything? Only calls, assignments, updates and uses of tracked locals do. */
  protected mayHaveEvents(n: SyntaxNode): boolean {
    const t = n.text;
    if (
      t.indexOf('(') >= 0 ||
      t.indexOf('=') >= 0 ||
      t.indexOf('++') >= 0 ||
      t.indexOf('--') >= 0 ||
      t.indexOf('->') >= 0
    )
      return true;
    if (this.readVars.size === 0) return false;
    for (const v of this.readVars) if (t.indexOf(v) >= 0) return true;
    return false;
  }

  /** Walks call arguments with the call as the context of any use inside them. */
  protected walkArgs(call: SyntaxNode, args: readonly SyntaxNode[]): void {
    const saved = this.exprParent;
    this.exprParent = call;
    for (const a of args) this.walkExpr(a);
    this.exprParent = saved;
  }
}
