/**
 * The whole Linux 6.12 source tree (every `.c` and `.h` of Debian's
 * linux-source-6.12 tarball) as context for `check --tree` over the 123
 * corpus files: the cold index build with 2 workers on growing parts of the
 * tree (so the table shows how time and memory grow), with 1 worker too on
 * the largest part that completed, the warm re-check (unchanged, and after a
 * one-line change in one file; then that line changed again in a running
 * `check --watch`), and Coccinelle's `mini_lock.cocci` with
 * `--jobs 2` on the largest subtree it finishes in 30 minutes, beside our
 * `check` of the same subtree.
 *
 * Memory-safe on a shared machine: every run has a bounded main heap
 * (MAIN_HEAP_MB) and a watchdog that kills it when the machine's available
 * memory drops under WATCHDOG_MIB; a part is not started when the peak the
 * previous parts predict (resident bytes per byte of .c source) would take
 * the machine's available memory under the watchdog's line.
 *
 * Opt-in, because it takes tens of minutes on two cores: it runs only when
 * asked by name (`npm run bench -- whole-tree`); otherwise its section says
 * how to run it. The tarball is unpacked into the cache once (about 1.7 GB).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_MAX_FILE_BYTES, collectSourcePaths } from '../../src/engine/node/read-sources';
import { checkPaths } from '../corpus/kernel-corpus';
import { ms, timedRun, type Measured } from './stats';

const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'dist/cli.js');
const TARBALL = '/usr/src/linux-source-6.12.tar.xz';
/** Coccinelle's budget per subtree; the next larger one is tried only if this one finished. */
const SPATCH_BUDGET_MS = 30 * 60_000;
/** Subtrees in growing size: the last one spatch finishes within the budget is reported. */
const SUBTREES = ['drivers/vfio', 'fs', 'drivers/net', 'drivers', '.'];
/** Parts of the tree given as context, growing: the last is the whole tree. */
const CONTEXT_STEPS: { name: string; trees: string[] }[] = [
  { name: 'drivers/iommu', trees: ['drivers/iommu'] },
  { name: 'drivers/vfio + virt', trees: ['drivers/vfio', 'virt'] },
  { name: 'fs', trees: ['fs'] },
  { name: 'drivers/net', trees: ['drivers/net'] },
  { name: 'drivers/gpu', trees: ['drivers/gpu'] },
  { name: 'the whole tree', trees: ['.'] },
];
/** The main thread's heap bound. */
const MAIN_HEAP_MB = 17_000;
/** Killed when the machine's available memory falls under this (others run their tests beside it). */
const WATCHDOG_MIB = 4096;
/** A part is started only if its predicted peak leaves this much above the watchdog's line. */
const MARGIN_MIB = 1024;
/** The file changed by one line for the warm re-check. */
const EDITED = 'drivers/vfio/group.c';

function cacheDir(kernelDir: string): string {
  return path.join(path.dirname(kernelDir), 'linux-source-6.12-full');
}

/** The whole tarball, unpacked once next to the corpus subset. */
function fullTree(kernelDir: string): string {
  const dir = cacheDir(kernelDir);
  if (existsSync(path.join(dir, '.complete'))) return dir;
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  execFileSync('tar', ['-xJf', TARBALL, '-C', tmp, '--strip-components=1']);
  writeFileSync(path.join(tmp, '.complete'), '');
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}

function availableMiB(): number {
  const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) / 1024 : Infinity;
}

type Bounded = { ok: true; m: Measured } | { ok: false; wallMs: number; why: string };

/** `check ARGS` under GNU time (its `@@time` line on stderr), with the main heap bounded, in a process group of its own. */
function spawnCheck(args: string[], cwd: string, stdout: 'pipe' | 'ignore'): ChildProcess {
  return spawn(
    '/usr/bin/time',
    ['-f', '@@time %e %U %S %M', process.execPath, `--max-old-space-size=${MAIN_HEAP_MB}`, cli, 'check', ...args],
    { cwd, detached: true, stdio: ['ignore', stdout, 'pipe'] },
  );
}

/**
 * `check` under GNU time with the main heap bounded, killed (its whole
 * process group) if the machine runs short of memory: a whole-tree run must
 * never take the other engineers' memory.
 */
