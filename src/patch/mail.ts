/**
 * One message of a series → PatchMail. MIME structure, transfer encodings
 * (quoted-printable, base64), charsets and encoded-word headers are decoded by
 * postal-mime, which runs unchanged in Node and in browsers (the web extension
 * uses this module). What is specific to patch mail is read here: subject
 * tags, where the diff starts and ends, the commit message and its trailers,
 * `base-commit:`, and which line of the input file shows each body line.
 */
import PostalMime from 'postal-mime';
import { binaryStringToBytes } from './bytes';
import { splitLines, type RawMessage } from './mbox';
import { parseSubject } from './subject';
import { parseTrailers } from './trailers';
import type { MailKind, PatchMail } from './types';

/** Where the diff is in a body: `diff --git`, or a bare `---`/`+++` pair (plain `diff -u`), or `Index:` (svn/quilt). */
export function findDiff(lines: readonly string[]): { start: number; end: number } {
  let start = -1;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (
      l.startsWith('diff --git ') ||
      (l.startsWith('--- ') && lines[i + 1]?.startsWith('+++ ')) ||
      (l.startsWith('Index: ') && lines[i + 1]?.startsWith('===='))
    ) {
      start = i;
      break;
    }
  }
  if (start < 0) return { start: -1, end: -1 };
  // The diff ends at the mail signature (`-- `) or a `base-commit:` line, but
  // only outside a hunk: inside one, `-- ` is a removed line reading "- ".
  let oldLeft = 0;
  let newLeft = 0;
  for (let i = start; i < lines.length; i++) {
    const l = lines[i];
    if (oldLeft > 0 || newLeft > 0) {
      const op = l[0];
      if (op === '-') oldLeft--;
      else if (op === '+') newLeft--;
      else if (op === ' ' || l === '') {
        oldLeft--;
        newLeft--;
      } else if (op !== '\\') {
        oldLeft = newLeft = 0; // a truncated hunk: stop counting, the diff parser will say so
        i--;
      }
      continue;
    }
    const h = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/.exec(l);
    if (h) {
      oldLeft = h[1] === undefined ? 1 : Number(h[1]);
      newLeft = h[2] === undefined ? 1 : Number(h[2]);
      continue;
    }
    if (l === '-- ' || l.startsWith('base-commit: ') || l.startsWith('prerequisite-patch-id: '))
      return { start, end: i };
  }
  return { start, end: lines.length };
}

/** Maps each decoded body line to the input line that shows it: exact for plain bodies, nearest for encoded ones. */
function mapBodyLines(bodyLines: readonly string[], raw: RawMessage): number[] {
  const rawLines = splitLines(raw.text);
  let p = rawLines.findIndex((l) => l === '' || l === '\r');
  p = p < 0 ? rawLines.length : p + 1;
  const base = raw.startLine + raw.envelopeLines;
  const out: number[] = [];
  const last = Math.max(0, rawLines.length - 1);
  for (const line of bodyLines) {
    let found = -1;
    for (let q = p; q < rawLines.length && q < p + 64; q++) {
      const r = rawLines[q];
      if (r === line || (r.length === line.length + 1 && r.endsWith('\r') && r.startsWith(line))) {
        found = q;
        break;
      }
    }
    if (found >= 0) {
      out.push(base + found);
      p = found + 1;
    } else out.push(base + Math.min(p, last));
  }
  return out;
}

const PATCH_ATTACHMENT = /^text\/x-(patch|diff)$|^text\/plain$/;

/**
 * Parses one message. `binary` says raw.text is a binary string (one byte per
 * unit), so postal-mime gets the bytes and decodes the charset itself.
 */
