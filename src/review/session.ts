/**
 * The review session model: per-patch state, comment threads, machine
 * suggestions, trailers. Every operation is a pure function that returns a new
 * session and leaves its input untouched, so the extension can save after each
 * change and undo is a matter of keeping the previous value.
 *
 * Time and ids are inputs, not ambient: `now` is passed in, ids come from the
 * session's own counter. Two runs of the same steps give the same session, which
 * keeps the session file diffable and the tests exact.
 */
import { anchorForLocation, samePath } from './diff-lines';
import type {
  Anchor,
  FindingInput,
  PatchReview,
  PatchState,
  ReviewComment,
  ReviewPatch,
  ReviewSeries,
  ReviewSession,
  ReviewThread,
  Suggestion,
  Trailer,
} from './types';

export class ReviewError extends Error {}

export function emptyReview(): PatchReview {
  return { state: 'new', threads: [], suggestions: [], trailers: [] };
}

/** A fresh session; `findings` (by patch id) become pending suggestions. */
export function createSession(
  series: ReviewSeries,
  reviewer: string,
  findings: Record<string, FindingInput[]> = {},
): ReviewSession {
  let s: ReviewSession = { series, reviewer: { identity: reviewer }, reviews: {}, nextId: 1 };
  for (const p of series.patches) s.reviews[p.id] = emptyReview();
  for (const [id, list] of Object.entries(findings)) s = setFindings(s, id, list);
  return s;
}

function clone(s: ReviewSession): ReviewSession {
  return structuredClone(s);
}

function reviewOf(s: ReviewSession, patchId: string): PatchReview {
  const r = s.reviews[patchId];
  if (!r) throw new ReviewError(`no patch ${patchId} in series ${s.series.name}`);
  return r;
}

export function patchById(s: ReviewSession, patchId: string): ReviewPatch {
  const p = s.series.patches.find((x) => x.id === patchId);
  if (!p) throw new ReviewError(`no patch ${patchId} in series ${s.series.name}`);
  return p;
}

function newId(s: ReviewSession, prefix: string): string {
  return `${prefix}${s.nextId++}`;
}

function findThread(r: PatchReview, threadId: string): ReviewThread {
  const t = r.threads.find((x) => x.id === threadId);
  if (!t) throw new ReviewError(`no thread ${threadId}`);
  return t;
}

/** Opening a thread or adopting a suggestion moves a new patch to reviewing; an explicit state is kept. */
function touch(r: PatchReview): void {
  if (r.state === 'new') r.state = 'reviewing';
}

export function setPatchState(s: ReviewSession, patchId: string, state: PatchState): ReviewSession {
  const out = clone(s);
  reviewOf(out, patchId).state = state;
  return out;
}

/**
 * Replaces the patch's machine suggestions with `findings`, keeping what the
 * reviewer already decided: a known fingerprint keeps its state, reason and
 * thread (with the new message and place). Adopted or dismissed suggestions
 * whose finding is gone stay, so the decision is not lost; pending ones go.
 */
export function setFindings(s: ReviewSession, patchId: string, findings: FindingInput[]): ReviewSession {
  const out = clone(s);
  const r = reviewOf(out, patchId);
  const patch = patchById(out, patchId);
  const before = new Map(r.suggestions.map((x) => [x.fingerprint, x]));
  const next: Suggestion[] = [];
  const seen = new Set<string>();
  for (const f of findings) {
    if (seen.has(f.fingerprint)) continue; // one suggestion per fingerprint
    seen.add(f.fingerprint);
    const old = before.get(f.fingerprint);
    next.push({
      fingerprint: f.fingerprint,
      ruleId: f.ruleId,
      severity: f.severity,
      confidence: f.confidence,
      message: f.message,
      anchor: anchorForLocation(patch, f.file, f.line),
      state: old?.state ?? 'pending',
      ...(old?.reason !== undefined ? { reason: old.reason } : {}),
      ...(old?.threadId !== undefined ? { threadId: old.threadId } : {}),
    });
  }
  for (const old of r.suggestions) if (!seen.has(old.fingerprint) && old.state !== 'pending') next.push(old);
  r.suggestions = next;
  return out;
}

export interface Added {
  session: ReviewSession;
  threadId: string;
  commentId: string;
}

function makeComment(s: ReviewSession, body: string, now: string, fromFinding?: string): ReviewComment {
  const c: ReviewComment = { id: newId(s, 'c'), author: s.reviewer.identity, body, created: now };
  if (fromFinding !== undefined) c.fromFinding = fromFinding;
  return c;
}

function checkBody(body: string): void {
  if (body.trim() === '') throw new ReviewError('a comment needs some text');
}

/** Opens a thread on `anchor` with a first comment. */
export function addThread(s: ReviewSession, patchId: string, anchor: Anchor, body: string, now: string): Added {
  checkBody(body);
  const out = clone(s);
  const r = reviewOf(out, patchId);
  const thread: ReviewThread = { id: newId(out, 't'), anchor, comments: [] };
  const c = makeComment(out, body, now);
  thread.comments.push(c);
  r.threads.push(thread);
  touch(r);
  return { session: out, threadId: thread.id, commentId: c.id };
}

/** Adds a reply to an existing thread. */
export function replyInThread(s: ReviewSession, patchId: string, threadId: string, body: string, now: string): Added {
  checkBody(body);
  const out = clone(s);
  const t = findThread(reviewOf(out, patchId), threadId);
  const c = makeComment(out, body, now);
  t.comments.push(c);
  return { session: out, threadId, commentId: c.id };
}

function locateComment(r: PatchReview, commentId: string): { thread: ReviewThread; index: number } {
  for (const thread of r.threads) {
    const index = thread.comments.findIndex((c) => c.id === commentId);
    if (index >= 0) return { thread, index };
  }
  throw new ReviewError(`no comment ${commentId}`);
}

