// SPDX-License-Identifier: MIT
/* The lexical scan for function-definition heads behind "nothing is silently dropped". */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lexicalFunctionHeads } from '../../../src/engine/model/build-file';

test('lexical heads: kernel-style definitions, multi-line parameters and split return types', () => {
  const text = [
    'static int one(int a)', // 1
    '{', // 2
    '\treturn a;', // 3
    '}', // 4
    'static struct foo *', // 5
    'two(struct foo *f,', // 6
    '    int b)', // 7
    '{', // 8
    '}', // 9
    'int three(void) __must_hold(&x->lock)', // 10
    '{', // 11
    '}', // 12
  ].join('\n');
  assert.deepEqual(lexicalFunctionHeads(text), [
    { name: 'one', line: 1, braceLine: 2 },
    { name: 'two', line: 6, braceLine: 8 },
    { name: 'three', line: 10, braceLine: 11 },
  ]);
});

test('lexical heads: structs, initialisers, macros and statements are not heads', () => {
  const text = [
    'struct foo', // 1
    '{', // 2
    '};', // 3
    'static const struct foo_ops ops =', // 4
    '{', // 5
    '};', // 6
    '#define BAR(x)', // 7
    '{', // 8
    'int x = f(y)', // 9
    '{', // 10
  ].join('\n');
  assert.deepEqual(lexicalFunctionHeads(text), []);
});
