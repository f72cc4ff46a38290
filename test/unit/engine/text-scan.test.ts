/** The linear scans that replace backtracking regexes give the regexes' answers, on ordinary and on hostile text. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { performance } from 'node:perf_hooks';
import { identifierBefore, textBeforeParen, withoutLineComments } from '../../../src/engine/text-scan';

test('identifierBefore: the identifier before an index, blanks skipped, as /([A-Za-z_]\\w*)\\s*$/ would pick it', () => {
  const cases: [string, string | undefined][] = [
    ['static int foo(', 'foo'],
    ['static int foo \t (', 'foo'],
    ['int __init _bar9(', '_bar9'],
    ['x = 9abc(', 'abc'],
    ['x = 99(', undefined],
    ['(', undefined],
    ['a->b(', 'b'],
  ];
  for (const [text, want] of cases) {
    const at = text.lastIndexOf('(');
    assert.equal(identifierBefore(text, at), want, text);
    assert.equal(identifierBefore(text, at), /([A-Za-z_]\w*)\s*$/.exec(text.slice(0, at))?.[1], `${text} (regex)`);
  }
});

test('textBeforeParen and withoutLineComments', () => {
  assert.equal(textBeforeParen('access->ops->unmap (access->data, iova, length)'), 'access->ops->unmap');
  assert.equal(textBeforeParen('no call'), undefined);
  assert.equal(withoutLineComments('int /* a */ foo(/* b */void) /* open\n close */'), 'int  foo(void) /* open\n close */');
  assert.equal(withoutLineComments('a /*/ b */ c'), 'a  c');
  assert.equal(withoutLineComments('/* x\n /* y */ z'), '/* x\n  z');
  for (const t of ['/*/*/', 'a /* b */ c /* d */', '/* a\n*/ /* b */', '/**/x/*', '*/ /* */', '/* a\r*/ b', '/* \n /* c */']) assert.equal(withoutLineComments(t), t.replace(/\/\*.*?\*\//g, ''), t);
});

test('each scan is linear on long runs that made the regexes quadratic', () => {
  const n = 400_000;
  const t0 = performance.now();
  assert.equal(identifierBefore('a'.repeat(n) + '!(', n + 1), undefined);
  assert.equal(identifierBefore('x' + ' '.repeat(n) + '(', n + 1), 'x');
  assert.equal(textBeforeParen('\t'.repeat(n) + 'x'), undefined);
  assert.equal(withoutLineComments('a/*'.repeat(n)).length, 3 * n);
  assert.equal(withoutLineComments('/* x\n'.repeat(n) + '*/').length, 5 * n + 2);
  assert.equal(withoutLineComments('/* */'.repeat(n) + 'x'.repeat(n)), 'x'.repeat(n));
  const ms = performance.now() - t0;
  // The regexes took minutes on these; the scans take milliseconds.
  assert.ok(ms < 1000, `${ms.toFixed(0)} ms`);
});
