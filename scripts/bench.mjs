// `npm run bench` (after the build): runs every benchmark module compiled from
// test/bench/*.bench.ts, prints each section as a table and writes all of them
// to bench-results/bench.json. A benchmark, not a test: it reports numbers and
// the goals they are measured against, it does not fail on them.
//
// A module exports `async function run(ctx: { kernelDir }): Promise<{ title,
// columns, rows, json }>`. `node scripts/bench.mjs PATTERN...` runs only the
// modules whose file name contains one of the patterns.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ensureApt, ensureKernelCorpus } from './ensure.mjs';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const benchDir = path.join(root, 'out/test/bench');
const patterns = process.argv.slice(2);

/** Renders rows under their columns, numbers right-aligned. */
export function renderTable(columns, rows) {
  const cells = [
    columns.map(String),
    ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c)))),
  ];
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = columns.map(
    (_, i) =>
      rows.length > 0 &&
      rows.every((r) => typeof r[i] === 'number' || r[i] === '' || r[i] === null || r[i] === undefined),
  );
  const line = (r) =>
    r
      .map((c, i) => (numeric[i] ? (c ?? '').padStart(widths[i]) : (c ?? '').padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

const kernelDir = ensureKernelCorpus();
// The check section runs Coccinelle's lock scripts side by side.
ensureApt(['coccinelle'], () => spawnSync('sh', ['-c', 'command -v spatch'], { stdio: 'ignore' }).status === 0);
if (!existsSync(benchDir)) {
  console.error(`no compiled benchmarks in ${path.relative(root, benchDir)}: run node scripts/build.mjs first`);
  process.exit(1);
}
const modules = readdirSync(benchDir)
  .filter((n) => n.endsWith('.bench.js'))
  .filter((n) => patterns.length === 0 || patterns.some((p) => n.includes(p)))
  .sort();

const report = {
  date: new Date().toISOString(),
  machine: {
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? '',
  },
  kernelDir,
  sections: {},
};
let failed = 0;
for (const name of modules) {
  const id = name.replace(/\.bench\.js$/, '');
  try {
    const mod = require(path.join(benchDir, name));
    const section = await mod.run({ kernelDir });
    console.log(`\n## ${section.title}\n`);
    console.log(renderTable(section.columns, section.rows));
    report.sections[id] = { title: section.title, columns: section.columns, rows: section.rows, json: section.json };
  } catch (e) {
    failed++;
    console.error(`\n## ${id}: FAILED\n${e?.stack ?? e}`);
    report.sections[id] = { error: String(e?.stack ?? e) };
  }
}
mkdirSync(path.join(root, 'bench-results'), { recursive: true });
writeFileSync(path.join(root, 'bench-results/bench.json'), JSON.stringify(report, null, 2) + '\n');
console.log(
  `\nwrote bench-results/bench.json (${modules.length} section${modules.length === 1 ? '' : 's'}${failed ? `, ${failed} failed` : ''})`,
);
process.exitCode = failed ? 1 : 0;
