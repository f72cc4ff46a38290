/**
 * Compiler-style text, the way gcc and sparse print, so editors and `make`
 * consumers jump to it: `file:line:col: warning: [rule] message`, then the
 * witness as indented `file:line: note: ...` lines, then what was covered.
 */
import type { AnalysisResult, Coverage, Finding, LockGraph } from '../engine/types';

export interface TextOptions {
  /** List every partial function too, not only skipped ones (default false). */
  verbose?: boolean;
  /** Print the lock-class graph (every edge with up to 3 sites) before the summary. */
  lockGraph?: boolean;
}

/** `lock-graph: A -> B (file:line, ...)`, one edge a line, in the engine's order. */
export function formatLockGraph(graph: LockGraph, maxSites = 3): string[] {
  return graph.edges.map((e) => {
    const sites = e.sites.slice(0, maxSites).map((s) => `${s.file}:${s.line}`);
    if (e.sites.length > maxSites) sites.push(`${e.sites.length - maxSites} more`);
    return `lock-graph: ${e.from} -> ${e.to} (${sites.join(', ')})`;
  });
}

export function formatFinding(f: Finding): string {
  const head = `${f.file}:${f.line}:${f.column}: ${f.severity}: [${f.ruleId}] ${f.message} (confidence: ${f.confidence}; in ${f.function}())`;
  const witness = f.related.map((r) => `  ${r.file}:${r.line}: note: ${r.message}`);
  return [head, ...witness].join('\n');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** One line: how much was analysed, so a clean result can be trusted or not. */
export function coverageSummary(c: Coverage): string {
  const { parsed, partial, skipped } = c.functions;
  let line = `coverage: ${plural(c.files, 'file')}, ${plural(parsed + partial + skipped, 'function')}: ${parsed} parsed, ${partial} partial, ${skipped} skipped`;
  if (c.problems.length > 0) line += `; ${plural(c.problems.length, 'file problem')}`;
  return line;
}

/** Problems and unanalysed functions, as `note:` lines. */
export function coverageNotes(c: Coverage, options: TextOptions = {}): string[] {
  const out = c.problems.map((p) => `${p.file}: note: ${p.message}`);
  for (const e of c.entries) {
    if (e.status === 'skipped' || (options.verbose && e.status === 'partial')) {
      out.push(`${e.file}:${e.line}: note: ${e.function}() ${e.status}${e.reason ? `: ${e.reason}` : ''}`);
    }
  }
  return out;
}

export function formatText(result: AnalysisResult, options: TextOptions = {}): string {
  const blocks = result.findings.map(formatFinding);
  const notes = coverageNotes(result.coverage, options);
  const lines = [...blocks, ...notes, ...(options.lockGraph ? formatLockGraph(result.lockGraph) : [])];
  lines.push(`${plural(result.findings.length, 'finding')}; ${coverageSummary(result.coverage)}`);
  return lines.join('\n') + '\n';
}