function boundedCheck(args: string[], cwd: string): Promise<Bounded> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawnCheck(['--format', 'json', ...args], cwd, 'pipe');
    const out: Buffer[] = [];
    let err = '';
    let killed = '';
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-20_000)));
    const watchdog = setInterval(() => {
      const avail = availableMiB();
      if (avail >= WATCHDOG_MIB || killed) return;
      killed = `killed by the watchdog: ${Math.round(avail)} MiB available`;
      process.kill(-child.pid!, 'SIGKILL');
    }, 1000);
    child.on('close', (status) => {
      clearInterval(watchdog);
      const wallMs = Date.now() - t0;
      const m = /@@time ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(err);
      if (killed || !m || (status !== 0 && status !== 1))
        return resolve({
          ok: false,
          wallMs,
          why: killed || `exit ${status}: ${err.trim().split('\n').slice(-3).join(' ')}`,
        });
      resolve({
        ok: true,
        m: {
          wallMs: Number(m[1]) * 1000,
          cpuMs: (Number(m[2]) + Number(m[3])) * 1000,
          peakKiB: Number(m[4]),
          stdout: Buffer.concat(out).toString('utf8'),
        },
      });
    });
  });
}

type Watched =
  { ok: true; firstMs: number; ms: number[]; kept: boolean[]; peakKiB: number } | { ok: false; why: string };

/**
 * `check --watch` over the tree: waits for the first answer, then saves each
 * of `texts` to `file` in turn and reads the re-check's time from its status
 * line; then Ctrl-C (SIGINT to node, so GNU time reports its peak). Bounded
 * like `boundedCheck` (heap, watchdog), plus a deadline.
 */
function watchedEdits(args: string[], cwd: string, file: string, texts: string[]): Promise<Watched> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawnCheck(['--watch', ...args], cwd, 'ignore');
    let why = '';
    let firstMs = 0;
    let partial = '';
    let tail = '';
    let peakKiB = 0;
    const ms: number[] = [];
    const kept: boolean[] = [];
    const kill = (reason: string): void => {
      why ||= reason;
      process.kill(-child.pid!, 'SIGKILL');
    };
    const next = (): void => {
      if (ms.length < texts.length) {
        // Saved as an editor does: a new file moved over the old one.
        writeFileSync(`${file}.tmp`, texts[ms.length]);
        renameSync(`${file}.tmp`, file);
        return;
      }
      why = 'done';
      // node is time's only child: Ctrl-C to it ends the watch, and time then prints the peak.
      const node = execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).trim();
      process.kill(Number(node), 'SIGINT');
    };
    child.stderr!.on('data', (b: Buffer) => {
      const lines = (partial + b.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        tail = `${tail}${line}\n`.slice(-4000);
        const peak = /^@@time [\d.]+ [\d.]+ [\d.]+ (\d+)/.exec(line);
        if (peak) peakKiB = Number(peak[1]);
        if (!firstMs && /watching \d+ files? for changes/.test(line)) {
          firstMs = Date.now() - t0;
          next();
        }
        const done = /re-checked after a change to .* in (\d+) ms \(summaries and lock graph (kept|redone)/.exec(line);
        if (done) {
          ms.push(Number(done[1]));
          kept.push(done[2] === 'kept');
          next();
        }
      }
    });
    const watchdog = setInterval(() => {
      if (availableMiB() < WATCHDOG_MIB) kill(`killed by the watchdog: ${Math.round(availableMiB())} MiB available`);
      else if (Date.now() - t0 > 90 * 60_000) kill('over 90 minutes');
    }, 1000);
    child.on('close', () => {
      clearInterval(watchdog);
      if (why === 'done' && ms.length === texts.length) resolve({ ok: true, firstMs, ms, kept, peakKiB });
      else resolve({ ok: false, why: why || `exited: ${tail.trim().split('\n').slice(-3).join(' ')}` });
    });
  });
}

/**
 * The .c and .h files under the trees, and the bytes of the .c files the
 * run reads (under the default size limit): memory grows with the functions,
 * which live in .c files (drivers/gpu's register headers are 200 MB and cost
 * almost nothing; measured 2026-12-06: 22 to 27 MB resident per MB of .c on
 * fs, drivers/net and drivers/gpu).
 */
function sourceBytes(tree: string, trees: string[]): { files: number; bytes: number; cBytes: number } {
  const { paths } = collectSourcePaths(trees.map((t) => path.join(tree, t)));
  let bytes = 0;
  let cBytes = 0;
  for (const p of paths) {
    const size = statSync(p).size;
    bytes += size;
    if (p.endsWith('.c') && size <= DEFAULT_MAX_FILE_BYTES) cBytes += size;
  }
  return { files: paths.length, bytes, cBytes };
}

function cell(m: Measured): string {
  return `${ms(m.wallMs)} (cpu ${ms(m.cpuMs)})`;
}

