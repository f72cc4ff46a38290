/**
 * Syntax nodes over web-tree-sitter's wasm module, read straight from its heap.
 *
 * web-tree-sitter's own `Node` passes every node through a transfer buffer
 * in wasm memory with `setValue`/`getValue` (a string switch and a DataView
 * call per 32-bit word) and builds each node object with class-field
 * initialisers; the model reads hundreds of thousands of nodes per analysis,
 * so that glue cost as much as the wasm calls themselves. These nodes call
 * the same exported wasm functions with the same five-word node layout
 * (id, start index, start row, start column, context word), writing and
 * reading the transfer buffer through an Int32Array, and keep the parsed
 * string for `text`. Answers are those of web-tree-sitter's `Node` (same
 * functions, same arguments); only the JS around them is cheaper.
 *
 * Pinned to web-tree-sitter's binding ABI (package.json pins the version;
 * `test/unit/parse/wasm-nodes.test.ts` compares every property with the
 * library's own nodes on a kernel-style fixture, fresh, after an edit and
 * after wasm memory grows).
 */
import type { Language, Tree } from 'web-tree-sitter';
import { NODE_TYPE, type Point, type SyntaxNode, type SyntaxTree, type TextEdit } from './syntax';

/** The emscripten module's exports these nodes call (the object given to `Parser.init` becomes the module). */
export interface WasmModule {
  HEAP32: Int32Array;
  _ts_init(): number;
  _free(ptr: number): void;
  _ts_tree_root_node_wasm(tree: number): void;
  _ts_node_symbol_wasm(tree: number): number;
  _ts_node_is_named_wasm(tree: number): number;
  _ts_node_is_missing_wasm(tree: number): number;
  _ts_node_is_error_wasm(tree: number): number;
  _ts_node_has_error_wasm(tree: number): number;
  _ts_node_end_index_wasm(tree: number): number;
  _ts_node_end_point_wasm(tree: number): void;
  _ts_node_parent_wasm(tree: number): void;
  _ts_node_child_count_wasm(tree: number): number;
  _ts_node_named_child_count_wasm(tree: number): number;
  _ts_node_child_wasm(tree: number, index: number): void;
  _ts_node_named_child_wasm(tree: number, index: number): void;
  _ts_node_child_by_field_id_wasm(tree: number, field: number): void;
  _ts_node_children_wasm(tree: number): void;
  _ts_node_named_children_wasm(tree: number): void;
  _ts_node_to_string_wasm(tree: number): number;
  AsciiToString(ptr: number): string;
}

/** Words per node in the transfer buffer (web-tree-sitter's SIZE_OF_NODE / 4). */
const NODE_WORDS = 5;

/** True on the little-endian hosts Int32Array views of wasm memory need (wasm memory is little-endian). */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** What every node of one module shares: the module, its transfer buffer and the language's names. */
export class WasmNodeRuntime {
  /** Word index of the transfer buffer in HEAP32. */
  readonly buffer: number;
  private heap: Int32Array;
  readonly types: readonly string[];
  private readonly fieldIds = new Map<string, number>();

  constructor(
    readonly module: WasmModule,
    language: Language,
  ) {
    // ts_init only returns the address of the binding's static transfer buffer (and writes two version words into it).
    this.buffer = module._ts_init() >> 2;
    this.heap = module.HEAP32;
    this.types = language.types;
    language.fields.forEach((name, id) => {
      if (name !== null && !this.fieldIds.has(name)) this.fieldIds.set(name, id);
    });
  }

  /** The current HEAP32: growing wasm memory detaches the old view (its length drops to 0). */
  h(): Int32Array {
    if (this.heap.length === 0) this.heap = this.module.HEAP32;
    return this.heap;
  }

  fieldId(name: string): number {
    return this.fieldIds.get(name) ?? -1;
  }
}

/** A parsed tree: web-tree-sitter's tree (edited, reused and deleted as before) and the string it was parsed from. */
export class WasmTree implements SyntaxTree {
  readonly ptr: number;

  constructor(
    readonly rt: WasmNodeRuntime,
    readonly inner: Tree,
    readonly source: string,
  ) {
    this.ptr = (inner as unknown as { [0]: number })[0];
  }

  get rootNode(): SyntaxNode {
    this.rt.module._ts_tree_root_node_wasm(this.ptr);
    return readNode(this, this.rt.buffer)!;
  }

  edit(edit: TextEdit): void {
    this.inner.edit(edit);
  }
}

/** The node at word `at` of HEAP32 (web-tree-sitter's unmarshalNode), or null for the null node. */
function readNode(tree: WasmTree, at: number): WasmNode | null {
  const heap = tree.rt.h();
  const id = heap[at];
  if (id === 0) return null;
  return new WasmNode(tree, id, heap[at + 1], heap[at + 2], heap[at + 3], heap[at + 4]);
}

function readPoint(rt: WasmNodeRuntime): Point {
  const heap = rt.h();
  return { row: heap[rt.buffer] >>> 0, column: heap[rt.buffer + 1] >>> 0 };
}