export async function parseMail(raw: RawMessage, source: string, binary: boolean): Promise<PatchMail> {
  const problems: string[] = [];
  const mail: PatchMail = {
    source,
    startLine: raw.startLine,
    endLine: raw.endLine,
    kind: 'other',
    subject: '',
    title: '',
    tags: { patch: false, rfc: false, resend: false, version: 1, extra: [], reply: false },
    body: '',
    bodyLines: [],
    commitMessage: '',
    trailers: [],
    diffStart: -1,
    diffEnd: -1,
    problems,
  };
  if (raw.text.trim() === '') {
    problems.push('empty mail');
    return mail;
  }
  let email: PostalMime.Email;
  try {
    email = await PostalMime.parse(binary ? binaryStringToBytes(raw.text) : raw.text, { attachmentEncoding: 'utf8' });
  } catch (e) {
    problems.push(`could not decode the mail: ${(e as Error).message}`);
    return mail;
  }
  mail.subject = email.subject ?? '';
  mail.from = email.from
    ? email.from.name
      ? `${email.from.name} <${email.from.address ?? ''}>`
      : email.from.address
    : undefined;
  mail.date = email.date;
  mail.messageId = email.messageId;
  mail.inReplyTo = email.inReplyTo;
  const { tags, title } = parseSubject(mail.subject);
  mail.tags = tags;
  mail.title = title;

  let body = (email.text ?? '').replace(/\r\n/g, '\n');
  if (body.includes('\uFFFD') && binary) {
    // A body in a legacy charset that does not say so: keep the bytes as ISO-8859-1
    // so that context lines still match a tree file read the same way.
    const headerEnd = raw.text.search(/\r?\n\r?\n/);
    const cte = (email.headers.find((h) => h.key === 'content-transfer-encoding')?.value ?? '').toLowerCase();
    if (
      headerEnd >= 0 &&
      !/base64|quoted-printable/.test(cte) &&
      !/multipart/i.test(email.headers.find((h) => h.key === 'content-type')?.value ?? '')
    ) {
      body = raw.text.slice(raw.text.indexOf('\n', headerEnd + 1) + 1).replace(/\r\n/g, '\n');
      problems.push('the body is not valid UTF-8 and names no charset: read as ISO-8859-1');
    } else problems.push('the body has bytes that are not valid in its charset: they were replaced');
  }
  let lines = splitLines(body);
  let diff = findDiff(lines);
  let fromAttachment = false;
  if (diff.start < 0) {
    // Some send the patch as an attachment (text/x-patch, foo.patch).
    const att = email.attachments.find(
      (a) =>
        typeof a.content === 'string' &&
        (PATCH_ATTACHMENT.test(a.mimeType) || /\.(patch|diff)$/i.test(a.filename ?? '')) &&
        findDiff(splitLines(a.content)).start >= 0,
    );
    if (att && typeof att.content === 'string') {
      const attLines = splitLines(att.content.replace(/\r\n/g, '\n'));
      body = [...lines, ...attLines].join('\n') + '\n';
      lines = splitLines(body);
      diff = findDiff(lines);
      fromAttachment = true;
      problems.push(
        `the diff was read from the attachment ${att.filename ?? att.mimeType}; its patch lines are approximate`,
      );
    }
  }
  mail.body = body;
  mail.bodyLines = mapBodyLines(lines, raw);
  if (fromAttachment) {
    // Attachment lines are inside an encoded part: point them at the message end.
    for (let i = 0; i < mail.bodyLines.length; i++) mail.bodyLines[i] = Math.min(mail.bodyLines[i], raw.endLine);
  }
  mail.diffStart = diff.start;
  mail.diffEnd = diff.end;

  const messageEnd = diff.start >= 0 ? diff.start : lines.length;
  let cut = messageEnd;
  for (let i = messageEnd - 1; i >= 0; i--) {
    if (lines[i] === '---') {
      cut = i;
      break;
    }
  }
  mail.commitMessage = lines.slice(0, cut).join('\n').trimEnd();
  mail.trailers = parseTrailers(mail.commitMessage);
  // `[ \t]*`, not `\s*`: a blank run that may span lines makes the match rescan them.
  const base = /^base-commit: ([0-9a-f]{7,40})[ \t]*$/m.exec(body);
  if (base) mail.baseCommit = base[1];
  mail.kind = classify(mail);
  if (mail.kind === 'other' && tags.patch && tags.index !== undefined && tags.index > 0) {
    problems.push(`announced as patch ${tags.index}/${tags.total} but contains no diff`);
  }
  return mail;
}

function classify(mail: PatchMail): MailKind {
  if (mail.tags.reply) return 'reply';
  if (mail.diffStart >= 0) return 'patch';
  if (mail.tags.patch && mail.tags.index === 0) return 'cover';
  return 'other';
}

/** A file that is a plain diff (`git diff`, `diff -u`), not a mail: one patch titled after the file. */
export function plainDiffMail(text: string, source: string): PatchMail {
  const body = text.replace(/\r\n/g, '\n');
  const lines = splitLines(body);
  const diff = findDiff(lines);
  const name = source.replace(/^.*[\\/]/, '');
  return {
    source,
    startLine: 1,
    endLine: Math.max(1, lines.length),
    kind: diff.start >= 0 ? 'patch' : 'other',
    subject: name,
    title: name,
    tags: { patch: true, rfc: false, resend: false, version: 1, extra: [], reply: false },
    body,
    bodyLines: lines.map((_, i) => i + 1),
    commitMessage: '',
    trailers: [],
    diffStart: diff.start,
    diffEnd: diff.end,
    problems: diff.start >= 0 ? [] : [text.trim() === '' ? 'empty input' : 'no diff and no mail headers found'],
  };
}
