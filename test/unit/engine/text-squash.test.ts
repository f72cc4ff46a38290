/**
 * squash() and withoutSpaces() return most texts as they are without a
 * regex replace: the answers must be those of the replace on every kind of
 * blank (tabs, newlines, runs, leading and trailing blanks, no-break and
 * other Unicode spaces) and on texts that need no change.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { squash, withoutSpaces } from '../../../src/engine/model/syntax-util';

const TEXTS = [
  '',
  ' ',
  'x',
  'mutex_lock(&ioas->mutex)',
  'a = b',
  'a  = b',
  ' a = b',
  'a = b ',
  'a\t= b',
  'f(a,\n\t  b)',
  'x\r\ny',
  'a\u00a0b',
  'a \u2003 b',
  'p\u2028q',
  '\ufeffint x',
  'caf\u00e9 = 1',
  '"two  spaces in a string"',
];

test('squash: same as collapsing every run of blanks to one space and trimming', () => {
  for (const t of TEXTS) assert.equal(squash(t), t.replace(/\s+/g, ' ').trim(), JSON.stringify(t));
  assert.equal(squash('f(a,\n\t  b)'), 'f(a, b)');
  // A text that needs no change is returned as it is.
  const clean = 'iopt_unmap_iova(&ioas->iopt, iova, length, NULL)';
  assert.equal(squash(clean), clean);
});

test('withoutSpaces: same as removing every blank', () => {
  for (const t of TEXTS) assert.equal(withoutSpaces(t), t.replace(/\s+/g, ''), JSON.stringify(t));
  assert.equal(withoutSpaces('& ioas -> obj'), '&ioas->obj');
  assert.equal(withoutSpaces('a\u00a0b'), 'ab');
});
