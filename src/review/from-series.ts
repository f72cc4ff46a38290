/**
 * Builds the session's copy of a series from what the patch layer parsed.
 * The patch layer keeps what analysis needs; a reply also needs the raw diff
 * header lines, the `@@` lines as written and the To/Cc/References headers,
 * which are read here from the input text at the lines the patch layer points at.
 */
import type { FileDiff as PatchFileDiff, ParsedDiff, PatchMail, Series, SeriesReview } from '../patch/types';
import type { DiffHunk, DiffLine, FileDiff, FindingInput, ReviewPatch, ReviewSeries } from './types';

/** Mail headers by lower-case name, unfolded; repeated headers keep every value. */
export function readHeaders(mailText: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  let name = '';
  for (const raw of mailText.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line === '') break;
    if (/^From /.test(line) && name === '') continue; // mbox envelope line
    if (/^[ \t]/.test(line) && name) {
      const vals = headers.get(name)!;
      vals[vals.length - 1] += ' ' + line.trim();
      continue;
    }
    const m = /^([^:\s]+):\s?(.*)$/.exec(line);
    if (!m) continue;
    name = m[1].toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), m[2].trim()]);
  }
  return headers;
}

/** `<a@b> <c@d>` → [a@b, c@d]. */
export function messageIds(value: string | undefined): string[] {
  return value ? [...value.matchAll(/<([^<>\s]+)>/g)].map((m) => m[1]) : [];
}

/** Splits an address list at commas outside quotes and angle brackets. */
export function addressList(value: string | undefined): string[] {
  if (!value) return [];
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let angle = 0;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    else if (ch === '<' && !quoted) angle++;
    else if (ch === '>' && !quoted) angle = Math.max(0, angle - 1);
    if (ch === ',' && !quoted && angle === 0) {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** A short stable hash (FNV-1a, 32 bit, hex): patch ids for mails without a Message-ID. */
export function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

function convertFile(f: PatchFileDiff, lines: string[]): FileDiff {
  const at = (n: number): string => (lines[n - 1] ?? '').replace(/\r$/, '');
  const firstHunk = f.hunks.length > 0 ? f.hunks[0].headerLine : f.headerLine + 1;
  const headerLines: string[] = [];
  for (let n = f.headerLine; n < firstHunk; n++) headerLines.push(at(n));
  const hunks: DiffHunk[] = f.hunks.map((h) => {
    let oldLine = h.oldStart;
    let newLine = h.newStart;
    const out: DiffLine[] = [];
    for (const l of h.lines) {
      // `\ No newline at end of file` belongs to the line before; it carries no comment.
      if (l.op === '\\') continue;
      if (l.op === '+') out.push({ kind: 'add', text: l.text, newLine: newLine++, patchLine: l.patchLine });
      else if (l.op === '-') out.push({ kind: 'del', text: l.text, oldLine: oldLine++, patchLine: l.patchLine });
      else out.push({ kind: 'context', text: l.text, oldLine: oldLine++, newLine: newLine++, patchLine: l.patchLine });
    }
    return { header: at(h.headerLine), lines: out };
  });
  return { oldPath: f.oldPath ?? f.newPath ?? '', newPath: f.newPath ?? f.oldPath ?? '', headerLines, hunks };
}

/**
 * The session's copy of one patch mail. `sourceText` is the text of the file
 * the mail came from (`mail.source`), whose lines the patch layer counted.
 */
export function reviewPatchFromMail(mail: PatchMail, diff: ParsedDiff, sourceText: string): ReviewPatch {
  const lines = sourceText.split('\n');
  const mailText = lines.slice(mail.startLine - 1, mail.endLine).join('\n');
  const h = readHeaders(mailText);
  const first = (name: string): string | undefined => h.get(name)?.[0];
  const references = messageIds(first('references'));
  for (const id of messageIds(first('in-reply-to'))) if (!references.includes(id)) references.push(id);
  const files = diff.files.map((f) => convertFile(f, lines));
  const messageId = mail.messageId?.replace(/^<(.*)>$/, '$1');
  const id =
    messageId ??
    shortHash(
      mail.subject +
        '\n' +
        files.map((f) => f.hunks.map((x) => x.lines.map((l) => l.text).join('\n')).join('\n')).join('\n'),
    );
  return {
    id,
    subject: mail.subject,
    index: mail.tags.index ?? 1,
    total: mail.tags.total ?? 1,
    from: mail.from ?? first('from') ?? '',
    // The attribution line quotes the Date header as the author's mailer wrote it.
    date: first('date') ?? mail.date ?? '',
    ...(messageId ? { messageId } : {}),
    references,
    to: addressList(h.get('to')?.join(', ')),
    cc: addressList(h.get('cc')?.join(', ')),
    files,
  };
}

/** A name usable as a file name: the title's words, lower case, dashes, and the revision. */
export function seriesFileName(title: string, version: number): string {
  const cut = title
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '')
    .join('-')
    .slice(0, 60);
  const slug = cut.endsWith('-') ? cut.slice(0, -1) : cut;
  return `${slug || 'series'}-v${version}`;
}

/**
 * The session's copy of a series. `diffs` holds the parsed diff of each patch
 * (same order as `series.patches`); `sources` maps each `mail.source` to its text.
 */
export function reviewSeriesFrom(series: Series, diffs: ParsedDiff[], sources: Record<string, string>): ReviewSeries {
  const patches = series.patches.map((m, i) => reviewPatchFromMail(m, diffs[i], sources[m.source] ?? ''));
  return { name: seriesFileName(series.title, series.version), title: series.title, version: series.version, patches };
}

/** The session's view of an analyzer finding, placed at its post-image line. */
export function findingInput(f: {
  fingerprint: string;
  ruleId: FindingInput['ruleId'];
  severity: FindingInput['severity'];
  confidence: FindingInput['confidence'];
  message: string;
  file: string;
  line: number;
  imageFile?: string;
  imageLine?: number;
}): FindingInput {
  return {
    fingerprint: f.fingerprint,
    ruleId: f.ruleId,
    severity: f.severity,
    confidence: f.confidence,
    message: f.message,
    file: f.imageFile ?? f.file,
    line: f.imageLine ?? f.line,
  };
}

/**
 * The analyzer's findings per session patch id, from the patch layer's review
 * of the same series. Only what a patch introduces becomes a suggestion: what
 * it fixes or leaves unchanged is not the author's to answer for in a reply.
 */
export function findingsByPatch(series: ReviewSeries, review: SeriesReview): Record<string, FindingInput[]> {
  const out: Record<string, FindingInput[]> = {};
  for (const pr of review.patches) {
    const id = pr.messageId?.replace(/^<(.*)>$/, '$1');
    const patch = series.patches.find(
      (p) => (id !== undefined && p.messageId === id) || (id === undefined && p.index === pr.index),
    );
    if (!patch) continue;
    out[patch.id] = pr.findings.filter((f) => f.status === 'introduced').map(findingInput);
  }
  return out;
}
