import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readWasmFromDisk } from '../../../src/engine/parse/node-wasm';
import { ParsedDocuments } from '../../../src/engine/parse/parsed-documents';
import type { SyntaxNode } from '../../../src/engine/parse/syntax';
import { createWasmParser } from '../../../src/engine/parse/wasm-parser';
import { WasmNode, WasmTree } from '../../../src/engine/parse/wasm-nodes';

// Kernel-style C with the shapes the model reads: fields, declarators, a
// guarded scope, an iterator loop, an unbalanced brace (ERROR and MISSING
// nodes) and a non-ASCII comment (offsets in UTF-16 code units).
const SRC = `// SPDX-License-Identifier: MIT
/* café: offsets after a non-ASCII character */
struct widget {
	struct mutex lock;
	int (*op)(struct widget *w, unsigned long flags);
	int users;
};

static int widget_get(struct widget *w, int *out)
{
	int rc = 0;

	mutex_lock(&w->lock);
	if (w->users < 0) {
		rc = -EINVAL;
		goto out_unlock;
	}
	*out = w->op ? w->op(w, 0) : (w->users++, 1);
out_unlock:
	mutex_unlock(&w->lock);
	return rc;
}

static void widget_broken(struct widget *w)
{
	scoped_guard(mutex, &w->lock) {
		w->users = 0;
	if (w->users
}
`;

const FIELDS = ['declarator', 'type', 'body', 'condition', 'consequence', 'alternative', 'left', 'right', 'name'];

/** Every property the engine reads, on our node and on web-tree-sitter's node at the same place. */
function same(ours: SyntaxNode, theirs: SyntaxNode, where: string, counter: { nodes: number }): void {
  counter.nodes++;
  const at = `${where} ${theirs.type}@${theirs.startIndex}`;
  assert.ok(ours instanceof WasmNode, at);
  for (const key of [
    'type',
    'text',
    'isNamed',
    'isMissing',
    'isError',
    'hasError',
    'startIndex',
    'endIndex',
    'childCount',
    'namedChildCount',
  ] as const) {
    assert.equal(ours[key], theirs[key], `${at}: ${key}`);
  }
  assert.deepEqual(ours.startPosition, theirs.startPosition, `${at}: startPosition`);
  assert.deepEqual(ours.endPosition, theirs.endPosition, `${at}: endPosition`);
  assert.equal(String(ours), String(theirs), `${at}: toString`);
  assert.equal(ours.parent?.startIndex, theirs.parent?.startIndex, `${at}: parent`);
  assert.equal(ours.parent?.type, theirs.parent?.type, `${at}: parent type`);
  for (const name of FIELDS) {
    const a = ours.childForFieldName(name);
    const b = theirs.childForFieldName(name);
    assert.equal(a?.startIndex, b?.startIndex, `${at}: field ${name}`);
    assert.equal(a?.type, b?.type, `${at}: field ${name} type`);
  }
  assert.equal(ours.childForFieldName('no_such_field'), theirs.childForFieldName('no_such_field'));
  assert.equal(ours.namedChildren.length, theirs.namedChildren.length, `${at}: named children`);
  for (let i = 0; i < theirs.namedChildCount; i++) {
    assert.equal(ours.namedChild(i)?.startIndex, theirs.namedChild(i)?.startIndex, `${at}: namedChild(${i})`);
    assert.equal(ours.namedChildren[i]?.type, theirs.namedChildren[i]?.type, `${at}: namedChildren[${i}]`);
  }
  assert.equal(ours.children.length, theirs.children.length, `${at}: children`);
  for (let i = 0; i < theirs.childCount; i++) {
    assert.equal(ours.child(i)?.endIndex, theirs.child(i)?.endIndex, `${at}: child(${i})`);
    same(ours.children[i]!, theirs.children[i]!, at, counter);
  }
}

function compareTree(tree: WasmTree | null, label: string): number {
  assert.ok(tree instanceof WasmTree, `${label}: the wasm parser hands out its own nodes`);
  const counter = { nodes: 0 };
  same(tree.rootNode, tree.inner.rootNode as unknown as SyntaxNode, label, counter);
  return counter.nodes;
}

test("wasm nodes read from the heap answer as web-tree-sitter's own nodes, fresh and after an incremental edit", async () => {
  const parser = await createWasmParser(readWasmFromDisk());
  const docs = new ParsedDocuments(parser);
  const doc = docs.open('w.c', SRC);
  assert.equal(doc.tree?.rootNode.hasError, true, 'the fixture has syntax errors to compare');
  const nodes = compareTree(doc.tree as WasmTree, 'fresh');
  assert.ok(nodes > 200, `walked ${nodes} nodes`);

  const at = SRC.indexOf('rc = -EINVAL;');
  const edited = docs.edit('w.c', [{ start: at, deletedLength: 2, inserted: 'w->users' }]);
  assert.ok(edited.text.includes('w->users = -EINVAL;'));
  compareTree(edited.tree as WasmTree, 'edited');
  const fresh = new ParsedDocuments(parser).open('fresh.c', edited.text);
  assert.equal(String(edited.tree?.rootNode), String(fresh.tree?.rootNode));
  docs.dispose();
});

test('wasm nodes keep answering after wasm memory grows', async () => {
  const parser = await createWasmParser(readWasmFromDisk());
  const docs = new ParsedDocuments(parser, 8);
  const doc = docs.open('small.c', SRC);
  const body = doc.tree!.rootNode.namedChildren.find((n) => n?.type === 'function_definition')!;
  const heapBefore = (doc.tree as WasmTree).rt.module.HEAP32;
  // A large parse grows the heap and detaches the old views; the small tree's nodes still read correctly.
  docs.open('big.c', 'int f(void) { if (a) { b(); } }\n'.repeat(40000));
  assert.notEqual((doc.tree as WasmTree).rt.module.HEAP32, heapBefore, 'wasm memory grew');
  assert.equal(heapBefore.length, 0, 'the old view is detached');
  assert.equal(body.type, 'function_definition');
  assert.equal(body.childForFieldName('declarator')?.text, 'widget_get(struct widget *w, int *out)');
  compareTree(doc.tree as WasmTree, 'after growth');
  docs.dispose();
});
