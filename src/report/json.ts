/**
 * The JSON report: exactly the documented shape (issue 2, docs/cli.md), with
 * keys in a fixed order so output diffs cleanly between runs. Lines are 1-based.
 */
import type { AnalysisResult, Coverage, Finding, LockEdge, Scenario } from '../engine/types';

export interface JsonFinding {
  ruleId: string;
  severity: string;
  confidence: string;
  message: string;
  file: string;
  line: number;
  column: number;
  function: string;
  fingerprint: string;
  related: { file: string; line: number; message: string }[];
  scenario: Scenario;
}

export interface JsonReport {
  findings: JsonFinding[];
  lockGraph: { edges: { from: string; to: string; sites: { file: string; line: number }[] }[] };
  coverage: Coverage;
}

export function jsonFinding(f: Finding): JsonFinding {
  return {
    ruleId: f.ruleId,
    severity: f.severity,
    confidence: f.confidence,
    message: f.message,
    file: f.file,
    line: f.line,
    column: f.column,
    function: f.function,
    fingerprint: f.fingerprint,
    related: f.related.map((r) => ({ file: r.file, line: r.line, message: r.message })),
    scenario: f.scenario,
  };
}

function jsonEdge(e: LockEdge): JsonReport['lockGraph']['edges'][number] {
  return { from: e.from, to: e.to, sites: e.sites.map((s) => ({ file: s.file, line: s.line })) };
}

export function toJsonReport(result: AnalysisResult): JsonReport {
  return {
    findings: result.findings.map(jsonFinding),
    lockGraph: { edges: result.lockGraph.edges.map(jsonEdge) },
    coverage: {
      files: result.coverage.files,
      functions: { ...result.coverage.functions },
      entries: result.coverage.entries.map((e) => ({ ...e })),
      problems: result.coverage.problems.map((p) => ({ ...p })),
    },
  };
}

export function formatJson(result: AnalysisResult): string {
  return JSON.stringify(toJsonReport(result), null, 2) + '\n';
}
