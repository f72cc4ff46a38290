import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CONFIG_FILE_NAME, commonDirectory, findConfigFile, resolveConfig } from '../../../src/engine/node/find-config';
import {
  collectSourcePaths,
  outsideKernelDirs,
  readSourceFile,
  readSources,
} from '../../../src/engine/node/read-sources';

let dir = '';
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'iommufd-review-read-'));
  mkdirSync(path.join(dir, 'tree/b/deep'), { recursive: true });
  mkdirSync(path.join(dir, 'tree/a'), { recursive: true });
  mkdirSync(path.join(dir, 'nothing'), { recursive: true });
  writeFileSync(path.join(dir, 'tree/b/deep/z.c'), 'int z;\n');
  writeFileSync(path.join(dir, 'tree/a/y.h'), 'int y;\n');
  writeFileSync(path.join(dir, 'tree/a/x.c'), 'int x;\n');
  writeFileSync(path.join(dir, 'tree/a/notes.txt'), 'not C\n');
  writeFileSync(path.join(dir, 'nothing/readme'), 'x\n');
  symlinkSync('..', path.join(dir, 'tree/b/loop'));
  writeFileSync(path.join(dir, 'blob.c'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01, 0x02]));
  writeFileSync(
    path.join(dir, 'latin1.c'),
    Buffer.concat([Buffer.from('/* Bj'), Buffer.from([0xf6]), Buffer.from('rn */\nint a;\n')]),
  );
  writeFileSync(path.join(dir, 'bom.c'), '\ufeffint b;\n');
  writeFileSync(path.join(dir, 'big.c'), 'x'.repeat(2048));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('directories are walked recursively for .c and .h, sorted, symlink loops followed once', () => {
  const got = collectSourcePaths([path.join(dir, 'tree')]);
  assert.deepEqual(
    got.paths.map((p) => path.relative(dir, p)),
    ['tree/a/x.c', 'tree/a/y.h', 'tree/b/deep/z.c'],
  );
  assert.deepEqual(got.missing, []);
  assert.deepEqual(got.empty, []);
});

test("a kernel tree's context leaves out its folders of programs run outside the kernel; other trees are walked whole", () => {
  const kernel = path.join(dir, 'kernel');
  for (const d of ['kernel/sched', 'tools/testing/selftests/bpf', 'scripts/mod', 'usr', 'Documentation/x', 'samples'])
    mkdirSync(path.join(kernel, d), { recursive: true });
  for (const f of [
    'kernel/sched/core.c',
    'tools/testing/selftests/bpf/pin.c',
    'scripts/mod/modpost.c',
    'usr/gen_init_cpio.c',
    'Documentation/x/demo.c',
    'samples/hello.c',
  ])
    writeFileSync(path.join(kernel, f), 'int x;\n');
  const rel = (ps: string[]) => ps.map((p) => path.relative(kernel, p));
  // Not a kernel tree yet (no Kbuild and MAINTAINERS): nothing is left out.
  assert.deepEqual(outsideKernelDirs(kernel), []);
  assert.equal(collectSourcePaths([kernel]).paths.length, 6);
  writeFileSync(path.join(kernel, 'Kbuild'), '');
  writeFileSync(path.join(kernel, 'MAINTAINERS'), '');
  const skip = new Set(outsideKernelDirs(kernel));
  assert.deepEqual(rel(collectSourcePaths([kernel], skip).paths), ['kernel/sched/core.c', 'samples/hello.c']);
  // Named as the tree itself, a folder is walked: the user asked for it.
  assert.deepEqual(rel(collectSourcePaths([path.join(kernel, 'tools')], skip).paths), [
    'tools/testing/selftests/bpf/pin.c',
  ]);
});

test('missing arguments and directories without C files are reported, not dropped', () => {
  const got = collectSourcePaths([
    path.join(dir, 'nope.c'),
    path.join(dir, 'nothing'),
    path.join(dir, 'tree/a/notes.txt'),
  ]);
  assert.deepEqual(got.missing, [path.join(dir, 'nope.c')]);
  assert.deepEqual(got.empty, [path.join(dir, 'nothing')]);
  // A file named explicitly is taken whatever its extension.
  assert.deepEqual(got.paths, [path.join(dir, 'tree/a/notes.txt')]);
});

