import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeSources, Engine } from '../../../src/engine/engine';
import { DiskFactsStore } from '../../../src/engine/node/facts-disk-store';
import { analyze, HEADER, lineOf, wasmParser } from './engine-helpers';

const HELPER = `struct foo_dev {
	struct mutex state_lock;
	struct mutex list_lock;
	int count;
};

int count_entries(struct foo_dev *fd)
{
	int n;

	mutex_lock(&fd->state_lock);
	n = fd->count;
	mutex_unlock(&fd->state_lock);
	return n;
}
`;

const CALLERS = `static void foo_walk(struct foo_dev *fd)
{
	mutex_lock(&fd->list_lock);
	count_entries(fd);
	mutex_unlock(&fd->list_lock);
}

static void foo_update(struct foo_dev *fd)
{
	mutex_lock(&fd->state_lock);
	mutex_lock(&fd->list_lock);
	fd->count++;
	mutex_unlock(&fd->list_lock);
	mutex_unlock(&fd->state_lock);
}
`;

test('findings across files: structs and summaries of context files count, `paths` limits what is reported', async () => {
  const engine = new Engine({ parser: await wasmParser() });
  try {
    engine.setFile('helper.c', HELPER);
    engine.setFile('callers.c', CALLERS);
    const all = engine.analyze();
    assert.deepEqual(
      all.findings.map((f) => [f.ruleId, f.file, f.line]),
      [['lock-order', 'callers.c', lineOf(CALLERS, 'count_entries(fd);')]],
    );
    assert.equal(engine.analyze({ paths: ['helper.c'] }).findings.length, 0);
    assert.equal(engine.analyze({ paths: ['callers.c'] }).findings.length, 1);
    // Coverage lists the reported files' functions.
    const cov = engine.analyze({ paths: ['callers.c'] }).coverage;
    assert.deepEqual(
      cov.entries.map((e) => [e.file, e.function, e.line, e.status]),
      [
        ['callers.c', 'foo_walk', 1, 'parsed'],
        ['callers.c', 'foo_update', 8, 'parsed'],
      ],
    );
    assert.deepEqual(
      { files: cov.files, functions: cov.functions },
      { files: 1, functions: { parsed: 2, partial: 0, skipped: 0 } },
    );
    // Without the helper the edge through the call is gone.
    engine.removeFile('helper.c');
    assert.equal(engine.analyze().findings.filter((f) => f.ruleId === 'lock-order').length, 0);
  } finally {
    engine.dispose();
  }
});

test('editFile: incremental reparse gives what a fresh analysis of the new text gives', async () => {
  const parser = await wasmParser();
  const engine = new Engine({ parser });
  try {
    const text = HELPER + CALLERS;
    engine.setFile('foo.c', text);
    assert.equal(engine.analyze().findings.length, 1);
    // Swap foo_update's two locks into the same order as foo_walk: no cycle left.
    const first = text.indexOf('mutex_lock(&fd->state_lock);', text.indexOf('foo_update'));
    const second = text.indexOf('mutex_lock(&fd->list_lock);', first);
    engine.editFile('foo.c', [
      { start: second + 'mutex_lock(&fd->'.length, deletedLength: 'list_lock'.length, inserted: 'state_lock' },
      { start: first + 'mutex_lock(&fd->'.length, deletedLength: 'state_lock'.length, inserted: 'list_lock' },
    ]);
    const edited = engine.analyze();
    const expectedText =
      text.slice(0, first) +
      'mutex_lock(&fd->list_lock);' +
      text.slice(first + 'mutex_lock(&fd->state_lock);'.length, second) +
      'mutex_lock(&fd->state_lock);' +
      text.slice(second + 'mutex_lock(&fd->list_lock);'.length);
    const fresh = analyzeSources(parser, [{ path: 'foo.c', text: expectedText }]);
    assert.deepEqual(edited, fresh);
    assert.equal(edited.findings.length, 0);
    assert.deepEqual(
      edited.lockGraph.edges.map((e) => `${e.from}>${e.to}`),
      ['foo_dev.list_lock>foo_dev.state_lock'],
    );
  } finally {
    engine.dispose();
  }
});

