/**
 * `iommufd-review check` on the real corpus: bare parse vs full analysis,
 * cold CLI start to output, incremental re-analysis after one-line edits,
 * wasm vs native, and Coccinelle's lock scripts on the same files.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Engine } from '../../src/engine';
import { BACKENDS, DEFAULT_BULK_BACKEND, createParser } from '../../src/engine/node/create-parser';
import { ParsedDocuments } from '../../src/engine/parse/parsed-documents';
import type { Backend } from '../../src/engine/parse/syntax';
import type { AnalysisResult, SourceFile } from '../../src/engine/types';
import { benchFiles, checkPaths } from '../corpus/kernel-corpus';
import { measure, ms, ratio, summarise, wallCpu, type Timing } from './stats';

const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'dist/cli.js');

interface BackendNumbers {
  parse: Timing;
  analysis: Timing;
  /** analysis / bare parse, median of interleaved pairs (wall and CPU). */
  paired: { wall: number; cpu: number };
  cold: Timing;
  /** Cold check of the whole corpus of the real-thing test (all of vfio, i915 GVT, ...): the bulk case. */
  bulk: Timing;
  incremental: Timing;
  findings: number;
  edges: number;
}

async function analyseOnce(backend: Backend, files: SourceFile[]): Promise<AnalysisResult> {
  const parser = await createParser(backend);
  const engine = new Engine({ parser });
  try {
    for (const f of files) engine.setFile(f.path, f.text);
    return engine.analyze();
  } finally {
    engine.dispose();
  }
}

async function bareParse(backend: Backend, files: SourceFile[]): Promise<Timing> {
  const parser = await createParser(backend);
  const docs = new ParsedDocuments(parser, files.length + 1, 0);
  const t = await measure(() => {
    for (const f of files) docs.open(f.path, f.text);
    // Close each time so the next round parses again instead of hitting the cache.
    docs.dispose();
  });
  parser.dispose();
  return t;
}

async function fullAnalysis(backend: Backend, files: SourceFile[]): Promise<Timing> {
  return measure(() => analyseOnce(backend, files));
}

/**
 * analysis / bare parse as the median of interleaved pairs (a bare parse
 * round, then a full analysis round, again and again): load that comes and
 * goes on these shared machines hits both sides of a pair alike, where the
 * two blocks of rounds above can each catch a different spell of it.
 */
async function pairedRatio(backend: Backend, files: SourceFile[], pairs = 21): Promise<{ wall: number; cpu: number }> {
  const parser = await createParser(backend);
  const docs = new ParsedDocuments(parser, files.length + 1, 0);
  const parseRound = (): void => {
    for (const f of files) docs.open(f.path, f.text);
    docs.dispose();
  };
  const timed = async (fn: () => unknown): Promise<{ wall: number; cpu: number }> => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    return { wall, cpu: (c.user + c.system) / 1000 };
  };
  try {
    for (let i = 0; i < 3; i++) {
      parseRound();
      await analyseOnce(backend, files);
    }
    const walls: number[] = [];
    const cpus: number[] = [];
    for (let i = 0; i < pairs; i++) {
      const p = await timed(parseRound);
      const a = await timed(() => analyseOnce(backend, files));
      walls.push(a.wall / p.wall);
      cpus.push(a.cpu / p.cpu);
    }
    return { wall: summarise(walls).median, cpu: summarise(cpus).median };
  } finally {
    parser.dispose();
  }
}

/**
 * Runs a command under bash's `time` (output to /dev/null): wall time as seen
 * from here, CPU time (user + sys) of the child as bash reports it.
 */
function timedCommand(
  argv: string[],
  cwd: string,
  okStatus: (s: number) => boolean,
): { wall: number; cpu: number; stderr: string } {
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const script = `TIMEFORMAT='@@cpu %U %S'; time ( ${quoted} >/dev/null 2>/tmp/iommufd-review-bench.err; echo "@@status $?" >&2 )`;
  const t0 = performance.now();
  const r = spawnSync('bash', ['-c', script], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const wall = performance.now() - t0;
  const status = Number(/@@status (\d+)/.exec(r.stderr)?.[1] ?? -1);
  const cpuMatch = /@@cpu ([\d.]+) ([\d.]+)/.exec(r.stderr);
  if (!okStatus(status)) {
    let err = '';
    try {
      err = readFileSync('/tmp/iommufd-review-bench.err', 'utf8');
    } catch {
      // nothing captured
    }
    throw new Error(`${argv.join(' ').slice(0, 200)} exited ${status}: ${err.slice(0, 2000)}`);
  }
  return { wall, cpu: cpuMatch ? (Number(cpuMatch[1]) + Number(cpuMatch[2])) * 1000 : NaN, stderr: r.stderr };
}

function coldCheck(backend: Backend, paths: string[], reps = 10): Timing {
  const run = () =>
    timedCommand(
      [process.execPath, cli, 'check', '--format', 'json', '--no-index', '--backend', backend, ...paths],
      root,
      (s) => s === 0 || s === 1,
    );
  for (let i = 0; i < 2; i++) run();
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < reps; i++) {
    const r = run();
    walls.push(r.wall);
    cpus.push(r.cpu);
  }
  return summarise(walls, cpus);
}

