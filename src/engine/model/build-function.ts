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
import type { SyntaxNode } from '../parse/syntax';
import { CallEvents } from './call-events';
import { isAllowedMissing } from './statement-shapes';
import { kids, line, firstError, nodeType } from './syntax-util';
import type { FunctionModel } from './types';

/**
 * The builder's concerns are layered, each in its own module (function-state
 * → lock-events → conditions → control-flow → data-events → call-events);
 * this class only runs them over one definition and collects the model.
 */
export class FunctionBuilder extends CallEvents {
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
}
