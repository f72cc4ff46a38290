import assert from 'node:assert/strict';
import { rmSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseSeries, parseSeriesFiles, reviewSeries, type SeriesReview } from '../../../src/patch/index';
import { fsTree } from '../../../src/patch/node/fs-tree';
import { openGitRepo, type GitRepo } from '../../../src/patch/node/git-repo';
import { wasmParser } from './engine-helpers';
import { formatPatchRun, parsePatchArgs, runPatch } from '../../../src/cli/patch';
import { exampleRepo, git, repoWith, tempDir, withoutIndexLines, withPreBlob, type ExampleRepo } from './git-helpers';
import { fixtureText, fixtures, lineOf } from './helpers';

const DEVICE = 'drivers/iommu/iommufd/device.c';

async function open(dir: string): Promise<GitRepo> {
  const r = await openGitRepo(dir);
  if ('problem' in r) throw new Error(r.problem);
  return r.repo;
}

/** What must agree between two reviews of the same series: everything but where the patch file shows it. */
function verdicts(r: SeriesReview) {
  return r.patches.map((p) =>
    p.findings.map((f) => [
      f.status,
      f.ruleId,
      f.function,
      f.fingerprint,
      f.imageFile,
      f.imageLine,
      f.confidence,
      f.message,
    ]),
  );
}

let example: ExampleRepo | undefined;
const repo = () => (example ??= exampleRepo());

async function review(files: { name: string; text: string }[], options: { git?: GitRepo; base?: string }) {
  const series = await parseSeriesFiles(files.map((f) => ({ name: f.name, content: f.text })));
  return reviewSeries(series, {
    parser: await wasmParser(),
    git: options.git,
    base: options.base ? fsTree(options.base) : undefined,
  });
}

test('--git: every pre-image is the index blob, and the findings are those of --base on the applied tree', async () => {
  const { dir, files } = repo();
  const g = await open(dir);
  try {
    const withGit = await review(files, { git: g });
    const withBase = await review(files, { base: path.join(fixtures, 'tree') });
    assert.deepEqual(
      withGit.patches.map((p) => [p.index, p.mode, p.preimage, p.problems, p.notes]),
      [
        [1, 'base', 'blob', [], []],
        [2, 'base', 'blob', [], []],
        [3, 'base', 'blob', [], []],
      ],
    );
    // Patch 3 touches two files: each names its blob.
    assert.deepEqual(
      withGit.patches[2].preimageFiles.map((f) => [f.file, f.source, f.blob?.length]),
      [
        [DEVICE, 'blob', 7],
        ['include/linux/iommufd.h', 'blob', 7],
      ],
    );
    assert.deepEqual(
      withBase.patches.map((p) => p.preimage),
      ['tree', 'tree', 'tree'],
    );
    assert.deepEqual(verdicts(withGit), verdicts(withBase));
    const [f] = withGit.patches[1].findings;
    assert.equal(f.ruleId, 'unmap-before-rollback');
    assert.equal(f.status, 'introduced');
    assert.equal(f.confidence, 'high');
    assert.equal(f.function, 'iommufd_access_change_ioas_id');
    // On the fallible call's line of git's own patch file.
    assert.equal(f.patchLine, lineOf(files[2].text, ' \trc = iopt_add_access(&new_ioas->iopt, access);'));
    assert.deepEqual([withGit.series.problems, withGit.series.notes], [[], []]);
  } finally {
    g.dispose();
  }
});

test('--git without index lines: the series base-commit gives the pre-images; the bundled v8 mbox too', async () => {
  const { dir, base, files } = repo();
  const g = await open(dir);
  try {
    const bare = await review(
      files.map((f) => ({ name: f.name, text: withoutIndexLines(f.text) })),
      { git: g },
    );
    assert.deepEqual(
      bare.patches.map((p) => [p.preimage, p.notes]),
      [
        ['base-commit', []],
        ['base-commit', []],
        ['base-commit', []],
      ],
    );
    const withBase = await review(files, { base: path.join(fixtures, 'tree') });
    assert.deepEqual(verdicts(bare), verdicts(withBase));

    // The bundled mbox names blobs this repository does not have: each file says so once, and the base-commit is used.
    const mbox = fixtureText('v8.mbox').replace(/^base-commit: .*$/m, `base-commit: ${base}`);
    const r = await reviewSeries(await parseSeries(mbox, 'v8.mbox'), { parser: await wasmParser(), git: g });
    assert.deepEqual(
      r.patches.map((p) => p.preimage),
      ['base-commit', 'base-commit', 'base-commit'],
    );
    assert.deepEqual(r.patches[0].notes, [
      {
        source: 'v8.mbox',
        line: lineOf(
          mbox,
          'diff --git a/drivers/iommu/iommufd/device.c b/drivers/iommu/iommufd/device.c',
          lineOf(mbox, 'Subject: [PATCH v8 1/3] iommufd: Factor out __iommufd_access_detach()'),
        ),
        message: `${DEVICE}: index blob 2eb7b14 is not in the repository: its pre-image is taken from the next source`,
      },
    ]);
    // A file patch 1 already touched applies onto patch 1's post-image: no blob asked for, no note.
    assert.deepEqual(r.patches[1].notes, []);
    assert.equal(r.patches[2].notes.length, 1);
    assert.match(
      r.patches[2].notes[0].message,
      /^include\/linux\/iommufd\.h: index blob 55f6159 is not in the repository/,
    );
    const introduced = r.patches[1].findings
      .filter((f) => f.status === 'introduced')
      .map((f) => [f.ruleId, f.function, f.patchLine]);
    assert.deepEqual(introduced, [
      [
        'unmap-before-rollback',
        'iommufd_access_change_ioas_id',
        lineOf(
          mbox,
          ' \trc = iopt_add_access(&new_ioas->iopt, access);',
          lineOf(mbox, 'Subject: [PATCH v8 2/3] iommufd: Attach through'),
        ),
      ],
    ]);
  } finally {
    g.dispose();
  }
});