test('an edit that keeps every call and lock reuses the global step and still moves nothing it should not', async () => {
  const parser = await wasmParser();
  const engine = new Engine({ parser });
  try {
    const text = HELPER + CALLERS;
    engine.setFile('foo.c', text);
    const before = engine.analyze();
    const at = text.indexOf('n = fd->count;');
    engine.editFile('foo.c', [{ start: at + 4, deletedLength: 2, inserted: 'fd' }]);
    const after = engine.analyze();
    assert.deepEqual(after, before);
    assert.deepEqual(after, analyzeSources(parser, [{ path: 'foo.c', text }]));
  } finally {
    engine.dispose();
  }
});

test('bad input: binary, too large, non-UTF-8, unbalanced braces and macro soup give coverage entries, never a throw', async () => {
  const parser = await wasmParser();
  const engine = new Engine({ parser });
  try {
    engine.setFile('blob.c', 'ELF\u0000\u0001\u0002\u0000garbage');
    engine.setFile('huge.c', 'int x;\n'.repeat(1_500_000));
    engine.setFile('latin1.c', 'static int f(void)\n{\n\treturn 0; /* caf\uFFFD */\n}\n');
    engine.setFile('braces.c', 'static int g(struct a *a)\n{\n\tif (a) {\n\t\tmutex_lock(&a->lock);\n\treturn 0;\n');
    engine.setFile(
      'soup.c',
      '#define X(a) a ## _y\nX(foo) BAR(baz) { QUX(1, 2) } ;; } ) static int h(void) { return FOO(; }\n',
    );
    engine.setFile('empty.c', '');
    const r = engine.analyze({ minConfidence: 'low' });
    const problems = Object.fromEntries(r.coverage.problems.map((p) => [p.file, p.message]));
    assert.equal(problems['blob.c'], 'not analysed: this looks like a binary file, not C source');
    assert.equal(problems['huge.c'], 'not analysed: 10.0 MiB is over the 8.0 MiB limit');
    assert.equal(
      problems['latin1.c'],
      'contains bytes that are not valid UTF-8 (read as U+FFFD); the rest was analysed',
    );
    assert.equal(r.coverage.files, 6);
    const byFile = (file: string) => r.coverage.entries.filter((e) => e.file === file);
    assert.deepEqual(
      byFile('latin1.c').map((e) => [e.function, e.status]),
      [['f', 'parsed']],
    );
    // The body never closes, so the parser gives up on the whole definition: listed as skipped, with why.
    assert.deepEqual(
      byFile('braces.c').map((e) => [e.function, e.line, e.status, e.reason]),
      [
        [
          'g',
          1,
          'skipped',
          'the parser could not read this definition (unbalanced braces, or an unknown macro around it?)',
        ],
      ],
    );
    assert.deepEqual(byFile('empty.c'), []);
    // Raw parse errors never become findings.
    assert.ok(r.findings.every((f) => f.file !== 'soup.c' && f.file !== 'blob.c'));
  } finally {
    engine.dispose();
  }
});

test('the parse time cap turns into a file problem', async () => {
  const engine = new Engine({ parser: await wasmParser(), parseTimeoutMs: 1 });
  try {
    engine.setFile('big.c', 'static int f(void) { if (a) { b(); } return 0; }\n'.repeat(100_000));
    const r = engine.analyze();
    assert.deepEqual(r.coverage.problems, [{ file: 'big.c', message: 'not analysed: parsing took longer than 1 ms' }]);
  } finally {
    engine.dispose();
  }
});

test('config: disabled rules and the confidence threshold apply', async () => {
  const parser = await wasmParser();
  const text = HELPER + CALLERS;
  assert.equal(
    analyzeSources(parser, [{ path: 'foo.c', text }], { config: { disabledRules: ['lock-order'] } }).findings.length,
    0,
  );
  assert.equal(
    analyzeSources(parser, [{ path: 'foo.c', text }], { config: { minConfidence: 'high' } }).findings.length,
    1,
  );
});

