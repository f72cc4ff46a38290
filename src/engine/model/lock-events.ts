/**
 * Lock events of the function builder: a lock expression resolved to its
 * class, the sparse annotations (`__must_hold`, `__acquires`, `__releases`),
 * lock API calls (acquire, release, assert), `guard()` and the implicit
 * releases at a guarded scope's exits, and lock class sites (`mutex_init()`).
 */
import type { SyntaxNode } from '../parse/syntax';
import { FunctionState } from './function-state';
import type { EventLoc, FileContext, GuardHold, Scope } from './function-state';
import { guardClass, LOCK_CLASS_SITES, lockApi } from './lock-apis';
import { column, line, squash, structOfTypeText, unparen, nodeType } from './syntax-util';
import type { AcquireEvent, LockKind, LockMode, LockRef } from './types';

/**
 * The class of a lock in a file-scope object. lockdep keys a static lock by
 * its definition, so a `static` object's lock is a class of its own file
 * (`file-scope:core/addr.c:lock`): two files' `static DEFINE_MUTEX(lock)` are
 * unrelated. A non-static or extern object is one object program-wide.
 */
export function fileScopeClass(ctx: Pick<FileContext, 'file' | 'globals'>, root: string, plain: string): string {
  if (!ctx.globals.get(root)?.fileLocal) return `file-scope:${plain}`;
  const parts = ctx.file.split(/[\\/]+/).filter(Boolean);
  return `file-scope:${parts.slice(-2).join('/')}:${plain}`;
}

function lockKindOfType(type: string | undefined): LockKind | undefined {
  if (!type) return undefined;
  if (/\bstruct\s+mutex\b/.test(type)) return 'mutex';
  if (/\bstruct\s+rw_semaphore\b/.test(type)) return 'rwsem';
  if (/\b(?:raw_)?spinlock_t\b|\brwlock_t\b/.test(type)) return 'spinlock';
  if (/\bstruct\s+xarray\b/.test(type)) return 'xa_lock';
  return undefined;
}

export abstract class LockEvents extends FunctionState {
  protected readonly scopes: Scope[] = [];
  /** Local pointers initialised with the address of a lock (`struct mutex *m = &x->lock`). */
  protected readonly lockAliases = new Map<string, LockRef>();
  protected readonly callSites = new Map<string, EventLoc>();
  protected readonly eventsByNode = new Map<number, EventLoc>();
  /** Lock class sites (init calls) seen in the body. */
  protected readonly lockInits: { lock: string; line: number }[] = [];

  /** A lock expression (`&access->ioas_lock`, `&iopt->iova_rwsem`, `lock`) → its class. */
  lockRef(arg: SyntaxNode | null, kind: LockKind): LockRef {
    if (!arg) return { id: '?', kind, expr: '', resolved: false };
    let e = unparen(arg);
    const expr = squash(arg.text);
    if (nodeType(e) === 'pointer_expression' && e.child(0)?.type === '&')
      e = unparen(e.childForFieldName('argument') ?? e);
    const plain = squash(e.text);
    if (nodeType(e) === 'field_expression') {
      const baseNode = e.childForFieldName('argument');
      const field = e.childForFieldName('field')?.text ?? '';
      const base = this.typeOf(baseNode);
      if (base) {
        const k = kind === 'unknown' ? (lockKindOfType(this.ctx.structs[base]?.[field]) ?? kind) : kind;
        return { id: `${base}.${field}`, kind: k, expr, resolved: true };
      }
      // A lock inside a file-scope object (`vfio.group_lock`): named after the variable.
      let root: SyntaxNode | null = baseNode;
      while (root && nodeType(root) === 'field_expression') root = root.childForFieldName('argument');
      if (root?.type === 'identifier' && !this.vars.has(root.text) && e.text.indexOf('->') < 0) {
        return {
          id: fileScopeClass(this.ctx, root.text, plain),
          kind,
          expr,
          resolved: this.ctx.globals.has(root.text),
        };
      }
      return { id: plain, kind, expr, resolved: false };
    }
    if (nodeType(e) === 'identifier') {
      const alias = this.lockAliases.get(e.text);
      if (alias) return { ...alias, expr };
      if (!this.vars.has(e.text)) {
        const name = e.text;
        const elsewhere = this.ctx.structs['<globals>']?.[name];
        const declared = this.ctx.globals.get(name)?.struct;
        const typeText = declared ? `struct ${declared}` : elsewhere;
        return {
          id: fileScopeClass(this.ctx, name, name),
          kind: kind === 'unknown' ? (lockKindOfType(typeText) ?? kind) : kind,
          expr,
          resolved: this.ctx.globals.has(name) || elsewhere !== undefined,
        };
      }
    }
    return { id: plain, kind, expr, resolved: false };
  }

  /** `__must_hold(&x->lock)` between the declarator and the body, read from the user's text. */
  protected mustHold(def: SyntaxNode, body: SyntaxNode | null | undefined): LockRef[] {
    return this.annotated(def, body, '__must_hold');
  }

  /** The locks a sparse context annotation (`__must_hold`, `__acquires`, `__releases`) of the definition names. */
  protected annotated(def: SyntaxNode, body: SyntaxNode | null | undefined, annotation: string): LockRef[] {
    const from = def.startIndex;
    const to = body ? body.startIndex : def.endIndex;
    const head = this.ctx.original.slice(from, to);
    if (head.indexOf(annotation) < 0) return [];
    const out: LockRef[] = [];
    // No `\s*` around the argument: lazy `[^)]*?` before `\s*\)` rescans blank runs (quadratic); lockRefFromText trims.
    for (const m of head.matchAll(new RegExp(`${annotation}\\s*\\(([^)]*)\\)`, 'g')))
      out.push(this.lockRefFromText(m[1]));
    return out;
  }

