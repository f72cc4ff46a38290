import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { cliBundle, repoRoot, runCli } from './run-cli';

const version = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
let dir = '';
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'iommufd-review-usage-'));
  mkdirSync(path.join(dir, 'no-c'));
  writeFileSync(path.join(dir, 'no-c/README'), 'nothing here\n');
  writeFileSync(path.join(dir, 'ok.c'), 'int ok(void)\n{\n\treturn 0;\n}\n');
  writeFileSync(path.join(dir, 'bad-config.json'), '{"minConfidence": "certain"}\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('--help lists the commands and exits 0', () => {
  const r = runCli(['--help']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Usage: iommufd-review COMMAND/);
  assert.match(r.stdout, /\n {2}check +analyse C files/);
  assert.match(r.stdout, /Exit status: 0 no findings, 1 findings, 2 usage or input error/);
});

test('--version prints the package version', () => {
  const r = runCli(['--version']);
  assert.equal(r.status, 0);
  assert.equal(r.stdout, `${version}\n`);
});

test('the bundle runs as the package bin (shebang, executable)', () => {
  const r = runCli(['--version'], { viaShebang: true });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `${version}\n`);
});

test('no command: usage on stdout, exit 2', () => {
  const r = runCli([]);
  assert.equal(r.status, 2);
  assert.match(r.stdout, /^Usage: /);
});

test('unknown command: exit 2 and a clear message', () => {
  const r = runCli(['frobnicate']);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(
    r.stderr,
    /^iommufd-review: unknown command 'frobnicate'\nCommands: .*check.*Try 'iommufd-review --help'\.\n$/,
  );
});

test('check --help exits 0 with every option', () => {
  const r = runCli(['check', '--help']);
  assert.equal(r.status, 0);
  for (const opt of ['--format', '--min-confidence', '--config', '--backend', '--max-file-size'])
    assert.ok(r.stdout.includes(opt), opt);
});

test('a reader that goes away (| head) ends the run quietly with its own status', () => {
  // Enough coverage entries to overflow the pipe, so the write really fails.
  const body = Array.from({ length: 3000 }, (_, i) => `int pipe_fn_${i}(void)\n{\n\treturn ${i};\n}\n`).join('\n');
  writeFileSync(path.join(dir, 'many.c'), body);
  const r = spawnSync(
    'bash',
    [
      '-c',
      `node '${cliBundle}' check --format json many.c | head -c 1 >/dev/null; echo "status \${PIPESTATUS[0]}" >&2`,
    ],
    { cwd: dir, encoding: 'utf8' },
  );
  assert.equal(r.stderr, 'status 0\n');
});

const usageCases: [string, string[], RegExp][] = [
  ['no PATH', ['check'], /^iommufd-review check: no PATH given: name the C files or directories to analyse\n/],
  [
    'bad --format',
    ['check', '--format', 'xml', 'ok.c'],
    /^iommufd-review check: invalid --format 'xml': expected one of text, json, sarif\n/,
  ],
  [
    'bad --min-confidence',
    ['check', '--min-confidence', 'sure', 'ok.c'],
    /^iommufd-review check: invalid --min-confidence 'sure': expected one of low, medium, high\n/,
  ],
  [
    'bad --backend',
    ['check', '--backend', 'gcc', 'ok.c'],
    /^iommufd-review check: invalid --backend 'gcc': expected one of wasm, native\n/,
  ],
  [
    'bad --max-file-size',
    ['check', '--max-file-size', '0', 'ok.c'],
    /^iommufd-review check: invalid --max-file-size '0': expected a positive number of bytes\n/,
  ],
  ['unknown option', ['check', '--frob', 'ok.c'], /^iommufd-review check: Unknown option '--frob'\n/],
  [
    'missing value',
    ['check', 'ok.c', '--format'],
    /^iommufd-review check: Option '-f, --format <value>' argument missing\n/,
  ],
  ['missing path', ['check', 'nope.c'], /^iommufd-review check: no such file or directory: nope\.c\n/],
  [
    'directory without C',
    ['check', 'no-c'],
    /^iommufd-review check: nothing to analyse:\n {2}no-c: no \.c or \.h files found\n/,
  ],
  [
    'bad --config',
    ['check', '--config', 'bad-config.json', 'ok.c'],
    /^iommufd-review check: bad configuration:\n {2}bad-config\.json: /,
  ],
  [
    'unreadable --config',
    ['check', '--config', 'absent.json', 'ok.c'],
    /^iommufd-review check: bad configuration:\n {2}absent\.json: cannot read configuration \(ENOENT\)\n/,
  ],
];

for (const [name, args, message] of usageCases) {
  test(`usage error, exit 2: ${name}`, () => {
    const r = runCli(args, { cwd: dir });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, message);
    assert.match(r.stderr, /Try 'iommufd-review check --help'\.\n$/);
  });
}
