/**
 * The slice of the tree-sitter node API the engine uses. Both backends
 * (web-tree-sitter and the native binding) satisfy it structurally, so the
 * model never knows which one produced a tree.
 */
export interface Point {
  row: number;
  column: number;
}

/**
 * Where `nodeType` (model/syntax-util.ts) remembers a node's type on the node
 * object. A node class that declares this slot in its constructor keeps one
 * object shape: added later, the property changes the object's hidden class
 * and needs a property store of its own per node.
 */
export const NODE_TYPE: unique symbol = Symbol('type');

export interface SyntaxNode {
  readonly type: string;
  readonly text: string;
  readonly isNamed: boolean;
  readonly isMissing: boolean;
  readonly isError: boolean;
  readonly hasError: boolean;
  readonly startIndex: number;
  readonly endIndex: number;
  readonly startPosition: Point;
  readonly endPosition: Point;
  readonly parent: SyntaxNode | null;
  readonly childCount: number;
  readonly namedChildCount: number;
  readonly children: ReadonlyArray<SyntaxNode | null>;
  readonly namedChildren: ReadonlyArray<SyntaxNode | null>;
  child(index: number): SyntaxNode | null;
  namedChild(index: number): SyntaxNode | null;
  childForFieldName(name: string): SyntaxNode | null;
}

export interface TextEdit {
  startIndex: number;
  oldEndIndex: number;
  newEndIndex: number;
  startPosition: Point;
  oldEndPosition: Point;
  newEndPosition: Point;
}

export interface SyntaxTree {
  readonly rootNode: SyntaxNode;
  edit(edit: TextEdit): void;
}

export type Backend = 'wasm' | 'native';

/** One parser per backend instance; not re-entrant. */
export interface CParser {
  readonly backend: Backend;
  /**
   * Parses `text` (already passed through `blankAnnotations`). With `oldTree`
   * (edited to match `text`) the parse is incremental. Returns null when the
   * time cap is hit.
   */
  parse(text: string, oldTree?: SyntaxTree, timeoutMs?: number): SyntaxTree | null;
  /** Frees a tree (web-tree-sitter trees live in wasm memory until deleted). */
  free(tree: SyntaxTree): void;
  dispose(): void;
}