/** Statement lines (tab-indented, ending in `;`) spread over the file. */
function editLines(text: string, count: number): number[] {
  const lines = text.split('\n');
  const candidates = lines.map((l, i) => (/^\t+[a-z_].*;\s*$/.test(l) ? i : -1)).filter((i) => i >= 0);
  const step = Math.max(1, Math.floor(candidates.length / count));
  return candidates.filter((_, i) => i % step === 0).slice(0, count);
}

function lineOffset(text: string, line: number): number {
  let off = 0;
  for (let i = 0; i < line; i++) off = text.indexOf('\n', off) + 1;
  return off;
}

/** One-line edits (insert a space at a statement's start, then take it out again), each followed by analyze(). */
async function incremental(backend: Backend, files: SourceFile[], target: SourceFile, edits: number): Promise<Timing> {
  const parser = await createParser(backend);
  const engine = new Engine({ parser });
  try {
    for (const f of files) engine.setFile(f.path, f.text);
    engine.analyze();
    const lines = editLines(target.text, Math.ceil(edits / 2));
    let text = target.text;
    const samples: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < edits + 4; i++) {
      const line = lines[Math.floor(i / 2) % lines.length];
      const start = lineOffset(text, line);
      const insert = i % 2 === 0;
      const replacement = insert
        ? { start, deletedLength: 0, inserted: ' ' }
        : { start, deletedLength: 1, inserted: '' };
      text = text.slice(0, start) + replacement.inserted + text.slice(start + replacement.deletedLength);
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      engine.editFile(target.path, [replacement]);
      engine.analyze();
      const t = performance.now() - t0;
      const c = process.cpuUsage(c0);
      // The first two edit pairs warm up.
      if (i >= 4) {
        samples.push(t);
        cpu.push((c.user + c.system) / 1000);
      }
    }
    return summarise(samples, cpu);
  } finally {
    engine.dispose();
  }
}

interface CocciNumbers {
  script: string;
  time: Timing;
  reports: number;
  byFile: Record<string, number>;
}