const requested = process.argv.slice(2).some((a) => a.length >= 5 && 'whole-tree'.includes(a));

export async function run(ctx: { kernelDir: string }) {
  const title = 'Whole Linux 6.12 tree as context: index build, warm re-check, Coccinelle side by side';
  const columns = ['measurement', 'wall ms (cpu ms)', 'peak MiB', 'note'];
  if (!requested) {
    return {
      title,
      columns,
      rows: [['not run', '', '', 'opt-in (tens of minutes on 2 cores): npm run bench -- whole-tree']],
      json: { run: false },
    };
  }
  const tree = fullTree(ctx.kernelDir);
  const paths = checkPaths(tree).map((p) => path.relative(tree, p));
  const rows = progressRows();
  const json: Record<string, unknown> = { run: true, tree, mainHeapMb: MAIN_HEAP_MB, watchdogMib: WATCHDOG_MIB };
  const indexes: string[] = [];
  const freshIndex = (name: string): string => {
    const dir = mkdtempSync(path.join(tmpdir(), `iommufd-review-whole-${name}-`));
    indexes.push(dir);
    return dir;
  };
  const contextArgs = (jobs: number, index: string, trees: string[]): string[] => [
    '-c',
    'low',
    '--jobs',
    String(jobs),
    '--index',
    index,
    ...trees.flatMap((t) => ['--tree', t]),
    ...paths,
  ];
  try {
    // Cold builds on growing parts of the tree, 2 workers; the next part
    // only if the resident bytes per byte of .c so far say it fits.
    let largest: { step: (typeof CONTEXT_STEPS)[number]; index: string } | undefined;
    let perByte = 0;
    let baseMiB = 0;
    for (const step of CONTEXT_STEPS) {
      const size = sourceBytes(tree, step.trees);
      const label = `cold, 2 workers, --tree ${step.name} (${size.files} files, ${mib(size.bytes)} MiB, ${mib(size.cBytes)} MiB of .c)`;
      const predicted = baseMiB + (perByte * size.cBytes) / 1048576;
      const budget = availableMiB() - WATCHDOG_MIB - MARGIN_MIB;
      if (perByte > 0 && predicted > budget) {
        rows.push([
          label,
          'not started',
          '',
          `predicted peak ${Math.round(predicted)} MiB > ${Math.round(budget)} MiB available above the watchdog's line`,
        ]);
        json[`cold2:${step.name}`] = { started: false, predictedMiB: predicted, ...size };
        break;
      }
      const index = freshIndex('cold');
      const r = await boundedCheck(contextArgs(2, index, step.trees), tree);
      if (!r.ok) {
        rows.push([label, `> ${ms(r.wallMs)}`, '', `did not complete: ${r.why}`]);
        json[`cold2:${step.name}`] = { completed: false, why: r.why, ...size };
        break;
      }
      const peakMiB = r.m.peakKiB / 1024;
      // The first part is small: its peak is mostly the fixed cost (grammar, corpus models).
      if (baseMiB === 0) baseMiB = peakMiB;
      else perByte = Math.max(perByte, ((peakMiB - baseMiB) * 1048576) / size.cBytes);
      rows.push([label, cell(r.m), Math.round(peakMiB), `${reportedFiles(r.m)} reported`]);
      json[`cold2:${step.name}`] = { ...r.m, stdout: undefined, ...size };
      largest = { step, index };
    }
    if (largest) {
      const { step, index } = largest;
      const one = await boundedCheck(contextArgs(1, freshIndex('one'), step.trees), tree);
      rows.push(
        one.ok
          ? [`cold, 1 worker, --tree ${step.name}`, cell(one.m), Math.round(one.m.peakKiB / 1024), '']
          : [`cold, 1 worker, --tree ${step.name}`, `> ${ms(one.wallMs)}`, '', `did not complete: ${one.why}`],
      );
      json.cold1 = one.ok ? { ...one.m, stdout: undefined } : one;
      // Warm, from the 2-worker index: unchanged, then after a one-line change in one file.
      const warm = await boundedCheck(contextArgs(2, index, step.trees), tree);
      if (warm.ok)
        rows.push([
          `warm re-check, nothing changed, --tree ${step.name}`,
          cell(warm.m),
          Math.round(warm.m.peakKiB / 1024),
          '',
        ]);
      json.warm = warm.ok ? { ...warm.m, stdout: undefined } : warm;
      // The edit goes into a symlink farm of the tree with that one file a real
      // copy: the unpacked tarball is shared and never written.
      const shadow = mkdtempSync(path.join(tmpdir(), 'iommufd-review-shadow-'));
      try {
        execFileSync('cp', ['-rs', `${path.resolve(tree)}/.`, shadow]);
        const edited = path.join(shadow, EDITED);
        const original = readFileSync(edited, 'utf8');
        rmSync(edited);
        writeFileSync(edited, original.replace('\n', '\n/* one line changed for the benchmark */\n'));
        const after = await boundedCheck(contextArgs(2, index, step.trees), shadow);
        if (after.ok)
          rows.push([
            `warm re-check, one line changed, --tree ${step.name}`,
            cell(after.m),
            Math.round(after.m.peakKiB / 1024),
            `${EDITED} (goal < 2000 ms)`,
          ]);
        json.warmEdit = after.ok ? { ...after.m, stdout: undefined } : after;
        // The same tree kept loaded (`check --watch`), from the changed file: three more saves that change that
        // comment's text in place (the global step is kept), each re-checked in the running process.
        const line = (words: string) => original.replace('\n', `\n/* ${words} */\n`);
        const watched = await watchedEdits(contextArgs(2, index, step.trees), shadow, edited, [
          line('one line changed again'),
          line('and a third time'),
          line('one line changed for the benchmark'),
        ]);
        rows.push(
          watched.ok
            ? [
                `--watch, that line changed 3 more times, --tree ${step.name}`,
                watched.ms.map((t) => ms(t)).join(' / '),
                Math.round(watched.peakKiB / 1024),
                `global step ${watched.kept.every(Boolean) ? 'kept' : 'redone'} (goal < 2000 ms); first answer ${ms(watched.firstMs)}`,
              ]
            : [`--watch, --tree ${step.name}`, '', '', `did not complete: ${watched.why}`],
        );
        json.watch = watched;
      } finally {
        rmSync(shadow, { recursive: true, force: true });
      }
    }
    await spatchRows(tree, rows, json);
  } finally {
    for (const i of indexes) rmSync(i, { recursive: true, force: true });
  }
  return { title, columns, rows, json };
}

