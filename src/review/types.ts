/**
 * Review sessions: plain data only, serialised as-is into the session file
 * (`.vscode/iommufd-review/<series>.json`). Browser-safe: no Node, no vscode.
 *
 * The session keeps its own copy of each patch (headers and hunks), so a saved
 * session is enough to compose a reply (the CLI's `reply` command) even when the
 * mbox it came from is gone. Lines are 1-based.
 */
import type { RuleId, Severity, Confidence } from '../engine/types';

export type DiffLineKind = 'context' | 'add' | 'del';

export interface DiffLine {
  kind: DiffLineKind;
  /** The line without its leading ' ', '+' or '-'. */
  text: string;
  /** Line in the pre-image (context and del lines). */
  oldLine?: number;
  /** Line in the post-image (context and add lines). */
  newLine?: number;
  /** Line in the patch's own text (the mail), when known: where the editor shows it. */
  patchLine?: number;
}

export interface DiffHunk {
  /** The `@@ -a,b +c,d @@ ...` line as written. */
  header: string;
  lines: DiffLine[];
}

export interface FileDiff {
  oldPath: string;
  newPath: string;
  /** `diff --git`, `index`, `---`, `+++` and mode lines, as written. */
  headerLines: string[];
  hunks: DiffHunk[];
}

/** One mail of the series: what composing a reply and carrying comments over need. */
export interface ReviewPatch {
  /** Message-ID without angle brackets, or a hash of subject and diff when the patch has none. */
  id: string;
  /** Full subject as sent, e.g. `[PATCH v8 2/4] iommufd: Add iommufd_access_replace() API`. */
  subject: string;
  /** 1-based position in the series; 0 for a cover letter. */
  index: number;
  total: number;
  /** `From:` as written (`Name <addr>`). */
  from: string;
  /** `Date:` as written. */
  date: string;
  messageId?: string;
  /** Message-IDs from the patch's `References:` (or `In-Reply-To:`), oldest first, without brackets. */
  references: string[];
  to: string[];
  cc: string[];
  files: FileDiff[];
}

export interface ReviewSeries {
  /** File-name-safe name: the session file is `<name>.json`. */
  name: string;
  /** Subject of the cover letter, or of the first patch. */
  title: string;
  /** Revision from the `vN` tag; 1 when untagged. */
  version: number;
  /** The mail file the series was read from, relative to the workspace folder: where comments show. */
  source?: string;
  patches: ReviewPatch[];
}

/**
 * Where a comment sits.
 * - `diff`: a line of the patch's diff, by file and side (`old` for removed
 *   lines, `new` for added and context lines) and that side's line number.
 * - `source`: a line of a C file in the checkout (the post-image).
 * - `patch`: the patch as a whole (goes below the quoted hunks in a reply).
 * `text` is the line's content: what carry-over matches on in the next revision.
 */
export type Anchor =
  | { kind: 'diff'; file: string; side: 'old' | 'new'; line: number; text: string }
  | { kind: 'source'; file: string; line: number; text: string }
  | { kind: 'patch' };

export interface ReviewComment {
  id: string;
  author: string;
  body: string;
  created: string;
  edited?: string;
  /** Set when the comment came from adopting a machine finding. */
  fromFinding?: string;
}

/** A thread on one place; the first comment opens it, the rest reply within it. */
export interface ReviewThread {
  id: string;
  anchor: Anchor;
  comments: ReviewComment[];
}

export type SuggestionState = 'pending' | 'adopted' | 'dismissed';

/** A machine finding shown to the reviewer only, until adopted or dismissed. */
export interface Suggestion {
  /** The finding's stable fingerprint: also the suggestion's identity. */
  fingerprint: string;
  ruleId: RuleId;
  severity: Severity;
  confidence: Confidence;
  message: string;
  anchor: Anchor;
  state: SuggestionState;
  /** Why it was dismissed (remembered and carried to the next revision). */
  reason?: string;
  /** The thread it became when adopted. */
  threadId?: string;
}

export type PatchState = 'new' | 'reviewing' | 'done' | 'skipped';
export const PATCH_STATES: readonly PatchState[] = ['new', 'reviewing', 'done', 'skipped'];

export type TrailerKind = 'Reviewed-by' | 'Acked-by' | 'Tested-by';
export const TRAILER_KINDS: readonly TrailerKind[] = ['Reviewed-by', 'Acked-by', 'Tested-by'];

export interface Trailer {
  kind: TrailerKind;
  /** `Name <addr>`. */
  who: string;
}

export interface PatchReview {
  state: PatchState;
  threads: ReviewThread[];
  suggestions: Suggestion[];
  trailers: Trailer[];
}

export interface Reviewer {
  /** `Name <addr>`: author of comments, `From:` of replies. */
  identity: string;
}

export interface ReviewSession {
  series: ReviewSeries;
  reviewer: Reviewer;
  /** Keyed by ReviewPatch.id. */
  reviews: Record<string, PatchReview>;
  /** Next number for thread and comment ids: ids stay unique and deterministic. */
  nextId: number;
  /** What carry-over from the previous revision could not place, kept for the reviewer to see. */
  notCarried?: NotCarried[];
}

export interface NotCarried {
  /** Subject (without tag) of the previous revision's patch. */
  patch: string;
  what: 'thread' | 'dismissal' | 'patch';
  /** The comment's first line, or the dismissed finding's message. */
  summary: string;
  reason: string;
}

/** A finding from the analyzer as the session needs it (a subset of engine Finding). */
export interface FindingInput {
  fingerprint: string;
  ruleId: RuleId;
  severity: Severity;
  confidence: Confidence;
  message: string;
  file: string;
  line: number;
}
