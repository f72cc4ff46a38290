import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createNativeParser } from '../../../src/engine/parse/native-parser';
import { readWasmFromDisk } from '../../../src/engine/parse/node-wasm';
import { ParsedDocuments } from '../../../src/engine/parse/parsed-documents';
import { blankAnnotations } from '../../../src/engine/parse/blank-annotations';
import { createWasmParser } from '../../../src/engine/parse/wasm-parser';

const SRC = `static int __must_check foo_get(struct foo __user *uptr)
	__must_hold(&foo_lock)
{
	return 0;
}
`;

test('blanking keeps offsets and removes annotations', () => {
  const out = blankAnnotations(SRC);
  assert.equal(out.length, SRC.length);
  assert.equal(out.split('\n').length, SRC.split('\n').length);
  assert.ok(!out.includes('__must_check'));
  assert.ok(!out.includes('__must_hold'));
  assert.ok(!out.includes('__user'));
  assert.ok(out.includes('struct foo'));
});

test('wasm and native backends parse annotated kernel C without errors', async () => {
  for (const parser of [await createWasmParser(readWasmFromDisk()), createNativeParser()]) {
    const docs = new ParsedDocuments(parser);
    const doc = docs.open('a.c', SRC);
    assert.ok(doc.tree, parser.backend);
    assert.equal(doc.tree.rootNode.hasError, false, `${parser.backend}: ${doc.tree.rootNode.toString()}`);
    assert.equal(doc.tree.rootNode.namedChildren[0]?.type, 'function_definition');
    docs.dispose();
  }
});

test('incremental edit reparses to the same tree as a fresh parse', async () => {
  const parser = await createWasmParser(readWasmFromDisk());
  const docs = new ParsedDocuments(parser);
  docs.open('a.c', SRC);
  const at = SRC.indexOf('return 0;');
  const edited = docs.edit('a.c', [{ start: at + 7, deletedLength: 1, inserted: '-EINVAL' }]);
  assert.equal(edited.text, SRC.replace('return 0;', 'return -EINVAL;'));
  const fresh = new ParsedDocuments(parser).open('b.c', edited.text);
  assert.equal(String(edited.tree?.rootNode), String(fresh.tree?.rootNode));
  assert.ok(edited.text.includes('-EINVAL'));
  docs.dispose();
});

test('the time cap stops a parse and reports it', async () => {
  const parser = await createWasmParser(readWasmFromDisk());
  const huge = 'int f(void) { if (a) { b(); } }\n'.repeat(200000);
  const docs = new ParsedDocuments(parser, 4, 1);
  const doc = docs.open('huge.c', huge);
  assert.equal(doc.timedOut, true);
  assert.equal(doc.tree, null);
});
