/**
 * Engine and patch findings → LSP objects: diagnostics (rule id as code with
 * a link to the rule's documentation, the witness as related information),
 * hovers, code lenses and code actions. Message text and rule descriptions
 * come from the engine and src/report; nothing here words a finding anew.
 */
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type {
  CodeAction,
  CodeLens,
  Diagnostic,
  DiagnosticSeverity,
  Hover,
  Range,
  TextEdit,
} from 'vscode-languageserver';
import type { LineReplacement } from '../sim/repair';
import type { Finding, Severity } from '../engine/types';
import type { FindingStatus, PatchFinding, PatchRelatedLocation } from '../patch/types';
import { ruleHelpUri, ruleInfo } from '../report/rule-info';
import { formatFinding } from '../report/text';
import {
  APPLY_VERIFIED_FIX_COMMAND,
  COPY_FINDING_COMMAND,
  SIMULATE_COMMAND,
  simulateArgs,
  VERIFIED_FIX_KIND,
  type FindingData,
  type VerifiedFixData,
} from './protocol';
import { uriOfKey } from './uris';

export const DIAGNOSTIC_SOURCE = 'iommufd';

const SEVERITY: Record<Severity, DiagnosticSeverity> = { error: 1, warning: 2, note: 3 };
const INFORMATION: DiagnosticSeverity = 3;
const HINT: DiagnosticSeverity = 4;

const STATUS_LABEL: Record<FindingStatus, string> = {
  introduced: 'introduced by this patch',
  fixed: 'fixed by this patch',
  unchanged: 'already there before this patch',
};

/** A finding as shown in one document: on `line` (1-based) of that document. */
export interface Placed {
  finding: Finding | PatchFinding;
  line: number;
  column: number;
}

function isPatchFinding(f: Finding | PatchFinding): f is PatchFinding {
  return 'status' in f;
}

/** The finding's own range when it has one, else the rest of the line's code. */
export function findingRange(
  doc: TextDocument | undefined,
  line: number,
  column: number,
  endLine?: number,
  endColumn?: number,
): Range {
  const l = Math.max(0, line - 1);
  const c = Math.max(0, column - 1);
  if (
    endLine !== undefined &&
    endColumn !== undefined &&
    (endLine > line || (endLine === line && endColumn > column))
  ) {
    return { start: { line: l, character: c }, end: { line: endLine - 1, character: endColumn - 1 } };
  }
  if (doc && l < doc.lineCount) {
    const text = doc
      .getText({ start: { line: l, character: 0 }, end: { line: l + 1, character: 0 } })
      .replace(/\r?\n$/, '');
    const end = text.trimEnd().length;
    return {
      start: { line: l, character: Math.min(c, end) },
      end: { line: l, character: Math.max(end, Math.min(c, end) + 1) },
    };
  }
  return { start: { line: l, character: c }, end: { line: l, character: c + 1 } };
}

/**
 * Where a witness step is shown: in a patch mail, on the patch's own line
 * when the patch shows it, else in the base tree's file when there is one,
 * else on the finding's own patch line (the message names file and line).
 */
function relatedLocation(r: PatchRelatedLocation, p: Placed, patch?: PatchContext): { uri: string; line: number } {
  if (!patch) return { uri: uriOfKey(r.file), line: r.line };
  if (r.patchLine) return { uri: patch.uri, line: r.patchLine };
  if (patch.root) return { uri: uriOfKey(`${patch.root}/${r.file}`), line: r.line };
  return { uri: patch.uri, line: p.line };
}

/** The patch document a finding is shown in, and the tree it was reviewed against. */
export interface PatchContext {
  uri: string;
  root?: string;
}

export function toDiagnostic(
  p: Placed,
  doc: TextDocument | undefined,
  docsBaseUri: string,
  patch?: PatchContext,
): Diagnostic {
  const f = p.finding;
  const confidence = f.confidence === 'high' ? '' : ` [${f.confidence} confidence]`;
  let message = `${f.message}${confidence}`;
  let severity = SEVERITY[f.severity];
  let range: Range;
  const d: Partial<Diagnostic> = {};
  if (isPatchFinding(f)) {
    range = findingRange(doc, p.line, p.column);
    const partial = f.context === 'partial' ? ' (patch-only analysis: partial context, confidence capped)' : '';
    message += ` — ${STATUS_LABEL[f.status]}${partial}`;
    if (f.status === 'fixed') {
      severity = INFORMATION;
      d.tags = [1]; // Unnecessary: shown faded
    }
    if (f.status === 'unchanged') severity = HINT;
  } else {
    range = findingRange(doc, f.line, f.column, f.endLine, f.endColumn);
  }
  return {
    ...d,
    range,
    severity,
    source: DIAGNOSTIC_SOURCE,
    code: f.ruleId,
    codeDescription: { href: ruleHelpUri(f.ruleId, docsBaseUri) },
    message,
    relatedInformation: f.related.map((r) => {
      const at = relatedLocation(r, p, isPatchFinding(f) ? patch : undefined);
      const line = Math.max(0, at.line - 1);
      return {
        location: { uri: at.uri, range: { start: { line, character: 0 }, end: { line, character: 0 } } },
        message: r.message,
      };
    }),
    data: { fingerprint: f.fingerprint, finding: f } satisfies FindingData,
  };
}