test('the same file named twice is read once', () => {
  const got = collectSourcePaths([path.join(dir, 'tree/a/x.c'), path.join(dir, 'tree/a')]);
  assert.deepEqual(
    got.paths.map((p) => path.relative(dir, p)),
    ['tree/a/x.c', 'tree/a/y.h'],
  );
});

test('a named pipe or device is reported, never read (it would block)', () => {
  const fifo = path.join(dir, 'pipe.c');
  execFileSync('mkfifo', [fifo]);
  const got = collectSourcePaths([fifo, '/dev/zero']);
  assert.deepEqual(got.paths, []);
  assert.deepEqual(got.problems, [
    { file: fifo, message: 'skipped: not a regular file (a pipe, socket or device)' },
    { file: '/dev/zero', message: 'skipped: not a regular file (a pipe, socket or device)' },
  ]);
  rmSync(fifo);
});

test('binary files become a problem entry', () => {
  const out = readSourceFile(path.join(dir, 'blob.c'));
  assert.deepEqual(out, {
    problem: { file: path.join(dir, 'blob.c'), message: 'skipped: binary file (contains NUL bytes)' },
  });
});

test('non-UTF-8 is decoded with replacement and noted', () => {
  const out = readSourceFile(path.join(dir, 'latin1.c'));
  assert.ok('file' in out);
  assert.equal(out.file.text, '/* Bj\ufffdrn */\nint a;\n');
  assert.match(out.note?.message ?? '', /^not valid UTF-8/);
});

test('a byte order mark is dropped so line 1 column 1 is the code', () => {
  const out = readSourceFile(path.join(dir, 'bom.c'));
  assert.ok('file' in out);
  assert.equal(out.file.text, 'int b;\n');
});

test('files over the size cap are skipped with the reason, before being read', () => {
  const out = readSourceFile(path.join(dir, 'big.c'), { maxFileBytes: 1024 });
  assert.deepEqual(out, {
    problem: {
      file: path.join(dir, 'big.c'),
      message: 'skipped: 2.0 KB is over the 1.0 KB limit (generated or not C?); raise it with --max-file-size',
    },
  });
});

test('readSources keeps good files and collects problems', () => {
  const got = readSources([path.join(dir, 'blob.c'), path.join(dir, 'latin1.c'), path.join(dir, 'tree/a/x.c')]);
  assert.deepEqual(
    got.files.map((f) => path.basename(f.path)),
    ['latin1.c', 'x.c'],
  );
  assert.deepEqual(
    got.problems.map((p) => path.basename(p.file)),
    ['blob.c', 'latin1.c'],
  );
});

test('config: nearest .iommufd-review.json upward from the common directory; --config wins', () => {
  writeFileSync(path.join(dir, 'tree', CONFIG_FILE_NAME), JSON.stringify({ disabledRules: ['lock-leak'] }));
  writeFileSync(path.join(dir, 'explicit.json'), JSON.stringify({ minConfidence: 'high' }));
  assert.equal(commonDirectory([path.join(dir, 'tree/a/x.c'), path.join(dir, 'tree/b/deep')]), path.join(dir, 'tree'));
  assert.equal(
    findConfigFile([path.join(dir, 'tree/a/x.c'), path.join(dir, 'tree/b/deep/z.c')]),
    path.join(dir, 'tree', CONFIG_FILE_NAME),
  );
  const found = resolveConfig({ paths: [path.join(dir, 'tree/b/deep')] });
  assert.equal(found.file, path.join(dir, 'tree', CONFIG_FILE_NAME));
  assert.deepEqual(found.problems, []);
  assert.deepEqual(found.config?.disabledRules, ['lock-leak']);
  const explicit = resolveConfig({ explicit: path.join(dir, 'explicit.json'), paths: [path.join(dir, 'tree')] });
  assert.equal(explicit.config?.minConfidence, 'high');
  const missing = resolveConfig({ explicit: path.join(dir, 'none.json'), paths: [] });
  assert.deepEqual(missing.problems, [`${path.join(dir, 'none.json')}: cannot read configuration (ENOENT)`]);
  rmSync(path.join(dir, 'tree', CONFIG_FILE_NAME));
});

test('config: a bad file names the problem', () => {
  writeFileSync(path.join(dir, 'bad.json'), '{"minConfidence": "sure"}');
  const bad = resolveConfig({ explicit: path.join(dir, 'bad.json'), paths: [] });
  assert.ok(bad.problems.length > 0);
  assert.ok(bad.problems[0].startsWith(path.join(dir, 'bad.json')), bad.problems[0]);
});