test('an unknown blob falls back to the base-commit with a clear note; a base-commit the repository lacks falls back to the work tree', async () => {
  const { dir, base, files } = repo();
  const g = await open(dir);
  try {
    const unknown = await review(
      files.map((f) => ({ name: f.name, text: withPreBlob(f.text, 'deadbeef01') })),
      { git: g },
    );
    assert.equal(unknown.patches[0].preimage, 'base-commit');
    assert.deepEqual(
      unknown.patches[0].notes.map((p) => p.message),
      [`${DEVICE}: index blob deadbeef01 is not in the repository: its pre-image is taken from the next source`],
    );

    // No blobs, a base-commit nobody has, the work tree at the base: the work tree is used, and the commit's absence said.
    const tree = repoWith({});
    git(tree.dir, 'fetch', '-q', dir, `${base}:refs/heads/base`);
    git(tree.dir, 'checkout', '-q', 'base');
    const g2 = await open(tree.dir);
    try {
      const text = files.map((f) => ({
        name: f.name,
        text: withoutIndexLines(f.text).replace(/^base-commit: .*$/m, `base-commit: ${'ab'.repeat(20)}`),
      }));
      const r = await review(text, { git: g2, base: tree.dir });
      assert.deepEqual(
        r.patches.map((p) => p.preimage),
        ['tree', 'tree', 'tree'],
      );
      assert.deepEqual(
        r.series.notes.map((p) => p.message),
        [
          `base-commit ${'ab'.repeat(6)} is not in the repository ${tree.dir}: pre-images from the index blobs or the work tree`,
        ],
      );
      assert.deepEqual(verdicts(r), verdicts(await review(files, { base: path.join(fixtures, 'tree') })));
    } finally {
      g2.dispose();
    }
  } finally {
    g.dispose();
  }
});

test('an index line that lies (a real blob, but not the one the hunks apply to) is said, and the next source is used', async () => {
  const { dir, files } = repo();
  const g = await open(dir);
  try {
    // Patch 1 claims patch 3's post-image blob of device.c as its pre-image: it exists, but patch 1's hunks do not apply to it.
    const post3 = /^index [0-9a-f]+\.\.([0-9a-f]+)/m.exec(files[3].text)![1];
    const lying = files.map((f, i) => ({ name: f.name, text: i === 1 ? withPreBlob(f.text, post3) : f.text }));
    const r = await review(lying, { git: g });
    assert.equal(r.patches[0].preimage, 'base-commit');
    assert.equal(r.patches[0].notes.length, 1);
    assert.match(
      r.patches[0].notes[0].message,
      new RegExp(
        `^${DEVICE}: index blob ${post3} does not match the patch \\(hunk #1 \\(patch line \\d+\\) does not apply to it\\): the next source is tried$`,
      ),
    );
    assert.deepEqual(verdicts(r), verdicts(await review(files, { git: g })));
  } finally {
    g.dispose();
  }
});

test('a corrupt repository: a clear note, the work tree is used, nothing hangs', async () => {
  const { dir, files } = repo();
  // A copy whose objects are all damaged (loose objects overwritten with garbage).
  const broken = repoWith({});
  rmSync(broken.dir, { recursive: true, force: true });
  git(path.dirname(dir), 'clone', '-q', '--no-local', dir, broken.dir);
  git(broken.dir, 'checkout', '-q', repo().base);
  const objects = path.join(broken.dir, '.git', 'objects');
  const packs = path.join(objects, 'pack');
  for (const n of readdirSync(packs))
    if (statSync(path.join(packs, n)).isFile()) writeFileSync(path.join(packs, n), 'garbage\n');
  const g = await open(broken.dir);
  try {
    const started = Date.now();
    const r = await review(files, { git: g, base: broken.dir });
    assert.ok(Date.now() - started < 30_000);
    assert.deepEqual(
      r.patches.map((p) => p.preimage),
      ['tree', 'tree', 'tree'],
    );
    const said = [...r.series.problems, ...r.series.notes, ...r.patches.flatMap((p) => [...p.problems, ...p.notes])]
      .map((p) => p.message)
      .join('\n');
    assert.match(said, /git reported a problem with the repository .*: error: index file .* is too small/);
    assert.match(
      said,
      new RegExp(
        `${DEVICE}: index blob [0-9a-f]{7} is not in the repository: its pre-image is taken from the next source`,
      ),
    );
    assert.deepEqual(verdicts(r), verdicts(await review(files, { base: path.join(fixtures, 'tree') })));
  } finally {
    g.dispose();
  }
});