/**
 * The table's rows, each also printed to stderr as it is measured: the
 * bench runs for tens of minutes, and a run stopped early still says what
 * it measured.
 */
function progressRows(): (string | number)[][] {
  const rows: (string | number)[][] = [];
  const push = rows.push.bind(rows);
  rows.push = (...items) => {
    for (const r of items) process.stderr.write(`[whole-tree] ${r.join(' | ')}\n`);
    return push(...items);
  };
  return rows;
}

function reportedFiles(m: Measured): number {
  return (JSON.parse(m.stdout) as { coverage: { files: number } }).coverage.files;
}

/** Coccinelle: the largest subtree it finishes within its budget, beside our check of it. */
async function spatchRows(tree: string, rows: (string | number)[][], json: Record<string, unknown>): Promise<void> {
  const mini = path.join(tree, 'scripts/coccinelle/locks/mini_lock.cocci');
  for (const sub of SUBTREES) {
    const t0 = Date.now();
    let cocci: Measured;
    try {
      cocci = timedRun(
        [
          'timeout',
          String(SPATCH_BUDGET_MS / 1000),
          'spatch',
          '--sp-file',
          mini,
          '-D',
          'report',
          '--no-includes',
          '--include-headers',
          '--jobs',
          '2',
          '--dir',
          sub,
        ],
        tree,
        (s) => s === 0,
      );
    } catch {
      rows.push([`spatch mini_lock.cocci --jobs 2, ${sub}`, `> ${Date.now() - t0}`, '', 'did not finish in 30 min']);
      break;
    }
    rows.push([`spatch mini_lock.cocci --jobs 2, ${sub}`, cell(cocci), Math.round(cocci.peakKiB / 1024), '']);
    const ours = await boundedCheck(['--jobs', '2', '--no-index', sub], tree);
    rows.push(
      ours.ok
        ? [
            `check --jobs 2 (cold, no index), ${sub}`,
            cell(ours.m),
            Math.round(ours.m.peakKiB / 1024),
            `spatch/check ${(cocci.wallMs / ours.m.wallMs).toFixed(2)}x`,
          ]
        : [`check --jobs 2 (cold, no index), ${sub}`, `> ${ms(ours.wallMs)}`, '', `did not complete: ${ours.why}`],
    );
    json[`spatch:${sub}`] = { ...cocci, stdout: undefined };
    json[`check:${sub}`] = ours.ok ? { ...ours.m, stdout: undefined } : ours;
  }
}

function mib(bytes: number): string {
  return (bytes / 1048576).toFixed(0);
}
