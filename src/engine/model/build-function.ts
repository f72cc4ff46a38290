/**
 * One function definition → FunctionModel: a CFG of basic blocks whose events
 * are the lock, call, callback, read/write, use and return effects, in
 * evaluation order. The builder never throws on odd syntax: what it cannot
 * read marks the function `partial` and is skipped, so the rest still counts.
 *
 * Kernel shapes handled on purpose:
 * - `guard(mutex)(&x);` → acquire, implicit release at every exit of the enclosing block;
 * - `scoped_guard(mutex, &x) { ... }` and `list_for_each_entry(...) { ... }`,
 *   which tree-sitter reads as a call statement with a MISSING `;` followed
 *   by a block: a guarded scope, or a loop over the block;
 * - `goto` unwinding to labels, releasing guards of the scopes it leaves;
 * - error edges on checked results (`if (rc)`, `if (IS_ERR(p))`, `if (!p)`)
 *   and trylock success edges.
 */
import { loopMacroAt } from '../parse/loop-macros';
import type { SyntaxNode } from '../parse/syntax';
import { chainRoot } from '../text-scan';
import { guardClass, isScopedGuardMacro, LOCK_CLASS_SITES, lockApi, TRANSPARENT_CALLS } from './lock-apis';
import type { LockApi } from './lock-apis';
import type { StructTable } from './structs';
import {
  column,
  declaredName,
  firstError,
  kids,
  line,
  namedKids,
  nodeType,
  sameNode,
  squash,
  structOfTypeNode,
  structOfTypeText,
  unparen,
} from './syntax-util';
import type {
  AcquireEvent,
  Block,
  EdgeCondition,
  Event,
  FieldAccess,
  FunctionModel,
  LockKind,
  LockMode,
  LockRef,
} from './types';

export interface VarInfo {
  struct?: string;
  pointer: boolean;
  /** A plain integer-like local (rc, ret, err): truthy means error when it holds a result. */
  int: boolean;
  /** A `bool` local: truthy means success. */
  bool?: boolean;
  /** A `static` file-scope object: its locks are classes of this file only. */
  fileLocal?: boolean;
}

/** What a function builder needs to know about the file and the world around it. */
export interface FileContext {
  file: string;
  /** The user's text (annotations like `__must_hold` are read from it). */
  original: string;
  structs: StructTable;
  /** File-scope variables. */
  globals: Map<string, VarInfo>;
  /** Functions of this file returning a struct pointer: name → struct. */
  returns: Map<string, string>;
}

interface GuardHold {
  lock: LockRef;
  mode: LockMode;
}

interface Scope {
  guards: GuardHold[];
}

interface LoopTargets {
  breakTo: number;
  continueTo?: number;
  scopeDepth: number;
}

interface EventLoc {
  block: number;
  index: number;
  api?: LockApi;
}

const RC_NAMES = /^(?:rc|ret|err|error|rv|retval|result|status|r|res)$/;
const ERRNO = /^-\s*E[A-Z0-9]+$/;
const MAX_TEXT = 160;

