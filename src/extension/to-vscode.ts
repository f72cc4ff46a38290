/** Engine findings → VS Code diagnostics, and the arguments of the Simulate command. */
import * as vscode from 'vscode';
import type { Finding, RelatedLocation, RuleId, Scenario, Severity } from '../engine/types';
import { uriOfKey } from './analysis/paths';
import { ruleHeadingLine } from './rule-docs';

export const DIAGNOSTIC_SOURCE = 'iommufd';

/** What the Simulate command receives: JSON-safe, so it also travels in command URIs. */
export interface SimulateArgs {
  scenario: Scenario;
  ruleId: RuleId;
  function: string;
  message: string;
  file: string;
  line: number;
  /** The witness the simulation replays. */
  related: RelatedLocation[];
}

export function simulateArgs(f: Finding): SimulateArgs {
  return {
    scenario: f.scenario,
    ruleId: f.ruleId,
    function: f.function,
    message: f.message,
    file: f.file,
    line: f.line,
    related: f.related,
  };
}

/** Findings whose function the repair search can edit: a replace helper the simulator replays from source. */
export function hasVerifiedFixSearch(a: Pick<SimulateArgs, 'scenario'>): boolean {
  return a.scenario.variant === 'from-source' && !!a.scenario.function;
}

/** `command:` URI for hovers and markdown. */
export function simulateCommandUri(f: Finding): vscode.Uri {
  return vscode.Uri.parse(`command:iommufd.simulateFinding?${encodeURIComponent(JSON.stringify([simulateArgs(f)]))}`);
}

/** The rule's section of docs/engine.md, shipped inside the extension: its heading line once known. */
export function ruleDocsUri(extensionUri: vscode.Uri, ruleId: RuleId): vscode.Uri {
  const line = ruleHeadingLine(ruleId);
  return vscode.Uri.joinPath(extensionUri, 'docs', 'engine.md').with({ fragment: line ? `L${line}` : ruleId });
}

const SEVERITY: Record<Severity, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  note: vscode.DiagnosticSeverity.Information,
};

/** The range of a finding: its own end when it has one, else the rest of the line's code. */
export function findingRange(
  doc: vscode.TextDocument | undefined,
  line: number,
  column: number,
  endLine?: number,
  endColumn?: number,
): vscode.Range {
  const l = Math.max(0, line - 1);
  const c = Math.max(0, column - 1);
  if (
    endLine !== undefined &&
    endColumn !== undefined &&
    (endLine > line || (endLine === line && endColumn > column))
  ) {
    return new vscode.Range(l, c, endLine - 1, endColumn - 1);
  }
  if (doc && l < doc.lineCount) {
    const text = doc.lineAt(l).text;
    const end = text.trimEnd().length;
    return new vscode.Range(l, Math.min(c, end), l, Math.max(end, Math.min(c, end) + 1));
  }
  return new vscode.Range(l, c, l, c + 1);
}

export function toDiagnostic(
  f: Finding,
  extensionUri: vscode.Uri,
  doc: vscode.TextDocument | undefined,
  at?: { line: number; column: number; suffix?: string },
): vscode.Diagnostic {
  const range = at
    ? findingRange(doc, at.line, at.column)
    : findingRange(doc, f.line, f.column, f.endLine, f.endColumn);
  const confidence = f.confidence === 'high' ? '' : ` [${f.confidence} confidence]`;
  const d = new vscode.Diagnostic(range, `${f.message}${confidence}${at?.suffix ?? ''}`, SEVERITY[f.severity]);
  d.source = DIAGNOSTIC_SOURCE;
  d.code = { value: f.ruleId, target: ruleDocsUri(extensionUri, f.ruleId) };
  d.relatedInformation = f.related.map(
    (r) =>
      new vscode.DiagnosticRelatedInformation(
        new vscode.Location(uriOfKey(r.file), new vscode.Position(Math.max(0, r.line - 1), 0)),
        r.message,
      ),
  );
  return d;
}
