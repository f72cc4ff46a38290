/**
 * SARIF 2.1.0 output, for GitHub code scanning, VS Code's SARIF viewer and
 * CI dashboards. The small builders (sarifLog, physicalLocation, ...) are
 * exported so other reports (the simulator's codeFlows/threadFlows) compose
 * the same log shape instead of re-deriving it.
 */
import type * as Sarif from 'sarif';
import type { AnalysisResult, Finding, RuleId, Severity } from '../engine/types';
import { RULE_INFO, ruleHelpUri } from './rule-info';

export const SARIF_VERSION = '2.1.0' as const;
export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';
export const TOOL_NAME = 'iommufd-review';
/** partialFingerprints key: bump the version if the fingerprint recipe changes. */
export const FINGERPRINT_KEY = 'iommufdReview/v1';

export interface SarifOptions {
  toolVersion: string;
  /**
   * Absolute URI of docs/engine.md; each rule's helpUri is this plus
   * `#<rule-id>`. SARIF requires an absolute URI here.
   */
  docsBaseUri: string;
}

/** The top-level log around one or more runs. */
export function sarifLog(runs: Sarif.Run[]): Sarif.Log {
  return { $schema: SARIF_SCHEMA_URI, version: SARIF_VERSION, runs };
}

/**
 * A file path as a SARIF artifact URI: relative paths stay relative references
 * (each segment percent-encoded), absolute ones become file:// URIs.
 */
export function artifactUri(file: string): string {
  const normalised = file.replace(/\\/g, '/');
  const encoded = normalised
    .split('/')
    .map((seg) => encodeURIComponent(seg))
    .join('/');
  return normalised.startsWith('/') ? `file://${encoded}` : encoded;
}

/** A place in a file; line and column are 1-based, column optional. */
export function physicalLocation(file: string, line: number, column?: number): Sarif.PhysicalLocation {
  const region: Sarif.Region = { startLine: Math.max(1, line) };
  if (column !== undefined && column >= 1) region.startColumn = column;
  return { artifactLocation: { uri: artifactUri(file) }, region };
}

/** A location with an optional message (related locations, thread flow steps). */
export function sarifLocation(
  file: string,
  line: number,
  column?: number,
  message?: string,
  id?: number,
): Sarif.Location {
  const loc: Sarif.Location = { physicalLocation: physicalLocation(file, line, column) };
  if (id !== undefined) loc.id = id;
  if (message !== undefined) loc.message = { text: message };
  return loc;
}

export function sarifLevel(severity: Severity): Sarif.Result.level {
  return severity;
}

/** tool.driver with a reportingDescriptor for every rule id, in RULE_IDS order. */
export function sarifTool(options: SarifOptions): Sarif.Tool {
  return {
    driver: {
      name: TOOL_NAME,
      version: options.toolVersion,
      semanticVersion: options.toolVersion,
      informationUri: options.docsBaseUri,
      rules: RULE_INFO.map((r) => ({
        id: r.id,
        name: r.name,
        shortDescription: { text: r.shortDescription },
        helpUri: ruleHelpUri(r.id, options.docsBaseUri),
        defaultConfiguration: { level: r.defaultLevel },
      })),
    },
  };
}

export function ruleIndex(id: RuleId): number {
  return RULE_INFO.findIndex((r) => r.id === id);
}

/** One finding as a SARIF result (no codeFlows: the simulator report adds those). */
export function sarifResult(f: Finding): Sarif.Result {
  const region = physicalLocation(f.file, f.line, f.column);
  if (f.endLine !== undefined && region.region) {
    region.region.endLine = f.endLine;
    if (f.endColumn !== undefined) region.region.endColumn = f.endColumn;
  }
  return {
    ruleId: f.ruleId,
    ruleIndex: ruleIndex(f.ruleId),
    level: sarifLevel(f.severity),
    message: { text: f.message },
    locations: [{ physicalLocation: region, logicalLocations: [{ name: f.function, kind: 'function' }] }],
    relatedLocations: f.related.map((r, i) => sarifLocation(r.file, r.line, undefined, r.message, i + 1)),
    partialFingerprints: { [FINGERPRINT_KEY]: f.fingerprint },
    properties: { confidence: f.confidence, function: f.function, scenario: f.scenario },
  };
}

/** One run over an analysis: results, coverage and lock graph as run properties, file problems as notifications. */
export function sarifRun(result: AnalysisResult, options: SarifOptions): Sarif.Run {
  const notifications: Sarif.Notification[] = result.coverage.problems.map((p) => ({
    level: 'warning',
    message: { text: p.message },
    locations: [{ physicalLocation: { artifactLocation: { uri: artifactUri(p.file) } } }],
  }));
  return {
    tool: sarifTool(options),
    invocations: [{ executionSuccessful: true, toolExecutionNotifications: notifications }],
    results: result.findings.map(sarifResult),
    properties: { coverage: result.coverage, lockGraph: result.lockGraph },
  };
}

export function toSarif(result: AnalysisResult, options: SarifOptions): Sarif.Log {
  return sarifLog([sarifRun(result, options)]);
}

export function formatSarif(result: AnalysisResult, options: SarifOptions): string {
  return JSON.stringify(toSarif(result, options), null, 2) + '\n';
}
