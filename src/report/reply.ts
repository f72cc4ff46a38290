/**
 * The review reply for one patch, in mailing-list style: the reviewer's
 * comments interleaved with a trimmed quote of the hunks they concern.
 *
 * Trimming follows list etiquette (and what b4 produces): only hunks with a
 * comment are quoted, with their file's diff header; at most five lines are
 * quoted above each comment; whatever is cut shows as `> [...]`. Comments stand
 * unquoted right below their line with a blank line on each side. Trailers come
 * last and only those the reviewer added. Nothing here sends mail: the text is
 * shown to the reviewer, who saves or copies it.
 */
import { placeOf } from '../review/diff-lines';
import { resolvePatch } from '../review/session';
import type { DiffLine, PatchReview, ReviewPatch, ReviewSession, ReviewThread } from '../review/types';

/** Lines quoted above a comment, the line it concerns included in the count as the sixth. */
export const CONTEXT_ABOVE = 5;
const GAP = '> [...]';

export interface ReplyHeaders {
  /** `Name <addr>` of the reviewer. */
  from: string;
  /** Defaults to the patch's author. */
  to?: string[];
  /** Defaults to the patch's To and Cc, without the addresses already in From and To. */
  cc?: string[];
}

function address(who: string): string {
  const m = /<([^<>]+)>/.exec(who);
  return (m ? m[1] : who).trim().toLowerCase();
}

function uniqueRecipients(list: string[], exclude: string[]): string[] {
  const seen = new Set(exclude.map(address));
  const out: string[] = [];
  for (const who of list) {
    const a = address(who);
    if (a === '' || seen.has(a)) continue;
    seen.add(a);
    out.push(who.trim());
  }
  return out;
}

/** Folds a header at spaces so no line passes 78 characters (RFC 5322's advice). */
function foldHeader(name: string, items: string[], sep: string): string[] {
  const lines: string[] = [];
  let cur = `${name}: `;
  items.forEach((item, i) => {
    const piece = item + (i < items.length - 1 ? sep : '');
    if (cur.length > name.length + 2 && (cur + piece).trimEnd().length > 78) {
      lines.push(cur.trimEnd());
      cur = ' ';
    }
    cur += piece;
  });
  lines.push(cur.trimEnd());
  return lines;
}

export function replySubject(subject: string): string {
  return /^\s*re:/i.test(subject) ? subject : `Re: ${subject}`;
}

function headerLines(patch: ReviewPatch, h: ReplyHeaders): string[] {
  const to = h.to ?? [patch.from];
  const cc = h.cc ?? uniqueRecipients([...patch.to, ...patch.cc], [h.from, ...to]);
  const out = [`From: ${h.from}`, ...foldHeader('To', to, ', ')];
  if (cc.length > 0) out.push(...foldHeader('Cc', cc, ', '));
  out.push(`Subject: ${replySubject(patch.subject)}`);
  // Without a Message-ID (a patch file never mailed) there is nothing to thread under.
  if (patch.messageId) {
    const refs = [...patch.references.filter((r) => r !== patch.messageId), patch.messageId].map((r) => `<${r}>`);
    out.push(`In-Reply-To: <${patch.messageId}>`);
    out.push(...foldHeader('References', refs, ' '));
  }
  return out;
}

function quote(line: string): string {
  // An empty context line is a lone space in the diff: quote it as `>`, not `>  `.
  return line.trim() === '' ? '>' : `> ${line}`;
}

function diffText(l: DiffLine): string {
  return (l.kind === 'add' ? '+' : l.kind === 'del' ? '-' : ' ') + l.text;
}

function threadText(t: ReviewThread): string[] {
  const out: string[] = [];
  t.comments.forEach((c, i) => {
    if (i > 0) out.push('');
    out.push(...c.body.trimEnd().split('\n'));
  });
  return out;
}

/** Collects the text lines of a reply, keeping blank lines and gap markers single. */
class Lines {
  readonly all: string[] = [];
  push(...ls: string[]): void {
    this.all.push(...ls);
  }
  blank(): void {
    if (this.all.length > 0 && this.all[this.all.length - 1] !== '') this.all.push('');
  }
  gap(): void {
    const last = this.all[this.all.length - 1];
    if (last === GAP) return;
    this.all.push(GAP);
  }
}

/** The mail text (headers, blank line, body) replying to `patch` with `review`'s comments and trailers. */
export function composeReply(patch: ReviewPatch, review: PatchReview, headers: ReplyHeaders): string {
  // Threads by where they sit in the diff; the rest are about the patch as a whole.
  const placed = new Map<string, ReviewThread[]>();
  const general: ReviewThread[] = [];
  for (const t of review.threads) {
    if (t.comments.length === 0) continue;
    const place = placeOf(patch, t.anchor);
    if (!place) {
      general.push(t);
      continue;
    }
    const key = `${place.fileIndex}:${place.hunkIndex}:${place.lineIndex}`;
    placed.set(key, [...(placed.get(key) ?? []), t]);
  }

  const out = new Lines();
  out.push(...headerLines(patch, headers), '');
  out.push(`On ${patch.date}, ${patch.from} wrote:`);

  let prev: { file: number; hunk: number } | undefined; // last quoted hunk
  patch.files.forEach((file, fi) => {
    file.hunks.forEach((hunk, hi) => {
      const commented = hunk.lines.map((_, li) => li).filter((li) => placed.has(`${fi}:${hi}:${li}`));
      if (commented.length === 0) return;
      if (prev?.file === fi) {
        if (hi > prev.hunk + 1) out.gap();
      } else {
        // Cut since the last quote: the rest of that file's hunks or whole files in between.
        if (prev && cutBetweenFiles(patch, prev, fi)) out.gap();
        out.push(...file.headerLines.map(quote));
        if (hi > 0) out.gap();
      }
      prev = { file: fi, hunk: hi };
      out.push(quote(hunk.header));
      let next = 0; // first hunk line not yet quoted
      for (const li of commented) {
        const start = Math.max(next, li - CONTEXT_ABOVE);
        if (start > next) out.gap();
        for (let k = start; k <= li; k++) out.push(quote(diffText(hunk.lines[k])));
        for (const t of placed.get(`${fi}:${hi}:${li}`) ?? []) {
          out.blank();
          out.push(...threadText(t));
          out.push('');
        }
        next = li + 1;
      }
      if (next < hunk.lines.length) out.gap();
    });
  });
  if (prev && cutBetweenFiles(patch, prev, patch.files.length)) out.gap();

  for (const t of general) {
    out.blank();
    out.push(...threadText(t));
  }
  if (review.trailers.length > 0) {
    out.blank();
    out.push(...review.trailers.map((t) => `${t.kind}: ${t.who}`));
  }
  while (out.all.length > 0 && out.all[out.all.length - 1] === '') out.all.pop();
  return out.all.join('\n') + '\n';
}

/** Whether hunks after `prev` or files between it and file `nextFile` were left out. */
function cutBetweenFiles(patch: ReviewPatch, prev: { file: number; hunk: number }, nextFile: number): boolean {
  if (prev.hunk < patch.files[prev.file].hunks.length - 1) return true;
  for (let f = prev.file + 1; f < nextFile; f++) if (patch.files[f].hunks.length > 0) return true;
  return false;
}

/** The reply for one patch of a saved session; the reviewer of the session signs it unless `from` is given. */
export function composeSessionReply(
  session: ReviewSession,
  patchRef: string,
  headers: Partial<ReplyHeaders> = {},
): string {
  const patch = resolvePatch(session, patchRef);
  return composeReply(patch, session.reviews[patch.id], { from: session.reviewer.identity, ...headers });
}
