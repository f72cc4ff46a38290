import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { AnalysisResult, Finding } from '../../../src/engine/types';
import { classifyFindings } from '../../../src/patch/classify';
import { parseMailDiff } from '../../../src/patch/diff';
import { buildFragment, signatureFromSection } from '../../../src/patch/fragments';
import { patchLineFor } from '../../../src/patch/line-map';
import { plainDiffMail } from '../../../src/patch/mail';
import { parseSeries } from '../../../src/patch/series';
import { reviewSeriesWith, type AnalysisSession } from '../../../src/patch/review';
import { parseTrailers } from '../../../src/patch/trailers';
import { root } from './helpers';

function finding(over: Partial<Finding>): Finding {
  return {
    ruleId: 'lock-leak',
    severity: 'warning',
    confidence: 'high',
    message: 'm',
    file: 'a.c',
    line: 1,
    column: 1,
    function: 'f',
    fingerprint: 'lock-leak:f:x',
    related: [],
    scenario: { variant: 'merged', threads: [], faults: [], contract: 'usable' },
    ...over,
  };
}

test('classification: by file and fingerprint, as a multiset, renames followed', () => {
  const pre = [
    finding({ line: 10 }),
    finding({ line: 20 }),
    finding({ fingerprint: 'lock-leak:g:y', line: 30 }),
    finding({ file: 'old.c', fingerprint: 'lock-order:h:a,b' }),
  ];
  const post = [
    finding({ line: 14 }),
    finding({ fingerprint: 'lock-leak:k:z', line: 40 }),
    finding({ file: 'new.c', fingerprint: 'lock-order:h:a,b' }),
  ];
  const out = classifyFindings(pre, post, (f) => (f === 'old.c' ? 'new.c' : f));
  assert.deepEqual(
    out.map((c) => [c.status, c.finding.file, c.finding.fingerprint, c.finding.line]),
    [
      ['unchanged', 'a.c', 'lock-leak:f:x', 14],
      ['introduced', 'a.c', 'lock-leak:k:z', 40],
      ['unchanged', 'new.c', 'lock-order:h:a,b', 1],
      ['fixed', 'a.c', 'lock-leak:f:x', 20],
      ['fixed', 'a.c', 'lock-leak:g:y', 30],
    ],
  );
  // Without a fingerprint: rule, function and the message with numbers taken out.
  const a = classifyFindings(
    [finding({ fingerprint: '', message: 'taken at line 3' })],
    [finding({ fingerprint: '', message: 'taken at line 9' })],
  );
  assert.deepEqual(
    a.map((c) => c.status),
    ['unchanged'],
  );
});

test('patch lines: exact where the patch shows the line, else the nearest line of the nearest hunk', () => {
  const origin = new Map([
    [10, 100],
    [11, 101],
    [12, 102],
    [40, 200],
    [41, 201],
  ]);
  const spans = [
    { preFrom: 10, preTo: 12, postFrom: 10, postTo: 12, firstPatchLine: 99, lastPatchLine: 102 },
    { preFrom: 40, preTo: 41, postFrom: 40, postTo: 41, firstPatchLine: 199, lastPatchLine: 201 },
  ];
  assert.equal(patchLineFor(11, origin, spans, 'post'), 101);
  assert.equal(patchLineFor(15, origin, spans, 'post'), 102);
  assert.equal(patchLineFor(35, origin, spans, 'post'), 200);
  assert.equal(patchLineFor(1, origin, spans, 'post'), 100);
  assert.equal(patchLineFor(5, new Map(), [], 'post'), undefined);
});

test('fragments: a hunk inside a function is reopened from its @@ section and closed', () => {
  assert.equal(
    signatureFromSection('static int foo(struct iommufd_access *access,'),
    'static int foo(struct iommufd_access *access)',
  );
  assert.equal(signatureFromSection('int bar(void)'), 'int bar(void)');
  assert.equal(signatureFromSection('struct iommufd_ops {'), undefined);
  assert.equal(signatureFromSection('if (x) {'), undefined);
  const diffText = [
    '--- a/d.c',
    '+++ b/d.c',
    '@@ -20,5 +20,6 @@ static int foo(struct iommufd_access *access,',
    ' \tmutex_lock(&access->ioas_lock);',
    ' \tif (!access->ioas) {',
    '+\t\tpr_debug("none\\n");',
    ' \t\tmutex_unlock(&access->ioas_lock);',
    ' \t\treturn -ENOENT;',
    ' \t}',
    '',
  ].join('\n');
  const file = parseMailDiff(plainDiffMail(diffText, 'x.diff')).files[0];
  const post = buildFragment(file, 'new');
  assert.equal(
    post.text,
    [
      'static int foo(struct iommufd_access *access)',
      '{',
      '\tmutex_lock(&access->ioas_lock);',
      '\tif (!access->ioas) {',
      '\t\tpr_debug("none\\n");',
      '\t\tmutex_unlock(&access->ioas_lock);',
      '\t\treturn -ENOENT;',
      '\t}',
      // The unseen tail: the function is seen releasing the lock on its way out, so its other exit does too.
      '\tmutex_unlock(&access->ioas_lock);',
      '}',
      '',
    ].join('\n'),
  );
  // Fragment lines 3.. are patch lines 4..; synthesised lines have none.
  assert.deepEqual(
    [...post.origin],
    [
      [3, 4],
      [4, 5],
      [5, 6],
      [6, 7],
      [7, 8],
      [8, 9],
    ],
  );
  const pre = buildFragment(file, 'old');
  assert.doesNotMatch(pre.text, /pr_debug/);
});

