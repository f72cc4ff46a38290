/**
 * Edge conditions of the function builder: which locals hold an error on the
 * current path, whether a returned or assigned value is an errno, and what
 * an `if`'s condition tests (a checked call result, a trylock), so its two
 * edges carry `error`/`ok` or `locked`/`unlocked`.
 */
import type { SyntaxNode } from '../parse/syntax';
import type { EventLoc } from './function-state';
import { LockEvents } from './lock-events';
import { nodeType, squash, unparen } from './syntax-util';
import type { Edge, EdgeCondition } from './types';

const RC_NAMES = /^(?:rc|ret|err|error|rv|retval|result|status|r|res)$/;
const ERRNO = /^-\s*E[A-Z0-9]+$/;

/** What an `if`'s two edges carry (see Edge). */
interface EdgeClasses {
  whenTrue?: EdgeCondition;
  whenFalse?: EdgeCondition;
  failedTrue?: Edge['failed'];
  failedFalse?: Edge['failed'];
  errorTrue?: string;
  errorFalse?: string;
}

/** The empty error set, shared. */
export const NO_ERRORS: ReadonlySet<string> = new Set<string>();

export abstract class Conditions extends LockEvents {
  /**
   * Locals known to hold an error on the current path. Never changed in
   * place: a branch shares its parent's set until it changes it (a copy then).
   */
  protected env: ReadonlySet<string> = NO_ERRORS;

  /** Is this returned/assigned value an errno on this path? */
  protected isErrorValue(v: SyntaxNode): boolean {
    const e = unparen(v);
    const text = squash(e.text);
    if (ERRNO.test(text)) return true;
    if (nodeType(e) === 'call_expression') {
      const fn = e.childForFieldName('function')?.text;
      if (fn === 'ERR_PTR' || fn === 'ERR_CAST' || fn === 'PTR_ERR') {
        // ERR_PTR(0) is NULL, not an error.
        const arg = e.childForFieldName('arguments')?.namedChild(0);
        return !(arg && arg.text === '0');
      }
      return false;
    }
    if (nodeType(e) === 'identifier') return this.env.has(e.text);
    return false;
  }

  /**
   * The edge conditions of `if (cond)`: which event the condition tests and
   * what its true/false branches mean, plus which local holds an error on
   * each branch.
   */
  protected classify(cond: SyntaxNode, head: number): EdgeClasses {
    let e = unparen(cond);
    let negated = false;
    let errorTest = false; // IS_ERR(x), xa_err(x), x < 0: true means error whatever x is
    for (let guard = 0; guard < 8; guard++) {
      e = unparen(e);
      if (nodeType(e) === 'unary_expression' && e.child(0)?.text === '!') {
        negated = !negated;
        e = e.childForFieldName('argument') ?? e;
        continue;
      }
      if (nodeType(e) === 'call_expression') {
        const fn = e.childForFieldName('function')?.text ?? '';
        const arg = e.childForFieldName('arguments')?.namedChild(0);
        if (/^(?:unlikely|likely|WARN_ON|WARN_ON_ONCE|WARN|WARN_ONCE)$/.test(fn) && arg) {
          e = arg;
          continue;
        }
        if (/^(?:IS_ERR|IS_ERR_OR_NULL|xa_err|PTR_ERR)$/.test(fn) && arg) {
          errorTest = true;
          e = arg;
          continue;
        }
      }
      if (nodeType(e) === 'binary_expression') {
        const op = e.childForFieldName('operator')?.text ?? e.child(1)?.text;
        const left = e.childForFieldName('left');
        const right = e.childForFieldName('right');
        const zero = right && /^(?:0|NULL|false)$/.test(right.text);
        if (left && zero && (op === '==' || op === '!=')) {
          if (op === '==') negated = !negated;
          e = left;
          continue;
        }
        if (left && right && right.text === '0' && op === '<') {
          errorTest = true;
          e = left;
          continue;
        }
      }
      break;
    }
    e = unparen(e);
    // `if ((rc = foo()))`, `if (!(p = kzalloc(...)))`: the assigned local is what is tested.
    if (nodeType(e) === 'assignment_expression') {
      const left = e.childForFieldName('left');
      if (left?.type === 'identifier') e = left;
    }
    let loc: EventLoc | undefined;
    let varName: string | undefined;
    if (nodeType(e) === 'identifier') {
      varName = e.text;
      loc = this.callSites.get(e.text);
    } else if (nodeType(e) === 'call_expression') {
      loc = this.eventsByNode.get(e.startIndex);
    }
    const info = varName ? this.vars.get(varName) : undefined;
    // What a true (non-zero / non-NULL) value of the tested thing means.
    let truthy: 'error' | 'ok' | 'locked' | 'unlocked' | undefined;
    if (loc?.api?.trylock) truthy = 'locked';
    else if (loc?.api?.onZero) truthy = 'unlocked';
    else if (errorTest) truthy = 'error';
    else if (info) truthy = info.pointer || info.bool ? 'ok' : info.int ? 'error' : undefined;
    else if (loc) truthy = this.returnsPointer(e) || this.returnsBool(e) ? 'ok' : 'error';
    if (!truthy) return {};
    const flip = { error: 'ok', ok: 'error', locked: 'unlocked', unlocked: 'locked' } as const;
    const onTrue = negated ? flip[truthy] : truthy;
    const out: EdgeClasses = {};
    if (loc && loc.block === head) {
      out.whenTrue = { on: onTrue, event: loc.index };
      out.whenFalse = { on: flip[onTrue], event: loc.index };
    } else if (loc && varName && (onTrue === 'unlocked' || onTrue === 'locked')) {
      // The acquire sits in an earlier block (one arm of an if, the other arm
      // taking the lock unconditionally): only the failure edge is certain.
      const failed = { block: loc.block, event: loc.index };
      if (onTrue === 'unlocked') out.failedTrue = failed;
      else out.failedFalse = failed;
    }
    if (
      varName &&
      (onTrue === 'error' || onTrue === 'unlocked' || flip[onTrue] === 'error' || flip[onTrue] === 'unlocked')
    ) {
      const intLike = info?.int && (RC_NAMES.test(varName) || errorTest || this.callSites.has(varName));
      const errPtr = errorTest && info?.pointer;
      if (intLike || errPtr) {
        if (onTrue === 'error' || onTrue === 'unlocked') out.errorTrue = varName;
        else out.errorFalse = varName;
      }
    }
    return out;
  }

  /** A `bool` result is a success flag: true means it worked. */
  protected returnsBool(call: SyntaxNode): boolean {
    const fn = call.childForFieldName('function');
    if (!fn || nodeType(fn) !== 'identifier') return false;
    return (
      this.ctx.structs['<bool-functions>']?.[fn.text] !== undefined ||
      /^(?:IS_ENABLED|list_empty|refcount_dec_and_test|refcount_inc_not_zero|kref_get_unless_zero|mutex_is_locked|check_(?:add|sub|mul)_overflow|try_module_get|(?:is|has|can)_\w+)$/.test(
        fn.text,
      )
    );
  }

  protected returnsPointer(call: SyntaxNode): boolean {
    const fn = call.childForFieldName('function');
    return Boolean(
      fn &&
      nodeType(fn) === 'identifier' &&
      (this.ctx.returns.has(fn.text) ||
        /^(?:k[mvz]?alloc|kzalloc|kcalloc|kmalloc_array|kvzalloc|kvcalloc|kmemdup|vzalloc|vmalloc)$/.test(fn.text)),
    );
  }
}