  /** A lock expression known only as text: `&access->ioas_lock`. */
  protected lockRefFromText(text: string): LockRef {
    const expr = squash(text);
    const parts = expr
      .replace(/^&\s*/, '')
      .split(/->|\./)
      .map((p) => p.trim());
    let type = (this.vars.get(parts[0]) ?? this.ctx.globals.get(parts[0]))?.struct;
    for (let i = 1; i < parts.length - 1 && type; i++) type = structOfTypeText(this.ctx.structs[type]?.[parts[i]]);
    if (type && parts.length > 1) {
      const field = parts[parts.length - 1];
      return {
        id: `${type}.${field}`,
        kind: lockKindOfType(this.ctx.structs[type]?.[field]) ?? 'unknown',
        expr,
        resolved: true,
      };
    }
    if (parts.length === 1 && !this.vars.has(parts[0]))
      return {
        id: fileScopeClass(this.ctx, parts[0], parts[0]),
        kind: 'unknown',
        expr,
        resolved: this.ctx.globals.has(parts[0]),
      };
    return { id: expr.replace(/^&\s*/, ''), kind: 'unknown', expr, resolved: false };
  }

  // ---- scopes and guards -------------------------------------------------

  /** Implicit releases of every guard in scopes at index >= depth, innermost first. */
  protected releaseGuards(depth: number, at: SyntaxNode | { line: number; column: number }): void {
    if (this.cur === null) return;
    const site = 'type' in at ? { line: line(at), column: column(at) } : at;
    for (let i = this.scopes.length - 1; i >= depth; i--) {
      const guards = this.scopes[i].guards;
      for (let j = guards.length - 1; j >= 0; j--) {
        const g = guards[j];
        this.emit({ kind: 'release', lock: g.lock, mode: g.mode, implicit: true, api: 'guard', ...site });
      }
    }
  }

  protected withScope(fn: () => void, endAt: SyntaxNode, guard?: GuardHold): void {
    this.scopes.push({ guards: guard ? [guard] : [] });
    fn();
    // The scope's end: guards release here when control falls out of it.
    const end = endAt.endPosition;
    this.releaseGuards(this.scopes.length - 1, { line: end.row + 1, column: end.column });
    this.scopes.pop();
  }

  /**
   * `guard(mutex)(&x)`: the inner call names the class, the outer one the
   * lock, released at every exit of the enclosing scope. False when `n` is
   * no guard() call (`fn` is the callee, `args` the outer call's arguments).
   */
  protected walkGuardCall(n: SyntaxNode, fn: SyntaxNode, args: readonly SyntaxNode[]): boolean {
    if (nodeType(fn) !== 'call_expression') return false;
    const inner = fn.childForFieldName('function');
    if (!(inner?.type === 'identifier' && inner.text === 'guard')) return false;
    const clsName = fn.childForFieldName('arguments')?.namedChild(0)?.text ?? '';
    const cls = guardClass(clsName);
    if (cls && args[0]) {
      const hold = this.acquireGuard(n, args[0], cls, 'guard', `guard(${clsName})`);
      this.scopes[this.scopes.length - 1]?.guards.push(hold);
    }
    return true;
  }

  /** The acquire event of a `guard()` or `scoped_guard()` at `at`; the caller keeps the hold in the scope it guards. */
  protected acquireGuard(
    at: SyntaxNode,
    lockArg: SyntaxNode,
    cls: { kind: LockKind; mode: LockMode },
    scope: 'guard' | 'scoped_guard',
    api: string,
  ): GuardHold {
    const lock = this.lockRef(lockArg, cls.kind);
    this.emit({
      kind: 'acquire',
      lock,
      mode: cls.mode,
      trylock: false,
      nested: false,
      scope,
      api,
      line: line(at),
      column: column(at),
    });
    return { lock, mode: cls.mode };
  }

  /** A call of a lock API (lock-apis.ts): its acquire, release or assert event. False when `name` is none. */
  protected walkLockApiCall(n: SyntaxNode, name: string, args: readonly SyntaxNode[], resultVar?: string): boolean {
    const api = lockApi(name);
    if (!api) return false;
    const lock = this.lockRef(args[0] ?? null, api.kind);
    const site = { line: line(n), column: column(n) };
    let loc: EventLoc;
    if (api.action === 'acquire') {
      const ev: AcquireEvent = {
        kind: 'acquire',
        lock,
        mode: api.mode,
        trylock: Boolean(api.trylock || api.onZero),
        nested: Boolean(api.nested),
        api: name,
        ...site,
      };
      loc = this.emit(ev);
    } else if (api.action === 'release') {
      loc = this.emit({ kind: 'release', lock, mode: api.mode, implicit: false, api: name, ...site });
    } else {
      loc = this.emit({ kind: 'assert', lock, expect: api.expect ?? 'held', ...site });
    }
    const withApi = { ...loc, api };
    this.eventsByNode.set(n.startIndex, withApi);
    if (resultVar) this.callSites.set(resultVar, withApi);
    return true;
  }

  /** `mutex_init(&x->lock)` & co: a lock class site of the function (FunctionModel.lockInits). */
  protected recordLockInit(n: SyntaxNode, name: string, args: readonly SyntaxNode[]): void {
    const initKind = LOCK_CLASS_SITES.get(name);
    if (initKind && args[0]) {
      const lock = this.lockRef(args[0], initKind);
      if (lock.resolved) this.lockInits.push({ lock: lock.id, line: line(n) });
    }
  }
}