/** A problem with the input (not analysed, partly reviewed), said in words, on its line or the first. */
export function noteDiagnostic(message: string, line = 1): Diagnostic {
  const l = Math.max(0, line - 1);
  return {
    range: { start: { line: l, character: 0 }, end: { line: l, character: 1 } },
    severity: SEVERITY.warning,
    source: DIAGNOSTIC_SOURCE,
    code: 'input',
    message,
  };
}

/** `command:` link for Markdown (VS Code runs it; other clients show the text, so it stays short: no message). */
function simulateLink(f: Finding): string {
  const { message: _omitted, ...args } = simulateArgs(f);
  return `command:${SIMULATE_COMMAND}?${encodeURIComponent(JSON.stringify([args]))}`;
}

function escapeMarkdown(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);
}

/**
 * The hover of a finding's line. The diagnostic already shows the message and
 * the witness, so the hover says what the diagnostic cannot: Simulate first,
 * then the rule, its one-line description and its documentation.
 */
export function hoverFor(placed: readonly Placed[], docsBaseUri: string): Hover | undefined {
  if (placed.length === 0) return undefined;
  const parts = placed.map(({ finding: f }) => {
    const info = ruleInfo(f.ruleId);
    const status = isPatchFinding(f) ? ` · ${f.status} by this patch` : '';
    return [
      `[▶ Simulate](${simulateLink(f)} "Open the simulator on this finding's scenario") ${escapeMarkdown(f.scenario.variant)} scenario of \`${f.function}()\``,
      '',
      `**${f.ruleId}** · ${f.severity} · ${f.confidence} confidence${status} · [${info.name}](${ruleHelpUri(f.ruleId, docsBaseUri)} "The rule's documentation")`,
      '',
      escapeMarkdown(info.shortDescription),
    ].join('\n');
  });
  return { contents: { kind: 'markdown', value: parts.join('\n\n---\n\n') } };
}

export function codeLensFor(p: Placed, doc: TextDocument | undefined): CodeLens {
  const l = Math.min(Math.max(0, p.line - 1), Math.max(0, (doc?.lineCount ?? 1) - 1));
  return {
    range: { start: { line: l, character: 0 }, end: { line: l, character: 0 } },
    command: {
      title: `▶ Simulate ${p.finding.ruleId} (${p.finding.scenario.variant})`,
      command: SIMULATE_COMMAND,
      arguments: [simulateArgs(p.finding)],
    },
  };
}

export const COPY_KIND = 'iommufd.copy';

/** No rule has a source edit that is safe without understanding the code: the action copies the finding for a reply. */
export function copyActionFor(p: Placed, diagnostic: Diagnostic | undefined): CodeAction {
  const title = 'Copy the finding for a review reply';
  return {
    title,
    kind: COPY_KIND,
    ...(diagnostic ? { diagnostics: [diagnostic] } : {}),
    command: { title, command: COPY_FINDING_COMMAND, arguments: [formatFinding(p.finding)] },
  };
}

/**
 * The repair search's line replacements (1-based, inclusive; `end < start`
 * inserts before `start`) as text edits of `text`, in its own line endings.
 * The last line of a file without a final newline keeps having none.
 */
export function lineEdits(text: string, replacements: readonly LineReplacement[]): TextEdit[] {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(/\r?\n/);
  const lineCount = lines.length;
  return replacements.map((r) => {
    const body = r.lines.map((l) => l + eol).join('');
    if (r.end < r.start) {
      const at = { line: r.start - 1, character: 0 };
      return { range: { start: at, end: at }, newText: body };
    }
    const last = r.end >= lineCount;
    const end = last ? { line: lineCount - 1, character: lines[lineCount - 1].length } : { line: r.end, character: 0 };
    return {
      range: { start: { line: r.start - 1, character: 0 }, end },
      newText: last ? body.slice(0, -eol.length) : body,
    };
  });
}

/** The verified fix of a finding in a replace helper: the repair search's proposal, its edit computed on resolve. */
export function verifiedFixActionFor(
  p: Placed,
  diagnostic: Diagnostic | undefined,
  data: VerifiedFixData,
  resolvable: boolean,
): CodeAction {
  const title = `Apply the verified order of ${p.finding.scenario.function ?? p.finding.function}() (simulator-checked)`;
  return {
    title,
    kind: VERIFIED_FIX_KIND,
    ...(diagnostic ? { diagnostics: [diagnostic] } : {}),
    data,
    // a client that cannot resolve the edit runs the command, and the server sends workspace/applyEdit
    ...(resolvable ? {} : { command: { title, command: APPLY_VERIFIED_FIX_COMMAND, arguments: [data] } }),
  };
}
