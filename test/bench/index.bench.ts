/**
 * The persistent index and worker threads: a cold `check` of the 20-file
 * corpus without index (1 and 2 workers), the same run building an index,
 * the warm run reading it (goals: under 600 ms cold, under 200 ms warm), and
 * a warm run after one file changed;
 * then the index build of each precision-corpus tree with 1 and 2 workers
 * (wall, CPU, peak resident memory of the process and its threads).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PRECISION_TREES, benchFiles } from '../corpus/kernel-corpus';
import { ms, summarise, timedRun, type Measured } from './stats';

const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'dist/cli.js');
const REPS = 7;

function check(args: string[], cwd: string): Measured {
  return timedRun([process.execPath, cli, 'check', '--format', 'json', ...args], cwd, (s) => s === 0 || s === 1);
}

/** Median wall and CPU over REPS runs (after one unmeasured run); `before` runs ahead of each. */
function repeated(args: string[], cwd: string, before: () => void = () => undefined) {
  before();
  check(args, cwd);
  const runs: Measured[] = [];
  for (let i = 0; i < REPS; i++) {
    before();
    runs.push(check(args, cwd));
  }
  const t = summarise(
    runs.map((r) => r.wallMs),
    runs.map((r) => r.cpuMs),
  );
  return {
    median: t.median,
    p95: t.p95,
    cpu: t.cpuMedian ?? NaN,
    peakMiB: Math.max(...runs.map((r) => r.peakKiB)) / 1024,
  };
}

/**
 * A warm index and one file changed before each run (a new comment line at
 * its end, different every time, so no run's answer is remembered): the
 * other files' facts come from the index, the changed one is parsed and
 * modelled, and the global steps and rules run. Over a copy of the files.
 */
function oneFileChanged(kernelDir: string, files: string[], scratch: string) {
  const tree = path.join(scratch, 'changed-tree');
  for (const f of files) {
    mkdirSync(path.dirname(path.join(tree, f)), { recursive: true });
    copyFileSync(path.join(kernelDir, f), path.join(tree, f));
  }
  const index = path.join(scratch, 'changed-index');
  check(['--index', index, ...files], tree);
  const target = path.join(tree, files.find((f) => f.endsWith('vfio_ap_ops.c')) ?? files[0]);
  const original = readFileSync(target, 'utf8');
  let n = 0;
  return repeated(['--index', index, ...files], tree, () => writeFileSync(target, `${original}/* edit ${n++} */\n`));
}

export async function run(ctx: { kernelDir: string }) {
  const files = benchFiles(ctx.kernelDir).map((p) => path.relative(ctx.kernelDir, p));
  const scratch = mkdtempSync(path.join(tmpdir(), 'iommufd-review-index-bench-'));
  const rows: (string | number)[][] = [];
  const json: Record<string, unknown> = {};
  try {
    const index = path.join(scratch, 'corpus');
    const fresh = () => rmSync(index, { recursive: true, force: true });
    const corpus = {
      'cold, --no-index --jobs 1': repeated(['--no-index', '--jobs', '1', ...files], ctx.kernelDir),
      'cold, --no-index --jobs 2': repeated(['--no-index', '--jobs', '2', ...files], ctx.kernelDir),
      'cold, building the index (empty folder), --jobs 2': repeated(
        ['--index', index, '--jobs', '2', ...files],
        ctx.kernelDir,
        fresh,
      ),
      'warm index (nothing changed: the remembered answer)': repeated(['--index', index, ...files], ctx.kernelDir),
      'warm index, one file changed (the others from the index)': oneFileChanged(ctx.kernelDir, files, scratch),
    };
    json.corpus = { files: files.length, ...corpus };
    for (const [what, t] of Object.entries(corpus)) {
      const goal = what.startsWith('warm') ? '< 200' : what.startsWith('cold, --no-index --jobs 2') ? '< 600' : '';
      rows.push([
        `20-file corpus (${files.length} files): ${what}`,
        `${ms(t.median)} (cpu ${ms(t.cpu)})`,
        ms(t.p95),
        Math.round(t.peakMiB),
        goal,
      ]);
    }
    const trees: Record<string, unknown>[] = [];
    for (const tree of PRECISION_TREES) {
      for (const jobs of [1, 2]) {
        const dir = path.join(scratch, `tree-${jobs}`);
        rmSync(dir, { recursive: true, force: true });
        const build = check(['--index', dir, '--jobs', String(jobs), tree], ctx.kernelDir);
        const warm = check(['--index', dir, '--jobs', String(jobs), tree], ctx.kernelDir);
        const n = (JSON.parse(build.stdout) as { coverage: { files: number } }).coverage.files;
        rows.push([
          `index build, ${tree} (${n} files), --jobs ${jobs}; then warm`,
          `${ms(build.wallMs)} (cpu ${ms(build.cpuMs)}); warm ${ms(warm.wallMs)} (cpu ${ms(warm.cpuMs)})`,
          '',
          Math.round(build.peakKiB / 1024),
          '',
        ]);
        trees.push({
          tree,
          jobs,
          files: n,
          build: { ...build, stdout: undefined },
          warm: { ...warm, stdout: undefined },
        });
      }
    }
    json.trees = trees;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return {
    title: 'Index and workers (Linux 6.12): cold check vs warm index; index build per tree with 1 and 2 workers',
    columns: ['measurement', 'median ms (cpu ms)', 'p95 ms', 'peak MiB', 'goal ms'],
    rows,
    json,
  };
}