test('fragments: a hunk that closes a function and opens the next keeps both apart', () => {
  const diffText = [
    '--- a/d.c',
    '+++ b/d.c',
    '@@ -8,6 +8,7 @@ int first(int a)',
    ' \treturn a;',
    ' }',
    ' ',
    ' int second(int b)',
    ' {',
    '+\tb++;',
    ' \treturn b;',
    '',
  ].join('\n');
  const post = buildFragment(parseMailDiff(plainDiffMail(diffText, 'x.diff')).files[0], 'new');
  assert.equal(
    post.text,
    ['int first(int a)', '{', '\treturn a;', '}', '', 'int second(int b)', '{', '\tb++;', '\treturn b;', '}', ''].join(
      '\n',
    ),
  );
});

test('trailers: the last paragraph of Key: value lines; prose is not trailers', () => {
  assert.deepEqual(
    parseTrailers('Subject line\n\nBody.\n\nFixes: abc123 ("x")\nReviewed-by: A <a@b>\nSigned-off-by: B <b@c>'),
    [
      { key: 'Fixes', value: 'abc123 ("x")' },
      { key: 'Reviewed-by', value: 'A <a@b>' },
      { key: 'Signed-off-by', value: 'B <b@c>' },
    ],
  );
  assert.deepEqual(parseTrailers('Body.\n\nNote: this is prose and\nit goes on\nover lines'), []);
});

test('review with a stand-in engine: statuses and patch lines from the images, per patch', async () => {
  // Findings keyed to code the test can see: a "finding" on every line calling leak().
  const analyze = (files: Map<string, string>): AnalysisResult => {
    const findings: Finding[] = [];
    for (const [file, text] of files) {
      text.split('\n').forEach((l, i) => {
        const m = /leak_(\w+)\(/.exec(l);
        if (m) findings.push(finding({ file, line: i + 1, fingerprint: `lock-leak:f:${m[1]}` }));
      });
    }
    return {
      findings,
      lockGraph: { edges: [] },
      coverage: { files: files.size, functions: { parsed: 0, partial: 0, skipped: 0 }, entries: [], problems: [] },
    };
  };
  const session = (): AnalysisSession => {
    const files = new Map<string, string>();
    return {
      setFile: (p, t) => void files.set(p, t),
      removeFile: (p) => void files.delete(p),
      analyze: () => analyze(files),
      dispose: () => undefined,
    };
  };
  const base = new Map([['d/a.c', 'int f(void)\n{\n\tleak_one();\n\tleak_two();\n\treturn 0;\n}\n']]);
  const reader = {
    readFile: async (p: string) => base.get(p),
    listDir: async (d: string) => (d === 'd' ? ['a.c'] : []),
  };
  const mail = [
    'From: T <t@example.org>',
    'Subject: [PATCH] d: swap one leak for another',
    '',
    'x',
    '---',
    'diff --git a/d/a.c b/d/a.c',
    '--- a/d/a.c',
    '+++ b/d/a.c',
    '@@ -1,6 +1,6 @@',
    ' int f(void)',
    ' {',
    '-\tleak_one();',
    '+\tleak_three();',
    ' \tleak_two();',
    ' \treturn 0;',
    ' }',
    '',
  ].join('\n');
  const review = await reviewSeriesWith(await parseSeries(mail, 'x.patch'), { session, base: reader });
  assert.deepEqual(
    review.patches[0].findings.map((f) => [f.status, f.fingerprint, f.patchLine, f.imageLine]),
    [
      ['fixed', 'lock-leak:f:one', 12, 3],
      ['introduced', 'lock-leak:f:three', 13, 3],
      ['unchanged', 'lock-leak:f:two', 14, 4],
    ],
  );
});

test('src/patch is browser-safe: no vscode, no Node built-ins outside src/patch/node', () => {
  const dir = path.join(root, 'src/patch');
  const files: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = path.join(d, n);
      if (statSync(p).isDirectory()) {
        if (n !== 'node') walk(p);
      } else if (p.endsWith('.ts')) files.push(p);
    }
  };
  walk(dir);
  const bad = /from\s+['"](vscode|fs|path|os|child_process|util|node:[a-z_/]+)['"]|require\(/;
  assert.deepEqual(
    files.filter((f) => bad.test(readFileSync(f, 'utf8'))).map((f) => path.relative(root, f)),
    [],
  );
});

