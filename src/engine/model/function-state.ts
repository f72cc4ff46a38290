/**
 * The state a function builder shares across its concerns, and the parts
 * every concern uses: the CFG under construction (blocks, edges, the current
 * block, emitting an event into it), the declared locals and parameters and
 * the struct type of an expression. The concerns build on it in one line:
 * lock events (lock-events.ts), edge conditions (conditions.ts), control
 * flow (control-flow.ts), data events (data-events.ts), expressions and
 * calls (call-events.ts); build-function.ts puts them together.
 */
import type { SyntaxNode } from '../parse/syntax';
import { splitArguments } from './event-text';
import type { LockApi } from './lock-apis';
import type { StructTable } from './structs';
import { declaredName, line, namedKids, nodeType, structOfTypeNode, structOfTypeText } from './syntax-util';
import type { Block, CallEvent, Edge, EdgeCondition, Event, LockMode, LockRef } from './types';

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
  /**
   * File-scope arrays initialised with function names (`handlers[] = {
   * [OP_READ] = &rx_read, ... }`): name → the names, for calls through an
   * element (`handlers[op](pkt)`).
   */
  tables?: Map<string, string[]>;
  /** Functions of this file that return an element of such a table (`return handlers[op];`): name → table. */
  tableGetters?: Map<string, string>;
}

export interface GuardHold {
  lock: LockRef;
  mode: LockMode;
}

export interface Scope {
  guards: GuardHold[];
}

export interface LoopTargets {
  breakTo: number;
  continueTo?: number;
  scopeDepth: number;
}

export interface EventLoc {
  block: number;
  index: number;
  api?: LockApi;
}

export abstract class FunctionState {
  protected readonly blocks: Block[] = [];
  protected cur: number | null;
  protected readonly exit: number;
  protected readonly vars = new Map<string, VarInfo>();
  protected readonly types: Record<string, string> = {};
  protected readonly params: string[] = [];
  protected partialReason: string | undefined;
  /** Every call event in emission order: an `if` reads the calls each branch made (model/deferred-work.ts). */
  protected readonly callLog: CallEvent[] = [];

  constructor(protected readonly ctx: FileContext) {
    this.cur = this.newBlock();
    this.exit = this.newBlock();
  }

  // ---- blocks and edges -------------------------------------------------

  protected newBlock(label?: string): number {
    const id = this.blocks.length;
    this.blocks.push(label ? { id, events: [], succ: [], label } : { id, events: [], succ: [] });
    return id;
  }

  protected link(from: number, to: number, when?: EdgeCondition, failed?: Edge['failed']): void {
    const edge: Edge = when ? { to, when } : { to };
    if (failed) edge.failed = failed;
    this.blocks[from].succ.push(edge);
  }

  /** The current block; code after a return/goto gets a fresh unreachable block. */
  protected here(): number {
    if (this.cur === null) this.cur = this.newBlock();
    return this.cur;
  }

  protected emit(ev: Event): EventLoc {
    if (ev.kind === 'call') this.callLog.push(ev);
    const block = this.here();
    const index = this.blocks[block].events.push(ev) - 1;
    return { block, index };
  }

  protected partial(at: SyntaxNode, what: string): void {
    if (!this.partialReason) this.partialReason = `${what} at line ${line(at)}; the statements there were not modelled`;
  }

  // ---- declarations and types -------------------------------------------

  protected declare(typeNode: SyntaxNode | null, declarator: SyntaxNode | null): string | undefined {
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

  protected readParameters(declarator: SyntaxNode): void {
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
}