export function editComment(
  s: ReviewSession,
  patchId: string,
  commentId: string,
  body: string,
  now: string,
): ReviewSession {
  checkBody(body);
  const out = clone(s);
  const { thread, index } = locateComment(reviewOf(out, patchId), commentId);
  thread.comments[index].body = body;
  thread.comments[index].edited = now;
  return out;
}

/**
 * Deletes one comment; a thread left empty goes too. If that thread came from
 * an adopted suggestion, the suggestion goes back to pending: deleting the
 * comment withdraws the adoption, it does not silently dismiss the finding.
 */
export function deleteComment(s: ReviewSession, patchId: string, commentId: string): ReviewSession {
  const out = clone(s);
  const r = reviewOf(out, patchId);
  const { thread, index } = locateComment(r, commentId);
  thread.comments.splice(index, 1);
  if (thread.comments.length === 0) dropThread(r, thread.id);
  return out;
}

export function deleteThread(s: ReviewSession, patchId: string, threadId: string): ReviewSession {
  const out = clone(s);
  const r = reviewOf(out, patchId);
  findThread(r, threadId);
  dropThread(r, threadId);
  return out;
}

function dropThread(r: PatchReview, threadId: string): void {
  r.threads = r.threads.filter((t) => t.id !== threadId);
  for (const sg of r.suggestions)
    if (sg.threadId === threadId) {
      sg.state = 'pending';
      delete sg.threadId;
    }
}

function findSuggestion(r: PatchReview, fingerprint: string): Suggestion {
  const sg = r.suggestions.find((x) => x.fingerprint === fingerprint);
  if (!sg) throw new ReviewError(`no suggestion ${fingerprint}`);
  return sg;
}

/** Turns a suggestion into an ordinary comment thread (its text, editable from then on). */
export function adoptSuggestion(s: ReviewSession, patchId: string, fingerprint: string, now: string): Added {
  const out = clone(s);
  const r = reviewOf(out, patchId);
  const sg = findSuggestion(r, fingerprint);
  if (sg.state === 'adopted' && sg.threadId) throw new ReviewError('already adopted');
  const thread: ReviewThread = { id: newId(out, 't'), anchor: sg.anchor, comments: [] };
  const c = makeComment(out, sg.message, now, fingerprint);
  thread.comments.push(c);
  r.threads.push(thread);
  sg.state = 'adopted';
  sg.threadId = thread.id;
  delete sg.reason;
  touch(r);
  return { session: out, threadId: thread.id, commentId: c.id };
}

/** Dismisses a suggestion with a reason, remembered and carried to the next revision. */
export function dismissSuggestion(
  s: ReviewSession,
  patchId: string,
  fingerprint: string,
  reason: string,
): ReviewSession {
  const out = clone(s);
  const r = reviewOf(out, patchId);
  const sg = findSuggestion(r, fingerprint);
  if (sg.state === 'adopted') throw new ReviewError('adopted: delete its comment first');
  sg.state = 'dismissed';
  sg.reason = reason.trim();
  touch(r);
  return out;
}

/** Takes back a dismissal. */
export function restoreSuggestion(s: ReviewSession, patchId: string, fingerprint: string): ReviewSession {
  const out = clone(s);
  const sg = findSuggestion(reviewOf(out, patchId), fingerprint);
  if (sg.state !== 'dismissed') throw new ReviewError('not dismissed');
  sg.state = 'pending';
  delete sg.reason;
  return out;
}

/** Adds a trailer (once: the same kind and person twice is one trailer). */
export function addTrailer(s: ReviewSession, patchId: string, trailer: Trailer): ReviewSession {
  const out = clone(s);
  const r = reviewOf(out, patchId);
  if (!r.trailers.some((t) => t.kind === trailer.kind && t.who === trailer.who)) r.trailers.push({ ...trailer });
  return out;
}

export function removeTrailer(s: ReviewSession, patchId: string, trailer: Trailer): ReviewSession {
  const out = clone(s);
  const r = reviewOf(out, patchId);
  r.trailers = r.trailers.filter((t) => !(t.kind === trailer.kind && t.who === trailer.who));
  return out;
}

/** Suggestions still private to the reviewer (shown, never mailed). */
export function pendingSuggestions(s: ReviewSession, patchId: string): Suggestion[] {
  return reviewOf(s, patchId).suggestions.filter((x) => x.state === 'pending');
}

/**
 * The patch a user names: its id, its Message-ID with or without angle
 * brackets, or its position in the series (`2`).
 */
export function resolvePatch(s: ReviewSession, ref: string): ReviewPatch {
  const r = ref.trim().replace(/^<(.*)>$/, '$1');
  const byId = s.series.patches.find((p) => p.id === r || p.messageId === r);
  if (byId) return byId;
  if (/^\d+$/.test(r)) {
    const byIndex = s.series.patches.find((p) => p.index === Number(r));
    if (byIndex) return byIndex;
  }
  throw new ReviewError(
    `no patch "${ref}" in series ${s.series.name}; known: ${s.series.patches.map((p) => p.id).join(', ')}`,
  );
}

/**
 * The patch a comment on a C file belongs to: the preferred patch (the one
 * being read) when it touches the file, else the first patch that does, else
 * the preferred one, else the first.
 */
export function patchForSourceFile(s: ReviewSession, file: string, preferred?: string): ReviewPatch | undefined {
  const touches = (p: ReviewPatch): boolean =>
    p.files.some((f) => samePath(f.newPath, file) || samePath(f.oldPath, file));
  const pref = s.series.patches.find((p) => p.id === preferred);
  if (pref && touches(pref)) return pref;
  return s.series.patches.find(touches) ?? pref ?? s.series.patches[0];
}