test('callback-under-lock in a change helper maps to a from-source scenario of that function', async () => {
  const src = `${HEADER}
static int iommufd_access_change_ioas(struct iommufd_access *access, struct iommufd_ioas *new_ioas)
{
	lockdep_assert_held(&access->ioas_lock);
	access->ioas = NULL;
	access->ops->unmap(access->data, 0, ULONG_MAX);
	access->ioas = new_ioas;
	return 0;
}
`;
  const r = await analyze({ 'change.c': src });
  const f = r.findings.find((x) => x.ruleId === 'callback-under-lock');
  assert.ok(f);
  assert.equal(f.line, lineOf(src, '->unmap('));
  assert.match(f.message, /with `iommufd_access\.ioas_lock` held \(asserted held at line \d+\)/);
  assert.deepEqual(f.scenario, {
    variant: 'from-source',
    file: 'change.c',
    function: 'iommufd_access_change_ioas',
    threads: ['replacer', 'driver', 'user-unmap'],
    faults: [],
    contract: 'status-quo',
    invariant: 'no-deadlock',
  });
});

test('pathological nesting and very long expressions end in coverage entries, not a stack overflow', async () => {
  const depth = 4000;
  const nested = `static int deep(int a)\n{\n${'\tif (a) {\n'.repeat(depth)}\t\tfoo(a);\n${'\t}\n'.repeat(depth)}\treturn 0;\n}\n`;
  const chain = `static int longexpr(int a)\n{\n\treturn ${Array.from({ length: 20000 }, (_, i) => `f${i}(a)`).join(' + ')};\n}\n\nstatic int fine(void)\n{\n\treturn 0;\n}\n`;
  const r = await analyze({ 'deep.c': nested, 'chain.c': chain }, 'low');
  const entries = Object.fromEntries(r.coverage.entries.map((e) => [e.function, e]));
  assert.equal(entries.fine.status, 'parsed');
  for (const name of ['deep', 'longexpr']) {
    assert.deepEqual(
      [entries[name].status, entries[name].reason],
      ['skipped', 'nested too deeply to model (statements or expressions thousands of levels deep)'],
    );
  }
  assert.deepEqual(r.findings, []);
});

test('editing a struct in one file re-resolves lock names in the others', async () => {
  const engine = new Engine({ parser: await wasmParser() });
  try {
    const header = 'struct inner {\n\tstruct mutex lock;\n};\n\nstruct outer {\n\tstruct inner *in;\n};\n';
    const user =
      'static void take(struct outer *o)\n{\n\tmutex_lock(&o->in->lock);\n\tmutex_unlock(&o->in->lock);\n}\n';
    engine.setFile('defs.h', header);
    engine.setFile('user.c', user);
    const lockIds = () =>
      engine
        .fileModel('user.c')!
        .functions[0].blocks.flatMap((b) => b.events)
        .flatMap((e) => (e.kind === 'acquire' ? [`${e.lock.id}:${e.lock.resolved}`] : []));
    assert.deepEqual(lockIds(), ['inner.lock:true']);
    const at = header.indexOf('struct inner *in');
    engine.editFile('defs.h', [{ start: at + 'struct '.length, deletedLength: 'inner'.length, inserted: 'other' }]);
    assert.deepEqual(lockIds(), ['other.lock:true']);
  } finally {
    engine.dispose();
  }
});

test('the first edit of a file held from the facts store (no tree yet) keeps the global step: the other files are not re-checked', async () => {
  const leaky = (name: string) =>
    `struct ctr {\n\tstruct mutex lock;\n\tint value;\n};\n\nstatic int ${name}(struct ctr *c, int v)\n{\n\tmutex_lock(&c->lock);\n\tif (v < 0)\n\t\treturn -EINVAL;\n\tc->value = v;\n\tmutex_unlock(&c->lock);\n\treturn 0;\n}\n`;
  const parser = await wasmParser();
  // A first engine fills the store (in memory); the second holds both files from it, parsing nothing.
  const store = new DiskFactsStore();
  const filler = new Engine({ parser, facts: store });
  filler.setFile('a.c', leaky('leak_a'));
  filler.setFile('b.c', leaky('leak_b'));
  filler.analyze();
  filler.dispose();
  const engine = new Engine({ parser, facts: store });
  try {
    engine.setFile('a.c', leaky('leak_a'));
    engine.setFile('b.c', leaky('leak_b'));
    const before = engine.analyze();
    // A space typed before a statement keeps every global signature; a.c has no tree to edit and is parsed
    // whole from its new text.
    const a = leaky('leak_a');
    const at = a.indexOf('\tc->value = v;');
    engine.editFile('a.c', [{ start: at, deletedLength: 0, inserted: ' ' }]);
    const after = engine.analyze();
    const ofB = (r: typeof before) => r.findings.filter((f) => f.file === 'b.c');
    assert.deepEqual(
      ofB(after).map((f) => f.ruleId),
      ['lock-leak'],
    );
    // The very object the analysis before gave: b.c kept its findings, computed in the same global step.
    assert.equal(ofB(after)[0], ofB(before)[0]);
    assert.deepEqual(
      after,
      analyzeSources(parser, [
        { path: 'a.c', text: a.slice(0, at) + ' ' + a.slice(at) },
        { path: 'b.c', text: leaky('leak_b') },
      ]),
    );
  } finally {
    engine.dispose();
  }
});

