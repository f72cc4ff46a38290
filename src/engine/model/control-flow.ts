/**
 * Control flow of the function builder: statements to basic blocks and
 * edges. Blocks and scopes, if/else with conditioned edges, switch, loops
 * (and iterator macros, read as loops over their block), return, goto to
 * labels (releasing the guards of the scopes it leaves), `scoped_guard()`
 * blocks, and both sides of an `#if`. Expressions are the next layer's
 * (call-events.ts, data-events.ts).
 */
import { loopMacroAt } from '../parse/loop-macros';
import type { SyntaxNode } from '../parse/syntax';
import { Conditions, NO_ERRORS } from './conditions';
import { markInlineRuns } from './deferred-work';
import { clip, splitArguments } from './event-text';
import type { LoopTargets } from './function-state';
import { guardClass, isScopedGuardMacro } from './lock-apis';
import { isBenignError, isStatement, pairMacroBlocks } from './statement-shapes';
import { column, line, namedKids, nodeType, sameNode, unparen } from './syntax-util';

export abstract class ControlFlow extends Conditions {
  protected readonly loops: LoopTargets[] = [];
  protected readonly labels = new Map<string, number>();
  protected readonly labelDepth = new Map<string, number>();
  protected readonly labelEnv = new Map<string, ReadonlySet<string>>();
  /** The first goto to each label, and the labels the body defines: a goto to no label is broken C, said in the coverage. */
  protected readonly firstGoto = new Map<string, SyntaxNode>();
  protected readonly placedLabels = new Set<string>();

  /** Walks an expression, its value assigned to `resultVar` when given. */
  protected abstract walkExpr(n: SyntaxNode, resultVar?: string): void;
  /** Walks call arguments with the call as the context of any use inside them. */
  protected abstract walkArgs(call: SyntaxNode, args: readonly SyntaxNode[]): void;
  /** `name = value` (assignment or initialiser). */
  protected abstract assignLocal(name: string, value: SyntaxNode, at: SyntaxNode): void;

  // ---- labels ------------------------------------------------------------