test('a directory with very many C files (include/linux) gives only the touched ones as context', async () => {
  const { SeriesTree, MAX_CONTEXT_FILES } = await import('../../../src/patch/images');
  const names = Array.from({ length: MAX_CONTEXT_FILES + 50 }, (_, i) => `h${i}.h`);
  const read: string[] = [];
  const tree = new SeriesTree({
    readFile: async (p) => {
      read.push(p);
      return `/* ${p} */\n`;
    },
    listDir: async (d) => (d === 'include/linux' ? names : []),
  });
  const files = await tree.cFilesIn(['include/linux'], new Set(['include/linux/h7.h']));
  assert.deepEqual([...files.keys()], ['include/linux/h7.h']);
  assert.deepEqual(read, ['include/linux/h7.h']);
  assert.deepEqual(tree.takeProblems(), [
    {
      source: 'include/linux',
      message: `include/linux has ${MAX_CONTEXT_FILES + 50} C files: only those the series touches were read for context`,
    },
  ]);
});

test('fragments: a function seen through two hunks with a gap, or reopened, is marked partial', () => {
  const diffText = [
    '--- a/d.c',
    '+++ b/d.c',
    '@@ -1,4 +1,4 @@',
    ' void f(struct a *x)',
    ' {',
    '-\tmutex_lock(&x->lock);',
    '+\tmutex_lock(&x->other);',
    ' \tx->n = 1;',
    '@@ -20,3 +20,3 @@ void f(struct a *x)',
    ' \tx->m = 2;',
    '-\tmutex_unlock(&x->lock);',
    '+\tmutex_unlock(&x->other);',
    ' }',
    '@@ -40,2 +40,3 @@ int g(int y)',
    ' \ty++;',
    '+\ty--;',
    ' \treturn y;',
    '',
  ].join('\n');
  const post = buildFragment(parseMailDiff(plainDiffMail(diffText, 'x.diff')).files[0], 'new');
  assert.deepEqual([...post.partial].sort(), ['f', 'g']);
  assert.equal(post.text.split('\n').filter((l) => l === 'void f(struct a *x)').length, 1);
});

test('text edits: replacements reproduce the new text, bottom-up, or say they cannot', async () => {
  const { replacementsBetween } = await import('../../../src/patch/text-edits');
  const apply = (t: string, rs: { start: number; deletedLength: number; inserted: string }[]) =>
    rs.reduce((x, r) => x.slice(0, r.start) + r.inserted + x.slice(r.start + r.deletedLength), t);
  const a = 'one\ntwo\nthree\nfour\nfive\n';
  const b = 'one\n2\nthree\nfour\nfour and a half\nfive\n';
  const rs = replacementsBetween(a, b)!;
  assert.deepEqual(rs, [
    { start: 19, deletedLength: 0, inserted: 'four and a half\n' },
    { start: 4, deletedLength: 4, inserted: '2\n' },
  ]);
  assert.equal(apply(a, rs), b);
  assert.deepEqual(replacementsBetween(a, a), []);
  // At the end of the file too, with or without a final newline.
  for (const [x, y] of [
    ['a\nb', 'a\nc'],
    ['a\nb\n', 'a\nb'],
    ['', 'x\n'],
    ['x\n', ''],
    ['a\n', 'a\nb\nc\n'],
    ['a\nb\n', 'a\nb\n\nextra()\n'],
  ]) {
    const r = replacementsBetween(x, y);
    assert.ok(r, JSON.stringify([x, y]));
    assert.equal(apply(x, r), y);
  }
});

test('a base tree file that is not UTF-8 is read as ISO-8859-1 and said so', async () => {
  const { SeriesTree } = await import('../../../src/patch/images');
  const tree = new SeriesTree({
    readFile: async () => Uint8Array.from([0x2f, 0x2a, 0x20, 0xe9, 0x20, 0x2a, 0x2f, 0x0a]),
    listDir: async () => ['a.c'],
  });
  assert.equal(await tree.read('d/a.c'), '/* \u00e9 */\n');
  assert.deepEqual(tree.takeProblems(), [
    { source: 'd/a.c', message: 'd/a.c in the base tree is not valid UTF-8: read as ISO-8859-1' },
  ]);
});