test('findings of unchanged files are kept across edits and those of the edited file follow its text', async () => {
  const leaky = (name: string) =>
    `struct ctr {\n\tstruct mutex lock;\n\tint value;\n};\n\nstatic int ${name}(struct ctr *c, int v)\n{\n\tmutex_lock(&c->lock);\n\tif (v < 0)\n\t\treturn -EINVAL;\n\tc->value = v;\n\tmutex_unlock(&c->lock);\n\treturn 0;\n}\n`;
  const parser = await wasmParser();
  const engine = new Engine({ parser });
  try {
    engine.setFile('a.c', leaky('leak_a'));
    engine.setFile('b.c', leaky('leak_b'));
    const first = engine.analyze();
    assert.deepEqual(
      first.findings.map((f) => [f.file, f.function, f.ruleId]),
      [
        ['a.c', 'leak_a', 'lock-leak'],
        ['b.c', 'leak_b', 'lock-leak'],
      ],
    );
    // Same calls and locks, only a value changed: the global step is reused, a.c is re-checked.
    const a = leaky('leak_a');
    const at = a.indexOf('c->value = v;') + 'c->value = '.length;
    engine.editFile('a.c', [{ start: at, deletedLength: 1, inserted: 'v + 1' }]);
    assert.deepEqual(
      engine.analyze(),
      analyzeSources(parser, [
        { path: 'a.c', text: a.slice(0, at) + 'v + 1' + a.slice(at + 1) },
        { path: 'b.c', text: leaky('leak_b') },
      ]),
    );
    // Fix a.c's leak: only b.c's finding is left.
    const text = a.slice(0, at) + 'v + 1' + a.slice(at + 1);
    const early = 'if (v < 0)\n\t\treturn -EINVAL;';
    engine.editFile('a.c', [
      {
        start: text.indexOf(early),
        deletedLength: early.length,
        inserted: 'if (v < 0) {\n\t\tmutex_unlock(&c->lock);\n\t\treturn -EINVAL;\n\t}',
      },
    ]);
    assert.deepEqual(
      engine.analyze().findings.map((f) => [f.file, f.function]),
      [['b.c', 'leak_b']],
    );
  } finally {
    engine.dispose();
  }
});

test('an engine with no files analyses to an empty, well-formed result', async () => {
  const engine = new Engine({ parser: await wasmParser() });
  try {
    assert.deepEqual(engine.analyze(), {
      findings: [],
      lockGraph: { edges: [] },
      coverage: { files: 0, functions: { parsed: 0, partial: 0, skipped: 0 }, entries: [], problems: [] },
    });
    assert.equal(engine.fileModel('nope.c'), undefined);
    assert.throws(() => engine.editFile('nope.c', []), /nope\.c was not set before being edited/);
  } finally {
    engine.dispose();
  }
});

test('objects declared in another file in view (externs in a header) resolve lock names', async () => {
  const header =
    'struct matrix_dev_s {\n\tstruct mutex mdevs_lock;\n};\n\nextern struct matrix_dev_s *matrix_dev;\nextern struct mutex big_lock;\n';
  const user =
    'static void f(void)\n{\n\tmutex_lock(&big_lock);\n\tmutex_lock(&matrix_dev->mdevs_lock);\n\tmutex_unlock(&matrix_dev->mdevs_lock);\n\tmutex_unlock(&big_lock);\n}\n';
  const r = await analyze({ 'private.h': header, 'ops.c': user });
  assert.deepEqual(r.lockGraph.edges, [
    {
      from: 'file-scope:big_lock',
      to: 'matrix_dev_s.mdevs_lock',
      sites: [
        { file: 'ops.c', line: 3 },
        { file: 'ops.c', line: 4 },
      ],
    },
  ]);
});