  /** How many scopes are open at each label (goto releases the guards of deeper scopes). */
  protected prescanLabels(n: SyntaxNode, depth: number): void {
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

  protected prescanInner(n: SyntaxNode, depth: number): void {
    // No colon, no label inside (case labels are not goto targets, but cheap to pass over).
    if (n.text.indexOf(':') < 0) return;
    if (nodeType(n) === 'labeled_statement') {
      const label = n.childForFieldName('label')?.text;
      if (label && !this.labelDepth.has(label)) this.labelDepth.set(label, depth);
    }
    if (!n.hasError && !/statement|else_clause|case/.test(nodeType(n))) return;
    for (const c of namedKids(n)) this.prescanLabels(c, depth);
  }

  protected labelBlock(name: string): number {
    let b = this.labels.get(name);
    if (b === undefined) {
      b = this.newBlock(name);
      this.labels.set(name, b);
    }
    return b;
  }

  // ---- statements --------------------------------------------------------

  protected walkStatements(children: readonly SyntaxNode[]): void {
    // `if (sync) { handler(&w); return; }` then `queue_work(wq, &w);`: the rest of the block is the if's other branch.
    let exits: { thenStart: number; elseStart: number }[] | undefined;
    for (const item of pairMacroBlocks(children)) {
      if (item.body && item.macro) this.walkMacroBlock(item.stmt, item.macro, item.body);
      else this.walkStatement(item.stmt);
      // Only this block's own `if`: one nested deeper (a case, an if's bare branch) has another "rest".
      if (this.earlyExit?.at === item.stmt.startIndex) (exits ??= []).push(this.earlyExit);
      this.earlyExit = undefined;
    }
    for (const e of exits ?? []) markInlineRuns(this.callLog, e.thenStart, e.elseStart);
  }

  /** Set by an `if` without `else` whose branch ends in a `return`: the `if` and where its branch's calls start and end. */
  private earlyExit: { at: number; thenStart: number; elseStart: number } | undefined;

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

  protected walkMacroBlock(head: SyntaxNode, name: string, body: SyntaxNode): void {
    const call = head.namedChild(0)!;
    const args = namedKids(call.childForFieldName('arguments') ?? call);
    if (isScopedGuardMacro(name)) {
      const cls = guardClass(args[0]?.text ?? '');
      const lockArg = args[name === 'scoped_cond_guard' ? 2 : 1] ?? null;
      if (!cls || !lockArg) {
        this.walkStatement(body);
        return;
      }
      const hold = this.acquireGuard(head, lockArg, cls, 'scoped_guard', `scoped_guard(${args[0].text})`);
      this.withScope(() => this.walkStatement(body), body, hold);
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

  protected walkDeclaration(n: SyntaxNode): void {
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

  protected walkIf(n: SyntaxNode): void {
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
    this.link(head, thenBlock, cls.whenTrue, cls.failedTrue);
    this.cur = thenBlock;
    this.env = withVar(saved, cls.errorTrue);
    const thenStart = this.callLog.length;
    if (consequence) this.walkStatement(consequence);
    const ends: Array<{ block: number; env: ReadonlySet<string> }> = [];
    if (this.cur !== null) ends.push({ block: this.cur, env: this.env });

    if (alternative) {
      const elseStart = this.callLog.length;
      const elseBlock = this.newBlock();
      this.blocks[elseBlock].branchLine = line(n);
      this.link(head, elseBlock, cls.whenFalse, cls.failedFalse);
      this.cur = elseBlock;
      this.env = withVar(saved, cls.errorFalse);
      this.walkStatement(alternative);
      if (this.cur !== null) ends.push({ block: this.cur, env: this.env });
      markInlineRuns(this.callLog, thenStart, elseStart);
    } else if (ends.length === 0 && consequence && endsInReturn(consequence))
      this.earlyExit = { at: n.startIndex, thenStart, elseStart: this.callLog.length };
    const join = this.newBlock();
    if (!alternative) {
      this.link(head, join, cls.whenFalse, cls.failedFalse);
      ends.push({ block: -1, env: withVar(saved, cls.errorFalse) });
    }
    for (const e of ends) if (e.block >= 0) this.link(e.block, join);
    this.cur = ends.length > 0 ? join : null;
    this.env = ends.length > 0 ? intersect(ends.map((e) => e.env)) : NO_ERRORS;
  }

  protected walkSwitch(n: SyntaxNode): void {
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
      this.env = saved;
      this.walkStatements(namedKids(c).filter((s) => !sameNode(s, value)));
    }
    this.scopes.pop();
    this.loops.pop();
    if (this.cur !== null) this.link(this.cur, after);
    if (!hasDefault) this.link(head, after);
    this.cur = after;
    this.env = NO_ERRORS;
  }

  protected loopBody(body: SyntaxNode | null, headBlock: number, after: number, continueTo: number): void {
    this.loops.push({ breakTo: after, continueTo, scopeDepth: this.scopes.length });
    if (body) this.walkStatement(body);
    this.loops.pop();
    if (this.cur !== null) this.link(this.cur, headBlock === continueTo ? headBlock : continueTo);
  }

  protected walkWhile(n: SyntaxNode): void {
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
    this.env = NO_ERRORS;
  }

  /**
   * The head of an iterator macro, evaluated before every iteration: its
   * arguments are used, and a call event with the macro's name records that
   * it moves its cursor arguments (the checks read which ones from the
   * knowledge: `list_for_each_entry(pos, ...)`, `xa_for_each(xa, index, entry)`).
   */
  protected walkIteratorHead(macro: string, cond: SyntaxNode): void {
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

  protected walkFor(n: SyntaxNode): void {
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
    this.env = NO_ERRORS;
  }

  protected walkDo(n: SyntaxNode): void {
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

  protected walkReturn(n: SyntaxNode): void {
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

  protected walkGoto(n: SyntaxNode): void {
    const label = n.childForFieldName('label')?.text;
    if (!label) return;
    if (!this.firstGoto.has(label)) this.firstGoto.set(label, n);
    this.releaseGuards(this.labelDepth.get(label) ?? 1, n);
    const from = this.here();
    this.blocks[from].gotoLine = line(n);
    this.link(from, this.labelBlock(label));
    const prev = this.labelEnv.get(label);
    this.labelEnv.set(label, prev ? intersect([prev, this.env]) : this.env);
    this.cur = null;
  }

  protected walkLabeled(n: SyntaxNode): void {
    const label = n.childForFieldName('label')?.text;
    if (label) {
      this.placedLabels.add(label);
      const block = this.labelBlock(label);
      const envs: ReadonlySet<string>[] = [];
      if (this.cur !== null) {
        this.link(this.cur, block);
        envs.push(this.env);
      }
      const fromGotos = this.labelEnv.get(label);
      if (fromGotos) envs.push(fromGotos);
      this.env = envs.length > 0 ? intersect(envs) : NO_ERRORS;
      this.cur = block;
    }
    const inner = namedKids(n).filter((c) => nodeType(c) !== 'statement_identifier');
    this.walkStatements(inner);
  }
}

/** `env` and `v` (error sets are shared, never changed in place: see Conditions.env). */
function withVar(env: ReadonlySet<string>, v: string | undefined): ReadonlySet<string> {
  if (!v || env.has(v)) return env;
  const out = new Set(env);
  out.add(v);
  return out;
}

/** What every set holds; the first set itself when that is all of it. */
function intersect(sets: readonly ReadonlySet<string>[]): ReadonlySet<string> {
  const [first, ...rest] = sets;
  const out = new Set<string>();
  for (const v of first) if (rest.every((s) => s.has(v))) out.add(v);
  return out.size === first.size ? first : out;
}

function isAlwaysTrue(cond: SyntaxNode | null): boolean {
  return Boolean(cond && /^\(?\s*(?:1|true)\s*\)?$/.test(cond.text));
}

/** A branch whose last statement is a `return` (not a `goto`, whose label the rest of the block may hold). */
function endsInReturn(branch: SyntaxNode): boolean {
  if (nodeType(branch) === 'return_statement') return true;
  if (nodeType(branch) !== 'compound_statement') return false;
  const kids = namedKids(branch).filter((k) => nodeType(k) !== 'comment');
  return kids.length > 0 && nodeType(kids[kids.length - 1]) === 'return_statement';
}
