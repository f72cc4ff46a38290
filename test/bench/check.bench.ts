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
import { benchFiles } from '../corpus/kernel-corpus';
import { measure, ms, ratio, summarise, type Timing } from './stats';

const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'dist/cli.js');

interface BackendNumbers {
  parse: Timing;
  analysis: Timing;
  cold: Timing;
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

function coldCheck(backend: Backend, paths: string[]): Timing {
  const run = () => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [cli, 'check', '--format', 'json', '--backend', backend, ...paths], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const t = performance.now() - t0;
    if (r.status !== 0 && r.status !== 1) throw new Error(`check exited ${r.status}: ${r.stderr}`);
    return t;
  };
  for (let i = 0; i < 2; i++) run();
  const samples: number[] = [];
  for (let i = 0; i < 10; i++) samples.push(run());
  return summarise(samples);
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
    for (let i = 0; i < edits + 4; i++) {
      const line = lines[Math.floor(i / 2) % lines.length];
      const start = lineOffset(text, line);
      const insert = i % 2 === 0;
      const replacement = insert ? { start, deletedLength: 0, inserted: ' ' } : { start, deletedLength: 1, inserted: '' };
      text = text.slice(0, start) + replacement.inserted + text.slice(start + replacement.deletedLength);
      const t0 = performance.now();
      engine.editFile(target.path, [replacement]);
      engine.analyze();
      const t = performance.now() - t0;
      if (i >= 4) samples.push(t); // the first two edit pairs warm up
    }
    return summarise(samples);
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
    for (const script of readdirSync(scripts).filter((n) => n.endsWith('.cocci')).sort()) {
      // The options each script's header asks for, in report mode.
      const args = ['--sp-file', path.join(scripts, script), '-D', 'report', '--no-includes', '--include-headers', '--dir', '.'];
      let stdout = '';
      const run = () => {
        const t0 = performance.now();
        const r = spawnSync('spatch', args, { cwd: tree, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
        const t = performance.now() - t0;
        if (r.error || r.status !== 0) throw new Error(`spatch ${script} failed: ${r.error ?? r.stderr}`);
        stdout = r.stdout;
        return t;
      };
      run();
      const samples = [run(), run(), run()];
      const reports = stdout.split('\n').filter((l) => /^\S+:\d+:\d+-\d+: /.test(l));
      const byFile: Record<string, number> = {};
      for (const r of reports) {
        const file = r.slice(0, r.indexOf(':')).replace(/^\.\//, '');
        byFile[file] = (byFile[file] ?? 0) + 1;
      }
      out.push({ script, time: summarise(samples), reports: reports.length, byFile });
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
  const EDITS = 60;

  const numbers = {} as Record<Backend, BackendNumbers>;
  for (const backend of BACKENDS) {
    const result = await analyseOnce(backend, files);
    numbers[backend] = {
      parse: await bareParse(backend, files),
      analysis: await fullAnalysis(backend, files),
      cold: coldCheck(backend, paths),
      incremental: await incremental(backend, files, target, EDITS),
      findings: result.findings.length,
      edges: result.lockGraph.edges.length,
    };
  }
  const cocci = coccinelle(ctx.kernelDir, paths);
  const cocciTotal = cocci.reduce((n, c) => n + c.time.median, 0);
  const w = numbers.wasm;
  const n = numbers.native;
  const rows: (string | number)[][] = [
    ['files / bytes', `${files.length} / ${bytes}`, `${files.length} / ${bytes}`, '', ''],
    ['warm bare parse, median ms', ms(w.parse.median), ms(n.parse.median), '', ''],
    ['warm full analysis (parse + model + checks), median ms', ms(w.analysis.median), ms(n.analysis.median), '', ''],
    ['analysis / bare parse', ratio(w.analysis.median, w.parse.median), ratio(n.analysis.median, n.parse.median), '', '<= 2x'],
    ['cold `node dist/cli.js check` start to output, median ms', ms(w.cold.median), ms(n.cold.median), '', '< 600'],
    ['cold check, p95 ms', ms(w.cold.p95), ms(n.cold.p95), '', ''],
    [`one-line edit in ${path.basename(target.path)} + re-analysis, p50 ms (${EDITS} edits)`, ms(w.incremental.median), ms(n.incremental.median), '', ''],
    ['one-line edit + re-analysis, p95 ms', ms(w.incremental.p95), ms(n.incremental.p95), '', 'p95 < 10'],
    ['native / wasm: bare parse', '', ratio(n.parse.median, w.parse.median), '', ''],
    ['native / wasm: full analysis', '', ratio(n.analysis.median, w.analysis.median), '', ''],
    ['findings / lock graph edges', `${w.findings} / ${w.edges}`, `${n.findings} / ${n.edges}`, '', ''],
    ...cocci.map((c) => [`coccinelle locks/${c.script} -D report: median ms / reports`, '', '', `${ms(c.time.median)} / ${c.reports}`, '']),
    ['coccinelle, all 4 lock scripts, ms', '', '', ms(cocciTotal), ''],
    [`spatch (4 scripts) / cold check (${DEFAULT_BULK_BACKEND})`, '', '', ratio(cocciTotal, numbers[DEFAULT_BULK_BACKEND].cold.median), ''],
  ];
  return {
    title: `check on Linux 6.12 (${files.length} files, ${Math.round(bytes / 1024)} KB): iommufd-review vs Coccinelle lock scripts`,
    columns: ['measurement', 'wasm', 'native', 'spatch', 'goal'],
    rows,
    json: {
      files: paths.map((p) => path.relative(ctx.kernelDir, p)),
      bytes,
      editedFile: path.relative(ctx.kernelDir, target.path),
      defaultBackend: DEFAULT_BULK_BACKEND,
      backends: numbers,
      coccinelle: cocci,
    },
  };
}