/** The children the binding left in a malloc'd array (count and address in the transfer buffer), freed after reading. */
function readChildren(tree: WasmTree): WasmNode[] {
  const rt = tree.rt;
  const heap = rt.h();
  const count = heap[rt.buffer];
  const address = heap[rt.buffer + 1];
  const out = new Array<WasmNode>(count);
  if (count > 0) {
    let at = address >> 2;
    for (let i = 0; i < count; i++, at += NODE_WORDS) {
      out[i] = new WasmNode(tree, heap[at], heap[at + 1], heap[at + 2], heap[at + 3], heap[at + 4]);
    }
    rt.module._free(address);
  }
  return out;
}

export class WasmNode implements SyntaxNode {
  private children_: WasmNode[] | undefined = undefined;
  private namedChildren_: WasmNode[] | undefined = undefined;
  private startPosition_: Point | undefined = undefined;
  private endIndex_ = -1;
  /** nodeType's slot, declared so that every node keeps one shape (see NODE_TYPE). */
  [NODE_TYPE]: string | undefined = undefined;

  constructor(
    private readonly tree: WasmTree,
    private readonly id: number,
    readonly startIndex: number,
    private readonly row: number,
    private readonly column: number,
    private readonly other: number,
  ) {}

  /** Writes this node into the transfer buffer (web-tree-sitter's marshalNode) and returns the tree's address. */
  private put(): number {
    const rt = this.tree.rt;
    const heap = rt.h();
    const at = rt.buffer;
    heap[at] = this.id;
    heap[at + 1] = this.startIndex;
    heap[at + 2] = this.row;
    heap[at + 3] = this.column;
    heap[at + 4] = this.other;
    return this.tree.ptr;
  }

  private node(): WasmNode | null {
    return readNode(this.tree, this.tree.rt.buffer);
  }

  get type(): string {
    let t = this[NODE_TYPE];
    if (t === undefined) {
      t = this.tree.rt.types[this.tree.rt.module._ts_node_symbol_wasm(this.put())] || 'ERROR';
      this[NODE_TYPE] = t;
    }
    return t;
  }

  get text(): string {
    return this.tree.source.slice(this.startIndex, this.endIndex);
  }

  get isNamed(): boolean {
    return this.tree.rt.module._ts_node_is_named_wasm(this.put()) === 1;
  }

  get isMissing(): boolean {
    return this.tree.rt.module._ts_node_is_missing_wasm(this.put()) === 1;
  }

  get isError(): boolean {
    return this.tree.rt.module._ts_node_is_error_wasm(this.put()) === 1;
  }

  get hasError(): boolean {
    return this.tree.rt.module._ts_node_has_error_wasm(this.put()) === 1;
  }

  get endIndex(): number {
    if (this.endIndex_ < 0) this.endIndex_ = this.tree.rt.module._ts_node_end_index_wasm(this.put());
    return this.endIndex_;
  }

  get startPosition(): Point {
    if (!this.startPosition_) this.startPosition_ = { row: this.row, column: this.column };
    return this.startPosition_;
  }

  get endPosition(): Point {
    this.tree.rt.module._ts_node_end_point_wasm(this.put());
    return readPoint(this.tree.rt);
  }

  get parent(): SyntaxNode | null {
    this.tree.rt.module._ts_node_parent_wasm(this.put());
    return this.node();
  }

  get childCount(): number {
    return this.tree.rt.module._ts_node_child_count_wasm(this.put());
  }

  get namedChildCount(): number {
    return this.tree.rt.module._ts_node_named_child_count_wasm(this.put());
  }

  get children(): readonly SyntaxNode[] {
    if (!this.children_) {
      this.tree.rt.module._ts_node_children_wasm(this.put());
      this.children_ = readChildren(this.tree);
    }
    return this.children_;
  }

  get namedChildren(): readonly SyntaxNode[] {
    if (!this.namedChildren_) {
      this.tree.rt.module._ts_node_named_children_wasm(this.put());
      this.namedChildren_ = readChildren(this.tree);
    }
    return this.namedChildren_;
  }

  child(index: number): SyntaxNode | null {
    this.tree.rt.module._ts_node_child_wasm(this.put(), index);
    return this.node();
  }

  namedChild(index: number): SyntaxNode | null {
    this.tree.rt.module._ts_node_named_child_wasm(this.put(), index);
    return this.node();
  }

  childForFieldName(name: string): SyntaxNode | null {
    const field = this.tree.rt.fieldId(name);
    if (field === -1) return null;
    this.tree.rt.module._ts_node_child_by_field_id_wasm(this.put(), field);
    return this.node();
  }

  /** The S-expression of the subtree, as web-tree-sitter's `Node.toString` (tests and messages print it). */
  toString(): string {
    const module = this.tree.rt.module;
    const address = module._ts_node_to_string_wasm(this.put());
    const result = module.AsciiToString(address);
    module._free(address);
    return result;
  }
}