/** Coccinelle's lock scripts, `-D report`, over a copy of the same files laid out as in the tree. */
function coccinelle(kernel: string, files: string[]): CocciNumbers[] {
  const scripts = path.join(kernel, 'scripts/coccinelle/locks');
  const tree = mkdtempSync(path.join(tmpdir(), 'iommufd-review-cocci-'));
  try {
    for (const f of files) {
      const rel = path.relative(kernel, f);
      mkdirSync(path.dirname(path.join(tree, rel)), { recursive: true });
      copyFileSync(f, path.join(tree, rel));
    }
    const out: CocciNumbers[] = [];
    for (const script of readdirSync(scripts)
      .filter((n) => n.endsWith('.cocci'))
      .sort()) {
      // The options each script's header asks for, in report mode.
      const args = [
        '--sp-file',
        path.join(scripts, script),
        '-D',
        'report',
        '--no-includes',
        '--include-headers',
        '--dir',
        '.',
      ];
      // Once for its output, then timed runs.
      const r = spawnSync('spatch', args, { cwd: tree, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      if (r.error || r.status !== 0) throw new Error(`spatch ${script} failed: ${r.error ?? r.stderr}`);
      const walls: number[] = [];
      const cpus: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t = timedCommand(['spatch', ...args], tree, (s) => s === 0);
        walls.push(t.wall);
        cpus.push(t.cpu);
      }
      const reports = r.stdout.split('\n').filter((l) => /^\S+:\d+:\d+-\d+: /.test(l));
      const byFile: Record<string, number> = {};
      for (const r of reports) {
        const file = r.slice(0, r.indexOf(':')).replace(/^\.\//, '');
        byFile[file] = (byFile[file] ?? 0) + 1;
      }
      out.push({ script, time: summarise(walls, cpus), reports: reports.length, byFile });
    }
    return out;
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}

export async function run(ctx: { kernelDir: string }) {
  const paths = benchFiles(ctx.kernelDir);
  const files: SourceFile[] = paths.map((p) => ({ path: p, text: readFileSync(p, 'utf8') }));
  const bytes = paths.reduce((n, p) => n + statSync(p).size, 0);
  const target = files.reduce((a, b) => (b.text.length > a.text.length ? b : a));
  const bulkPaths = checkPaths(ctx.kernelDir);
  const EDITS = 60;

  const numbers = {} as Record<Backend, BackendNumbers>;
  for (const backend of BACKENDS) {
    const result = await analyseOnce(backend, files);
    numbers[backend] = {
      parse: await bareParse(backend, files),
      analysis: await fullAnalysis(backend, files),
      paired: await pairedRatio(backend, files),
      cold: coldCheck(backend, paths),
      bulk: coldCheck(backend, bulkPaths, 5),
      incremental: await incremental(backend, files, target, EDITS),
      findings: result.findings.length,
      edges: result.lockGraph.edges.length,
    };
  }
  const cocci = coccinelle(ctx.kernelDir, paths);
  const cocciTotal = cocci.reduce((n, c) => n + c.time.median, 0);
  const cocciCpu = cocci.reduce((n, c) => n + (c.time.cpuMedian ?? NaN), 0);
  const w = numbers.wasm;
  const n = numbers.native;
  const cpuRatio = (a: Timing, b: Timing) =>
    a.cpuMedian !== undefined && b.cpuMedian !== undefined ? `, cpu ${ratio(a.cpuMedian, b.cpuMedian)}` : '';
  const def = numbers[DEFAULT_BULK_BACKEND];
  const rows: (string | number)[][] = [
    ['files / bytes', `${files.length} / ${bytes}`, `${files.length} / ${bytes}`, '', ''],
    ['warm bare parse, median ms (cpu ms)', wallCpu(w.parse), wallCpu(n.parse), '', ''],
    [
      'warm full analysis (parse + model + checks), median ms (cpu ms)',
      wallCpu(w.analysis),
      wallCpu(n.analysis),
      '',
      '',
    ],
    [
      'analysis / bare parse',
      ratio(w.analysis.median, w.parse.median) + cpuRatio(w.analysis, w.parse),
      ratio(n.analysis.median, n.parse.median) + cpuRatio(n.analysis, n.parse),
      '',
      '<= 2x',
    ],
    [
      'analysis / bare parse, median of 21 interleaved pairs',
      `${w.paired.wall.toFixed(2)}x, cpu ${w.paired.cpu.toFixed(2)}x`,
      `${n.paired.wall.toFixed(2)}x, cpu ${n.paired.cpu.toFixed(2)}x`,
      '',
      '<= 2x',
    ],
    [
      'cold `node dist/cli.js check`, start to output, median ms (cpu ms)',
      wallCpu(w.cold),
      wallCpu(n.cold),
      '',
      '< 600',
    ],
    ['cold check, p95 ms', wallCpu(w.cold, 'p95'), wallCpu(n.cold, 'p95'), '', ''],
    [
      'bulk: cold check of the whole test corpus (iommufd, vfio, GVT, ccw, ap), median ms (cpu ms)',
      wallCpu(w.bulk),
      wallCpu(n.bulk),
      '',
      '',
    ],
    [
      `one-line edit in ${path.basename(target.path)} + re-analysis, p50 ms (cpu ms), ${EDITS} edits`,
      wallCpu(w.incremental),
      wallCpu(n.incremental),
      '',
      '',
    ],
    [
      'one-line edit + re-analysis, p95 ms',
      wallCpu(w.incremental, 'p95'),
      wallCpu(n.incremental, 'p95'),
      '',
      'p95 < 10',
    ],
    ['native / wasm: bare parse', '', ratio(n.parse.median, w.parse.median) + cpuRatio(n.parse, w.parse), '', ''],
    [
      'native / wasm: full analysis',
      '',
      ratio(n.analysis.median, w.analysis.median) + cpuRatio(n.analysis, w.analysis),
      '',
      '',
    ],
    ['native / wasm: cold check', '', ratio(n.cold.median, w.cold.median) + cpuRatio(n.cold, w.cold), '', ''],
    ['native / wasm: bulk cold check', '', ratio(n.bulk.median, w.bulk.median) + cpuRatio(n.bulk, w.bulk), '', ''],
    ['findings / lock graph edges', `${w.findings} / ${w.edges}`, `${n.findings} / ${n.edges}`, '', ''],
    ...cocci.map((c) => [
      `spatch locks/${c.script} -D report: median ms (cpu ms) / reports`,
      '',
      '',
      `${wallCpu(c.time)} / ${c.reports}`,
      '',
    ]),
    ['spatch, all 4 lock scripts, ms (cpu ms)', '', '', `${ms(cocciTotal)} (cpu ${ms(cocciCpu)})`, ''],
    [
      `spatch (4 scripts) / cold check (${DEFAULT_BULK_BACKEND})`,
      '',
      '',
      `${ratio(cocciTotal, def.cold.median)}${def.cold.cpuMedian ? `, cpu ${ratio(cocciCpu, def.cold.cpuMedian)}` : ''}`,
      '',
    ],
  ];
  return {
    title: `check on Linux 6.12 (${files.length} files, ${Math.round(bytes / 1024)} KB): iommufd-review vs Coccinelle lock scripts`,
    columns: ['measurement', 'wasm', 'native', 'spatch', 'goal'],
    rows,
    json: {
      files: paths.map((p) => path.relative(ctx.kernelDir, p)),
      bytes,
      editedFile: path.relative(ctx.kernelDir, target.path),
      bulkArgs: bulkPaths.map((p) => path.relative(ctx.kernelDir, p)),
      defaultBackend: DEFAULT_BULK_BACKEND,
      backends: numbers,
      coccinelle: cocci,
    },
  };
}