function clip(text: string): string {
  const s = squash(text);
  return s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT - 1)}…` : s;
}

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

/** Is this node a statement the builder walks (as opposed to an expression or punctuation)? */
function isStatement(n: SyntaxNode): boolean {
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
function pairMacroBlocks(children: SyntaxNode[]): Array<{ stmt: SyntaxNode; body?: SyntaxNode; macro?: string }> {
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

function isAllowedMissing(m: SyntaxNode): boolean {
  if (m.isError) return isBenignError(m);
  // The MISSING `;` of a macro head followed by its block is the shape we model.
  const parent = m.parent;
  if (!parent || nodeType(m) !== ';' || nodeType(parent) !== 'expression_statement') return false;
  return macroHeadName(parent) !== undefined;
}

function lockKindOfType(type: string | undefined): LockKind | undefined {
  if (!type) return undefined;
  if (/\bstruct\s+mutex\b/.test(type)) return 'mutex';
  if (/\bstruct\s+rw_semaphore\b/.test(type)) return 'rwsem';
  if (/\b(?:raw_)?spinlock_t\b|\brwlock_t\b/.test(type)) return 'spinlock';
  if (/\bstruct\s+xarray\b/.test(type)) return 'xa_lock';
  return undefined;
}

export class FunctionBuilder {
  private readonly blocks: Block[] = [];
  private cur: number | null;
  private readonly exit: number;
  private readonly scopes: Scope[] = [];
  private readonly loops: LoopTargets[] = [];
  private readonly labels = new Map<string, number>();
  private readonly labelDepth = new Map<string, number>();
  private readonly labelEnv = new Map<string, Set<string>>();
  /** The first goto to each label, and the labels the body defines: a goto to no label is broken C, said in the coverage. */
  private readonly firstGoto = new Map<string, SyntaxNode>();
  private readonly placedLabels = new Set<string>();
  /** Locals known to hold an error on the current path. */
  private env = new Set<string>();
  private readonly vars = new Map<string, VarInfo>();
  /** Local pointers initialised with the address of a lock (`struct mutex *m = &x->lock`). */
  private readonly lockAliases = new Map<string, LockRef>();
  private readonly callSites = new Map<string, EventLoc>();
  private readonly eventsByNode = new Map<number, EventLoc>();
  private readonly readVars = new Set<string>();
  /** Locals assigned a function's name (`func = vfio_pci_set_intx_trigger;`): the functions a call through them reaches. */
  private readonly fnPointers = new Map<string, Set<string>>();
  private readonly types: Record<string, string> = {};
  /** Lock class sites (init calls) seen in the body. */
  private readonly lockInits: { lock: string; line: number }[] = [];
  /** Locals set to the address of a member of another local (`hwpt = &hwpt_paging->common`). */
  private readonly memberAliases: { name: string; of: string; line: number }[] = [];
  private readonly params: string[] = [];
  private partialReason: string | undefined;
  /** The expression whose operands are being walked (for the text of use events). */
  private exprParent: SyntaxNode | undefined;
  /** Inside `READ_ONCE()` & co: field accesses are marked (lockless by intent). */
  private markedDepth = 0;
  /** Inside `sizeof`/`offsetof`: nothing is accessed. */
  private unevaluatedDepth = 0;

  constructor(private readonly ctx: FileContext) {
    this.cur = this.newBlock();
    this.exit = this.newBlock();
  }

  build(def: SyntaxNode, name: string, declarator: SyntaxNode): FunctionModel {
    this.readParameters(declarator);
    const body = def.childForFieldName('body') ?? kids(def).find((c) => nodeType(c) === 'compound_statement');
    if (body) {
      const err = firstError(body, isAllowedMissing);
      if (err) this.partial(err, err.isMissing ? `a missing \`${err.type}\`` : 'syntax the parser could not read');
      // Label depths only matter to gotos.
      if (body.text.indexOf('goto') >= 0) this.prescanLabels(body, 0);
      this.walkStatement(body);
      if (this.cur !== null) {
        // Falling off the end is a `return;`.
        const end = body.endPosition;
        this.emit({ kind: 'return', line: end.row + 1, column: end.column + 1, value: '', isError: false });
        this.link(this.cur, this.exit);
      }
      for (const [label, site] of this.firstGoto)
        if (!this.placedLabels.has(label))
          this.partial(site, `a goto to \`${label}\`, a label the function does not define,`);
    }
    const mustHold = this.mustHold(def, body);
    const acquires = this.annotated(def, body, '__acquires');
    const releases = this.annotated(def, body, '__releases');
    return {
      name,
      file: this.ctx.file,
      line: line(def),
      endLine: def.endPosition.row + 1,
      types: this.types,
      blocks: this.blocks,
      entry: 0,
      exit: this.exit,
      mustHold,
      ...(acquires.length > 0 ? { acquires } : {}),
      ...(releases.length > 0 ? { releases } : {}),
      ...(this.lockInits.length > 0 ? { lockInits: this.lockInits } : {}),
      ...(this.memberAliases.length > 0 ? { memberAliases: this.memberAliases } : {}),
      params: this.params,
      status: this.partialReason ? 'partial' : 'parsed',
      ...(this.partialReason ? { reason: this.partialReason } : {}),
    };
  }

  // ---- blocks and edges -------------------------------------------------

  private newBlock(label?: string): number {
    const id = this.blocks.length;
    this.blocks.push(label ? { id, events: [], succ: [], label } : { id, events: [], succ: [] });
    return id;
  }

  private link(from: number, to: number, when?: EdgeCondition): void {
    this.blocks[from].succ.push(when ? { to, when } : { to });
  }

  /** The current block; code after a return/goto gets a fresh unreachable block. */
  private here(): number {
    if (this.cur === null) this.cur = this.newBlock();
    return this.cur;
  }

  private emit(ev: Event): EventLoc {
    const block = this.here();
    const index = this.blocks[block].events.push(ev) - 1;
    return { block, index };
  }

  private partial(at: SyntaxNode, what: string): void {
    if (!this.partialReason) this.partialReason = `${what} at line ${line(at)}; the statements there were not modelled`;
  }

  // ---- declarations and types -------------------------------------------

  private declare(typeNode: SyntaxNode | null, declarator: SyntaxNode | null): string | undefined {
    const named = declaredName(declarator);
    if (!named) return undefined;
    const struct = structOfTypeNode(typeNode);
    const scalar =
      typeNode !== null &&
      (nodeType(typeNode) === 'primitive_type' ||
        nodeType(typeNode) === 'sized_type_specifier' ||
        (nodeType(typeNode) === 'type_identifier' && /^(?:u|s)(?:8|16|32|64)$|_t$|^bool$/.test(typeNode.text)));
    const isBool = typeNode?.text === 'bool' && !named.pointer;
    const info: VarInfo = {
      pointer: named.pointer,
      int: scalar && !named.pointer && !isBool,
      ...(isBool ? { bool: true } : {}),
    };
    if (struct && !scalar) {
      info.struct = struct;
      this.types[named.name] = struct;
    }
    this.vars.set(named.name, info);
    return named.name;
  }

  private readParameters(declarator: SyntaxNode): void {
    let fd: SyntaxNode | null = declarator;
    while (fd && fd.type !== 'function_declarator') fd = fd.childForFieldName('declarator');
    const params = fd?.childForFieldName('parameters');
    if (!params) return;
    for (const p of namedKids(params)) {
      if (p.type !== 'parameter_declaration') continue;
      const name = this.declare(p.childForFieldName('type'), p.childForFieldName('declarator'));
      this.params.push(name ?? '');
    }
  }

  /** The struct type of an expression, when the declarations in view say it. */
  typeOf(n: SyntaxNode | null): string | undefined {
    if (!n) return undefined;
    switch (nodeType(n)) {
      case 'identifier': {
        const name = n.text;
        const known = (this.vars.get(name) ?? this.ctx.globals.get(name))?.struct;
        // Declared in another file in view (an extern in a header).
        return known ?? structOfTypeText(this.ctx.structs['<globals>']?.[name]);
      }
      case 'field_expression': {
        const base = this.typeOf(n.childForFieldName('argument'));
        const field = n.childForFieldName('field')?.text;
        if (!base || !field) return undefined;
        return structOfTypeText(this.ctx.structs[base]?.[field]);
      }
      case 'pointer_expression':
      case 'subscript_expression':
        return this.typeOf(n.childForFieldName('argument'));
      case 'parenthesized_expression':
        return this.typeOf(n.namedChild(0));
      case 'cast_expression':
        return structOfTypeText(n.childForFieldName('type')?.text);
      case 'conditional_expression':
        return this.typeOf(n.childForFieldName('consequence'));
      case 'call_expression': {
        const fn = n.childForFieldName('function');
        const args = n.childForFieldName('arguments');
        if (!fn || nodeType(fn) !== 'identifier') return undefined;
        // container_of(ptr, struct foo, member), list_first_entry(head, struct foo, member) & co.
        if (
          /^(?:container_of|container_of_const|rb_entry|hlist_entry|list_(?:first_|last_|next_|prev_)?entry(?:_or_null)?)$/.test(
            fn.text,
          ) &&
          args
        ) {
          return structOfTypeText(splitArguments(args.text)[1]);
        }
        return this.ctx.returns.get(fn.text);
      }
      default:
        return undefined;
    }
  }

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
  private mustHold(def: SyntaxNode, body: SyntaxNode | null | undefined): LockRef[] {
    return this.annotated(def, body, '__must_hold');
  }

  /** The locks a sparse context annotation (`__must_hold`, `__acquires`, `__releases`) of the definition names. */
  private annotated(def: SyntaxNode, body: SyntaxNode | null | undefined, annotation: string): LockRef[] {
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
  private lockRefFromText(text: string): LockRef {
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

  // ---- labels ------------------------------------------------------------

  /** How many scopes are open at each label (goto releases the guards of deeper scopes). */
  private prescanLabels(n: SyntaxNode, depth: number): void {
    if (nodeType(n) === 'compound_statement') {
      const inner = depth + 1;
      for (const item of pairMacroBlocks(namedKids(n))) {
        if (item.body) this.prescanLabels(item.body, item.macro && isScopedGuardMacro(item.macro) ? inner + 1 : inner);
        else this.prescanInner(item.stmt, inner);
      }
      return;
    }
    this.prescanInner(n, depth);
  }

  private prescanInner(n: SyntaxNode, depth: number): void {
    // No colon, no label inside (case labels are not goto targets, but cheap to pass over).
    if (n.text.indexOf(':') < 0) return;
    if (nodeType(n) === 'labeled_statement') {
      const label = n.childForFieldName('label')?.text;
      if (label && !this.labelDepth.has(label)) this.labelDepth.set(label, depth);
    }
    if (!n.hasError && !/statement|else_clause|case/.test(nodeType(n))) return;
    for (const c of namedKids(n)) this.prescanLabels(c, depth);
  }

  private labelBlock(name: string): number {
    let b = this.labels.get(name);
    if (b === undefined) {
      b = this.newBlock(name);
      this.labels.set(name, b);
    }
    return b;
  }

  // ---- scopes and guards -------------------------------------------------

  /** Implicit releases of every guard in scopes at index >= depth, innermost first. */
  private releaseGuards(depth: number, at: SyntaxNode | { line: number; column: number }): void {
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

  private withScope(fn: () => void, endAt: SyntaxNode, guard?: GuardHold): void {
    this.scopes.push({ guards: guard ? [guard] : [] });
    fn();
    // The scope's end: guards release here when control falls out of it.
    this.releaseGuards(this.scopes.length - 1, { line: endAt.endPosition.row + 1, column: endAt.endPosition.column });
    this.scopes.pop();
  }

  // ---- statements --------------------------------------------------------

  private walkStatements(children: SyntaxNode[]): void {
    for (const item of pairMacroBlocks(children)) {
      if (item.body && item.macro) this.walkMacroBlock(item.stmt, item.macro, item.body);
      else this.walkStatement(item.stmt);
    }
  }

  walkStatement(n: SyntaxNode): void {
    switch (nodeType(n)) {
      case 'compound_statement':
        this.withScope(() => this.walkStatements(namedKids(n)), n);
        return;
      case 'declaration':
        this.walkDeclaration(n);
        return;
      case 'expression_statement': {
        const e = n.namedChild(0);
        if (e) this.walkExpr(e);
        return;
      }
      case 'if_statement':
        this.walkIf(n);
        return;
      case 'switch_statement':
        this.walkSwitch(n);
        return;
      case 'while_statement':
        this.walkWhile(n);
        return;
      case 'for_statement':
        this.walkFor(n);
        return;
      case 'do_statement':
        this.walkDo(n);
        return;
      case 'return_statement':
        this.walkReturn(n);
        return;
      case 'goto_statement':
        this.walkGoto(n);
        return;
      case 'labeled_statement':
        this.walkLabeled(n);
        return;
      case 'break_statement': {
        const loop = this.loops[this.loops.length - 1];
        if (!loop) return;
        this.releaseGuards(loop.scopeDepth, n);
        this.link(this.here(), loop.breakTo);
        this.cur = null;
        return;
      }
      case 'continue_statement': {
        const loop = [...this.loops].reverse().find((l) => l.continueTo !== undefined);
        if (!loop || loop.continueTo === undefined) return;
        this.releaseGuards(loop.scopeDepth, n);
        this.link(this.here(), loop.continueTo);
        this.cur = null;
        return;
      }
      case 'comment':
      case 'type_definition':
      case 'struct_specifier':
      case 'enum_specifier':
      case 'union_specifier':
        return;
      case 'preproc_if':
      case 'preproc_ifdef':
      case 'preproc_else':
      case 'preproc_elif':
      case 'preproc_elifdef':
        // Both sides of an #if are walked in sequence: the model sees every call either may make.
        this.walkStatements(
          namedKids(n).filter((c) => isStatement(c) || nodeType(c).startsWith('preproc_') || nodeType(c) === 'ERROR'),
        );
        return;
      case 'ERROR':
        if (isBenignError(n)) return;
        this.partial(n, 'syntax the parser could not read');
        this.walkStatements(namedKids(n).filter((c) => isStatement(c)));
        return;
      default:
        if (nodeType(n).startsWith('preproc_')) return;
        this.walkExpr(n);
    }
  }

  private walkMacroBlock(head: SyntaxNode, name: string, body: SyntaxNode): void {
    const call = head.namedChild(0)!;
    const args = namedKids(call.childForFieldName('arguments') ?? call);
    if (isScopedGuardMacro(name)) {
      const cls = guardClass(args[0]?.text ?? '');
      const lockArg = args[name === 'scoped_cond_guard' ? 2 : 1] ?? null;
      if (!cls || !lockArg) {
        this.walkStatement(body);
        return;
      }
      const lock = this.lockRef(lockArg, cls.kind);
      this.emit({
        kind: 'acquire',
        lock,
        mode: cls.mode,
        trylock: false,
        nested: false,
        scope: 'scoped_guard',
        api: `scoped_guard(${args[0].text})`,
        line: line(head),
        column: column(head),
      });
      this.withScope(() => this.walkStatement(body), body, { lock, mode: cls.mode });
      return;
    }
    // An iterator macro: the block runs zero or more times.
    this.walkArgs(call, args);
    const headBlock = this.newBlock();
    this.link(this.here(), headBlock);
    const after = this.newBlock();
    const start = this.newBlock();
    this.link(headBlock, start);
    this.link(headBlock, after);
    this.loops.push({ breakTo: after, continueTo: headBlock, scopeDepth: this.scopes.length });
    this.cur = start;
    this.walkStatement(body);
    if (this.cur !== null) this.link(this.cur, headBlock);
    this.loops.pop();
    this.cur = after;
  }

  private walkDeclaration(n: SyntaxNode): void {
    const type = n.childForFieldName('type');
    for (const d of namedKids(n)) {
      if (
        sameNode(d, type) ||
        nodeType(d) === 'storage_class_specifier' ||
        nodeType(d) === 'type_qualifier' ||
        nodeType(d) === 'attribute_specifier' ||
        nodeType(d) === 'comment'
      )
        continue;
      if (nodeType(d) === 'init_declarator') {
        const value = d.childForFieldName('value');
        // The initialiser runs before the name is in scope for our purposes.
        const name = this.declare(type, d.childForFieldName('declarator'));
        if (value && name) this.assignLocal(name, value, n);
        else if (value) this.walkExpr(value);
      } else {
        this.declare(type, d);
      }
    }
  }

  private walkIf(n: SyntaxNode): void {
    const cond = n.childForFieldName('condition');
    if (cond) this.walkExpr(cond);
    const head = this.here();
    const cls = cond ? this.classify(cond, head) : {};
    const saved = this.env;
    const consequence = n.childForFieldName('consequence');
    let alternative = n.childForFieldName('alternative');
    if (alternative?.type === 'else_clause') alternative = alternative.namedChild(0);

    const thenBlock = this.newBlock();
    this.blocks[thenBlock].branchLine = line(n);
    this.link(head, thenBlock, cls.whenTrue);
    this.cur = thenBlock;
    this.env = withVar(saved, cls.errorTrue);
    if (consequence) this.walkStatement(consequence);
    const ends: Array<{ block: number; env: Set<string> }> = [];
    if (this.cur !== null) ends.push({ block: this.cur, env: this.env });

    if (alternative) {
      const elseBlock = this.newBlock();
      this.blocks[elseBlock].branchLine = line(n);
      this.link(head, elseBlock, cls.whenFalse);
      this.cur = elseBlock;
      this.env = withVar(saved, cls.errorFalse);
      this.walkStatement(alternative);
      if (this.cur !== null) ends.push({ block: this.cur, env: this.env });
    }
    const join = this.newBlock();
    if (!alternative) {
      this.link(head, join, cls.whenFalse);
      ends.push({ block: -1, env: withVar(saved, cls.errorFalse) });
    }
    for (const e of ends) if (e.block >= 0) this.link(e.block, join);
    this.cur = ends.length > 0 ? join : null;
    this.env = ends.length > 0 ? intersect(ends.map((e) => e.env)) : new Set();
  }

  private walkSwitch(n: SyntaxNode): void {
    const cond = n.childForFieldName('condition');
    if (cond) this.walkExpr(cond);
    const head = this.here();
    const after = this.newBlock();
    const body = n.childForFieldName('body');
    let hasDefault = false;
    this.loops.push({ breakTo: after, continueTo: undefined, scopeDepth: this.scopes.length });
    this.scopes.push({ guards: [] });
    this.cur = null;
    const saved = this.env;
    for (const c of body ? namedKids(body) : []) {
      if (nodeType(c) !== 'case_statement') {
        if (this.cur !== null) this.walkStatement(c);
        continue;
      }
      const value = c.childForFieldName('value');
      if (!value) hasDefault = true;
      const caseBlock = this.newBlock();
      this.link(head, caseBlock);
      if (this.cur !== null) this.link(this.cur, caseBlock);
      this.cur = caseBlock;
      this.env = new Set(saved);
      this.walkStatements(namedKids(c).filter((s) => !sameNode(s, value)));
    }
    this.scopes.pop();
    this.loops.pop();
    if (this.cur !== null) this.link(this.cur, after);
    if (!hasDefault) this.link(head, after);
    this.cur = after;
    this.env = new Set();
  }

  private loopBody(body: SyntaxNode | null, headBlock: number, after: number, continueTo: number): void {
    this.loops.push({ breakTo: after, continueTo, scopeDepth: this.scopes.length });
    if (body) this.walkStatement(body);
    this.loops.pop();
    if (this.cur !== null) this.link(this.cur, headBlock === continueTo ? headBlock : continueTo);
  }

  private walkWhile(n: SyntaxNode): void {
    const head = this.newBlock();
    this.link(this.here(), head);
    this.cur = head;
    const cond = n.childForFieldName('condition');
    // An iterator macro renamed to `while` before parsing (parse/loop-macros.ts).
    const macro = cond ? loopMacroAt(this.ctx.original, n.startIndex) : undefined;
    if (macro && cond) this.walkIteratorHead(macro, cond);
    else if (cond) this.walkExpr(cond);
    const condEnd = this.here();
    const after = this.newBlock();
    const start = this.newBlock();
    this.link(condEnd, start);
    if (macro || !isAlwaysTrue(cond)) this.link(condEnd, after);
    this.cur = start;
    this.loopBody(n.childForFieldName('body'), head, after, head);
    this.cur = after;
    this.env = new Set();
  }

  /**
   * The head of an iterator macro, evaluated before every iteration: its
   * arguments are used, and a call event with the macro's name records that
   * it moves its cursor arguments (the checks read which ones from the
   * knowledge: `list_for_each_entry(pos, ...)`, `xa_for_each(xa, index, entry)`).
   */
  private walkIteratorHead(macro: string, cond: SyntaxNode): void {
    let inner = unparen(cond);
    const args: SyntaxNode[] = [];
    while (nodeType(inner) === 'comma_expression') {
      const left = inner.childForFieldName('left');
      if (left) args.push(left);
      inner = inner.childForFieldName('right') ?? inner;
      if (!left) break;
    }
    args.push(inner);
    this.walkArgs(cond, args);
    const at = cond.parent ?? cond;
    this.emit({
      kind: 'call',
      callee: macro,
      args: splitArguments(cond.text),
      text: clip(`${macro}${cond.text}`),
      line: line(at),
      column: column(at),
    });
  }

  private walkFor(n: SyntaxNode): void {
    const init = n.childForFieldName('initializer');
    if (init) {
      if (init.type === 'declaration') this.walkDeclaration(init);
      else this.walkExpr(init);
    }
    const head = this.newBlock();
    this.link(this.here(), head);
    this.cur = head;
    const cond = n.childForFieldName('condition');
    if (cond) this.walkExpr(cond);
    const condEnd = this.here();
    const after = this.newBlock();
    const start = this.newBlock();
    const update = this.newBlock();
    this.link(condEnd, start);
    if (cond && !isAlwaysTrue(cond)) this.link(condEnd, after);
    this.cur = start;
    this.loopBody(n.childForFieldName('body'), head, after, update);
    this.cur = update;
    const upd = n.childForFieldName('update');
    if (upd) this.walkExpr(upd);
    this.link(this.here(), head);
    this.cur = after;
    this.env = new Set();
  }

  private walkDo(n: SyntaxNode): void {
    const start = this.newBlock();
    this.link(this.here(), start);
    const condBlock = this.newBlock();
    const after = this.newBlock();
    this.cur = start;
    this.loopBody(n.childForFieldName('body'), condBlock, after, condBlock);
    this.cur = condBlock;
    const cond = n.childForFieldName('condition');
    if (cond) this.walkExpr(cond);
    const end = this.here();
    // do { } while (0) is a block, not a loop.
    if (!(cond && /^\(?\s*0\s*\)?$/.test(cond.text))) this.link(end, start);
    this.link(end, after);
    this.cur = after;
  }

  private walkReturn(n: SyntaxNode): void {
    const value = n.namedChild(0);
    if (value) this.walkExpr(value);
    this.releaseGuards(0, n);
    this.emit({
      kind: 'return',
      line: line(n),
      column: column(n),
      value: value ? clip(value.text) : '',
      isError: value ? this.isErrorValue(value) : false,
    });
    this.link(this.here(), this.exit);
    this.cur = null;
  }

  private walkGoto(n: SyntaxNode): void {
    const label = n.childForFieldName('label')?.text;
    if (!label) return;
    if (!this.firstGoto.has(label)) this.firstGoto.set(label, n);
    this.releaseGuards(this.labelDepth.get(label) ?? 1, n);
    const from = this.here();
    this.blocks[from].gotoLine = line(n);
    this.link(from, this.labelBlock(label));
    const prev = this.labelEnv.get(label);
    this.labelEnv.set(label, prev ? intersect([prev, this.env]) : new Set(this.env));
    this.cur = null;
  }

  private walkLabeled(n: SyntaxNode): void {
    const label = n.childForFieldName('label')?.text;
    if (label) {
      this.placedLabels.add(label);
      const block = this.labelBlock(label);
      const envs: Set<string>[] = [];
      if (this.cur !== null) {
        this.link(this.cur, block);
        envs.push(this.env);
      }
      const fromGotos = this.labelEnv.get(label);
      if (fromGotos) envs.push(fromGotos);
      this.env = envs.length > 0 ? intersect(envs) : new Set();
      this.cur = block;
    }
    const inner = namedKids(n).filter((c) => nodeType(c) !== 'statement_identifier');
    this.walkStatements(inner);
  }

  // ---- expressions -------------------------------------------------------

  private walkExpr(n: SyntaxNode, resultVar?: string): void {
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

  private walkAssignment(n: SyntaxNode): void {
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

  /** `name = value` (assignment or initialiser): result ties, reads, error state, lock aliases. */
  private assignLocal(name: string, value: SyntaxNode, at: SyntaxNode): void {
    this.callSites.delete(name);
    const v = stripWrappers(value);
    if (nodeType(v) === 'call_expression') this.walkExpr(value, name);
    else this.walkExpr(value);
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
        if (base && nodeType(base) === 'identifier' && base.text !== name)
          this.memberAliases.push({ name, of: base.text, line: line(at) });
      }
    }
    if (this.isErrorValue(value)) this.env.add(name);
    else this.env.delete(name);
  }

  private emitWrite(target: SyntaxNode, value: string, at: SyntaxNode, marked = false): void {
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

  private walkCall(n: SyntaxNode, resultVar?: string): void {
    const fn = unparen(n.childForFieldName('function') ?? n);
    const argList = n.childForFieldName('arguments');
    const args = argList
      ? namedKids(argList).filter((a) => a.type !== 'comment' && !(a.type === 'ERROR' && isBenignError(a)))
      : [];
    const argTexts = argList ? splitArguments(argList.text) : [];

    // guard(mutex)(&x): the inner call names the class, the outer one the lock.
    if (nodeType(fn) === 'call_expression') {
      const inner = fn.childForFieldName('function');
      if (inner?.type === 'identifier' && inner.text === 'guard') {
        const clsName = fn.childForFieldName('arguments')?.namedChild(0)?.text ?? '';
        const cls = guardClass(clsName);
        if (cls && args[0]) {
          const lock = this.lockRef(args[0], cls.kind);
          this.emit({
            kind: 'acquire',
            lock,
            mode: cls.mode,
            trylock: false,
            nested: false,
            scope: 'guard',
            api: `guard(${clsName})`,
            line: line(n),
            column: column(n),
          });
          this.scopes[this.scopes.length - 1]?.guards.push({ lock, mode: cls.mode });
        }
        return;
      }
    }

    if (nodeType(fn) === 'identifier') {
      const name = fn.text;
      const api = lockApi(name);
      if (api) {
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
        return;
      }
      // `WRITE_ONCE(x->f, v)`, `smp_store_release(&x->f, v)`, `rcu_assign_pointer(x->f, v)`:
      // a store to a shared field, modelled as the write `x->f = v` is.
      if (STORE_MACROS.has(name) && args.length === 2) {
        const target = storeTarget(args[0]!);
        if (target) {
          this.walkExpr(args[1]!);
          const base = target.childForFieldName('argument');
          if (base) this.walkExpr(base);
          this.emitWrite(target, args[1]!.text, n, true);
          return;
        }
      }
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
      const initKind = LOCK_CLASS_SITES.get(name);
      if (initKind && args[0]) {
        const lock = this.lockRef(args[0], initKind);
        if (lock.resolved) this.lockInits.push({ lock: lock.id, line: line(n) });
      }
      if (!marked) this.walkArgs(n, args);
      const addressed = this.addressedFields(args);
      const targets = this.fnPointers.get(name);
      const loc = this.emit({
        kind: 'call',
        callee: name,
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
    this.emit({
      kind: 'call',
      callee: squash(fn.text),
      args: argTexts,
      ...(resultVar ? { resultVar } : {}),
      text: clip(n.text),
      line: line(n),
      column: column(n),
    });
  }

  /**
   * Records a field access reached through a pointer (the chain has a `->`),
   * at the current point of the current block; fields of stack objects
   * (`cfg.len`) are not shared and are left out.
   */
  private recordAccess(n: SyntaxNode, kind: 'read' | 'write', resolved?: string, marked = false): void {
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
  private addressedFields(args: SyntaxNode[]): Record<number, string> | undefined {
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

  /** Could walking `n` emit anything? Only calls, assignments, updates and uses of tracked locals do. */
  private mayHaveEvents(n: SyntaxNode): boolean {
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
  private walkArgs(call: SyntaxNode, args: SyntaxNode[]): void {
    const saved = this.exprParent;
    this.exprParent = call;
    for (const a of args) this.walkExpr(a);
    this.exprParent = saved;
  }

  // ---- conditions and error values ----------------------------------------

  /** Is this returned/assigned value an errno on this path? */
  private isErrorValue(v: SyntaxNode): boolean {
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
  private classify(
    cond: SyntaxNode,
    head: number,
  ): { whenTrue?: EdgeCondition; whenFalse?: EdgeCondition; errorTrue?: string; errorFalse?: string } {
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
    const out: { whenTrue?: EdgeCondition; whenFalse?: EdgeCondition; errorTrue?: string; errorFalse?: string } = {};
    if (loc && loc.block === head) {
      out.whenTrue = { on: onTrue, event: loc.index };
      out.whenFalse = { on: flip[onTrue], event: loc.index };
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
  private returnsBool(call: SyntaxNode): boolean {
    const fn = call.childForFieldName('function');
    if (!fn || nodeType(fn) !== 'identifier') return false;
    return (
      this.ctx.structs['<bool-functions>']?.[fn.text] !== undefined ||
      /^(?:IS_ENABLED|list_empty|refcount_dec_and_test|refcount_inc_not_zero|kref_get_unless_zero|mutex_is_locked|check_(?:add|sub|mul)_overflow|try_module_get|(?:is|has|can)_\w+)$/.test(
        fn.text,
      )
    );
  }

  private returnsPointer(call: SyntaxNode): boolean {
    const fn = call.childForFieldName('function');
    return Boolean(
      fn &&
      nodeType(fn) === 'identifier' &&
      (this.ctx.returns.has(fn.text) ||
        /^(?:k[mvz]?alloc|kzalloc|kcalloc|kmalloc_array|kvzalloc|kvcalloc|kmemdup|vzalloc|vmalloc)$/.test(fn.text)),
    );
  }
}

/** The argument texts of `(a, f(b, c), d)`, split at top-level commas. */
export function splitArguments(text: string): string[] {
  const inner = text.replace(/^\s*\(/, '').replace(/\)\s*$/, '');
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c === '"' || c === "'") {
      // Skip a string or character literal (commas inside do not split).
      for (i++; i < inner.length && inner[i] !== c; i++) if (inner[i] === '\\') i++;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(clip(inner.slice(start, i)));
      start = i + 1;
    }
  }
  const last = inner.slice(start);
  if (out.length > 0 || last.trim() !== '') out.push(clip(last));
  return out;
}

function withVar(env: Set<string>, v: string | undefined): Set<string> {
  const out = new Set(env);
  if (v) out.add(v);
  return out;
}

function intersect(sets: Set<string>[]): Set<string> {
  const [first, ...rest] = sets;
  const out = new Set<string>();
  for (const v of first) if (rest.every((s) => s.has(v))) out.add(v);
  return out;
}

function isAlwaysTrue(cond: SyntaxNode | null): boolean {
  return Boolean(cond && /^\(?\s*(?:1|true)\s*\)?$/.test(cond.text));
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
const MARKED_ACCESS =
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
function stripWrappers(n: SyntaxNode): SyntaxNode {
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