test('paths with spaces and non-ASCII bytes: quoted by git, read back as blobs', async () => {
  const original = ['int helper(int x)', '{', '\tif (x)', '\t\treturn -1;', '\treturn 0;', '}', ''].join('\n');
  const { dir } = repoWith({
    'drivers/my dir/fé ü.c': original,
    'drivers/my dir/other.c': 'int other(void)\n{\n\treturn 0;\n}\n',
  });
  writeFileSync(path.join(dir, 'drivers/my dir/fé ü.c'), original.replace('return -1;', 'return -22;'));
  const diff = git(dir, 'diff');
  assert.match(diff, /^diff --git "a\/drivers\/my dir\/f\\303\\251 \\303\\274\.c"/m);
  git(dir, 'checkout', '-q', '--', '.');
  writeFileSync(path.join(dir, 'drivers/my dir/fé ü.c'), 'unrelated text in the work tree\n');
  const g = await open(dir);
  try {
    const r = await reviewSeries(await parseSeries(diff, 'quoted.diff'), { parser: await wasmParser(), git: g });
    assert.deepEqual(
      r.patches.map((p) => [p.preimage, p.files, p.problems, p.notes]),
      [['blob', ['drivers/my dir/fé ü.c'], [], []]],
    );
  } finally {
    g.dispose();
  }
});

test('patches whose pre-images come from different sources: each says its own, and the series says they disagree', async () => {
  const { dir, files } = repo();
  const g = await open(dir);
  try {
    // Patch 3 loses its index lines: its include file comes from the base-commit; device.c keeps patch 1's chain (blob).
    const mixed = files.map((f, i) => ({ name: f.name, text: i === 3 ? withoutIndexLines(f.text) : f.text }));
    const r = await review(mixed, { git: g });
    assert.deepEqual(
      r.patches[2].preimageFiles.map((f) => [f.file, f.source]),
      [
        [DEVICE, 'blob'],
        ['include/linux/iommufd.h', 'base-commit'],
      ],
    );
    // The patch's own word is its least exact file.
    assert.deepEqual(
      r.patches.map((p) => p.preimage),
      ['blob', 'blob', 'base-commit'],
    );
    assert.deepEqual(
      r.series.notes.map((p) => p.message),
      ["the patches' pre-images come from different sources: 1/3 blob, 2/3 blob, 3/3 base-commit"],
    );
  } finally {
    g.dispose();
  }
});

test("patch --git on the command line: the text says each patch's pre-image, JSON carries it per patch and file", async () => {
  const { dir, files } = repo();
  const out = tempDir('cli-series');
  const names = files.map((f) => {
    writeFileSync(path.join(out, f.name), f.text);
    return path.join(out, f.name);
  });
  const text = await runPatch({ ...parsePatchArgs(['--git', dir, ...names])! });
  const rendered = formatPatchRun(text, 'text');
  assert.match(
    rendered,
    /^\[1\/3\] iommufd: Factor out __iommufd_access_detach\(\) {2}\(.*0001-.*\.patch, pre-image: the index blobs\)$/m,
  );
  const json = JSON.parse(formatPatchRun(text, 'json'));
  assert.deepEqual(
    json.patches.map((p: { preimage: string; preimageFiles: { file: string; source: string }[] }) => [
      p.preimage,
      p.preimageFiles.map((f) => f.source),
    ]),
    [
      ['blob', ['blob']],
      ['blob', ['blob']],
      ['blob', ['blob', 'blob']],
    ],
  );
  const sarif = JSON.parse(formatPatchRun(text, 'sarif'));
  assert.deepEqual(
    sarif.runs[0].results.map((r: { properties: { preimage: string } }) => r.properties.preimage),
    ['blob'],
  );
  const b4 = JSON.parse(formatPatchRun(text, 'b4'));
  assert.match(b4[1].details, /^pre-image: blob\n/);
  // --no-git with the work tree at the series' tip: the hunks do not apply there.
  const tip = formatPatchRun(await runPatch(parsePatchArgs(['--no-git', '--base', dir, ...names])!), 'text');
  assert.match(tip, /pre-image: the work tree/);
  assert.match(tip, /does not apply/);
});
