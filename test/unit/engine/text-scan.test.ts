/** The linear scans that replace backtracking regexes give the regexes' answers, on ordinary and on hostile text. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { performance } from 'node:perf_hooks';
import {
  beforeQueryOrFragment,
  identifierBefore,
  isCommentOnlyLine,
  replaceMemberChain,
  textBeforeParen,
  trimTrailing,
  withoutLineComments,
  withoutStringContents,
} from '../../../src/engine/text-scan';

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
  assert.equal(
    withoutLineComments('int /* a */ foo(/* b */void) /* open\n close */'),
    'int  foo(void) /* open\n close */',
  );
  assert.equal(withoutLineComments('a /*/ b */ c'), 'a  c');
  assert.equal(withoutLineComments('/* x\n /* y */ z'), '/* x\n  z');
  for (const t of [
    '/*/*/',
    'a /* b */ c /* d */',
    '/* a\n*/ /* b */',
    '/**/x/*',
    '*/ /* */',
    '/* a\r*/ b',
    '/* \n /* c */',
  ])
    assert.equal(withoutLineComments(t), t.replace(/\/\*.*?\*\//g, ''), t);
});

test('trimTrailing, beforeQueryOrFragment, isCommentOnlyLine and replaceMemberChain give the answers of the regexes they replace', () => {
  for (const t of ['', 'a', 'a\n', 'a\n\n\n', '\n\n', 'a\nb\n', 'a \n'])
    assert.equal(trimTrailing(t, '\n'), t.replace(/\n+$/, ''), JSON.stringify(t));
  for (const t of ['file:///a/b.c', 'file:///a/b.c?x#y', 'file:///a#b?c', '?', '#', 'x?'])
    assert.equal(beforeQueryOrFragment(t), t.replace(/[?#].*$/, ''), t);
  const comment = /^\s*(\/\*.*\*\/|\/\/.*)\s*$/;
  for (const t of ['\t/* undo */', '  // why', '/*/', '/**/', 'x; /* y */', '\t/* a */ b', '', '   ', '/* open'])
    assert.equal(isCommentOnlyLine(t), comment.test(t), JSON.stringify(t));
  const chain = /[\w>.-]*->\s*iopt_access_list_id/;
  for (const t of [
    'iopt_remove_access(&ioas->iopt, access, access->iopt_access_list_id);',
    'x = s->acc-> iopt_access_list_id + 1',
    'no chain here',
    'iopt_access_list_id alone',
    'a->b->iopt_access_list_idx',
  ])
    assert.equal(replaceMemberChain(t, 'iopt_access_list_id', 'saved_id'), t.replace(chain, 'saved_id'), t);
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
  assert.equal(trimTrailing('\n'.repeat(n) + 'x', '\n'), '\n'.repeat(n) + 'x');
  assert.equal(beforeQueryOrFragment('?'.repeat(n)), '');
  assert.equal(isCommentOnlyLine('/*' + ' '.repeat(n)), false);
  assert.equal(replaceMemberChain('a->'.repeat(n) + ' '.repeat(n), 'iopt_access_list_id', 'x').length, 4 * n);
  const ms = performance.now() - t0;
  // The regexes took minutes on these; the scans take milliseconds.
  assert.ok(ms < 1000, `${ms.toFixed(0)} ms`);
});

test('withoutStringContents: literal contents go, code and quotes stay; escapes and unterminated literals are bounded', () => {
  assert.equal(withoutStringContents('pr_debug("zone %llx\\n", zone)'), 'pr_debug("", zone)');
  assert.equal(withoutStringContents("c == '\\'' || c == n"), "c == '' || c == n");
  assert.equal(withoutStringContents('f("a\\"b", x)'), 'f("", x)');
  assert.equal(withoutStringContents('f("open\nn)'), 'f("\nn)');
  const hostile = '\\"\\'.repeat(30000) + "'";
  assert.ok(withoutStringContents(hostile).length <= hostile.length);
});
