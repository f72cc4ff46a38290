/**
 * Plain data of the patch layer: mails, series, parsed diffs, images and the
 * per-patch review. No functions, no classes: these cross into the extension
 * (and its web host) and are written out as JSON as they are.
 * Lines are 1-based everywhere.
 */
import type { Confidence, Finding, RelatedLocation } from '../engine/types';

/** What the subject's leading `[...]` groups said. */
export interface SubjectTags {
  /** `PATCH` (or `RFC` alone) was present: the mail calls itself a patch. */
  patch: boolean;
  rfc: boolean;
  resend: boolean;
  /** `v8` → 8; 1 when absent. */
  version: number;
  /** `2/4` → 2 and 4; undefined for a single patch without a number. */
  index?: number;
  total?: number;
  /** Other words in the brackets (a tree name like `net-next`), kept for display. */
  extra: string[];
  /** `Re:` / `Fwd:` in front of the subject. */
  reply: boolean;
}

export interface Trailer {
  key: string;
  value: string;
}

export type MailKind = 'patch' | 'cover' | 'reply' | 'other';

/** One message of the input, after MIME decoding. */
export interface PatchMail {
  /** The input file's name, as given (patch lines are counted in this file). */
  source: string;
  /** Line of `source` where this message starts (its `From ` line or first header). */
  startLine: number;
  /** Line of `source` where this message ends (inclusive). */
  endLine: number;
  kind: MailKind;
  subject: string;
  /** The subject without `Re:` and the bracket tags. */
  title: string;
  tags: SubjectTags;
  from?: string;
  date?: string;
  messageId?: string;
  inReplyTo?: string;
  /** Decoded body text, `\n` line ends. */
  body: string;
  /** For each body line (0-based index), the line of `source` that shows it; approximate for encoded bodies. */
  bodyLines: number[];
  /** The commit message: body up to the `---` line before the diff. */
  commitMessage: string;
  trailers: Trailer[];
  baseCommit?: string;
  /** Index (0-based) of the first diff line in `body`, or -1 when the mail has no diff. */
  diffStart: number;
  /** Index (0-based, exclusive) where the diff ends in `body` (the `-- ` signature or the end). */
  diffEnd: number;
  /** Decoding notes worth telling a reviewer (non-UTF-8 body, patch taken from an attachment, ...). */
  problems: string[];
}

export interface SetAsideMail {
  source: string;
  startLine: number;
  subject: string;
  kind: MailKind;
  reason: string;
}

/** A problem with the input as a whole or with one patch; never thrown, always reported. */
export interface Problem {
  source: string;
  /** Line of `source`, when one line is to blame. */
  line?: number;
  message: string;
  /**
   * `context`: a fact about how the review was made (no base tree, so the
   * hunks alone), which every finding's message already carries; not a
   * problem of the input a user must be told about separately.
   */
  kind?: 'context';
}

export interface Series {
  /** Cover letter title, else the first patch's title. */
  title: string;
  version: number;
  rfc: boolean;
  /** N of `[PATCH k/N]`, else the number of patches found. */
  total: number;
  baseCommit?: string;
  cover?: PatchMail;
  /** In series order. */
  patches: PatchMail[];
  /** Replies, other revisions, duplicates, non-patch mail. */
  setAside: SetAsideMail[];
  problems: Problem[];
}

// ---- diffs ----

export type FileChangeKind = 'modify' | 'create' | 'delete' | 'rename' | 'copy' | 'mode' | 'binary';

export interface HunkLine {
  /** ' ', '+', '-' or '\\' (no newline at end of file). */
  op: ' ' | '+' | '-' | '\\';
  text: string;
  /** Line of the patch file showing it. */
  patchLine: number;
}

export interface Hunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** The text after the second `@@` (usually the enclosing function). */
  section: string;
  /** Line of the patch file of the `@@` header. */
  headerLine: number;
  lines: HunkLine[];
}

export interface FileDiff {
  /** Path before, without `a/`; undefined for a new file. */
  oldPath?: string;
  /** Path after, without `b/`; undefined for a deleted file. */
  newPath?: string;
  kind: FileChangeKind;
  oldMode?: string;
  newMode?: string;
  hunks: Hunk[];
  /** Line of the patch file where this file's diff starts. */
  headerLine: number;
  /** git's `index OLD..NEW` line: the (abbreviated) blob ids of the pre- and post-image. */
  oldBlob?: string;
  newBlob?: string;
}

export interface ParsedDiff {
  files: FileDiff[];
  problems: Problem[];
}

// ---- images and review ----

/** Where the post-image of a line came from. */
export interface LineOrigin {
  /** Patch-file line that shows this image line (a `+` or context line), if any. */
  patchLine?: number;
}

export type FindingStatus = 'introduced' | 'fixed' | 'unchanged';

/** A related location, with the patch line that shows it when the patch does. */
export interface PatchRelatedLocation extends RelatedLocation {
  patchLine?: number;
}

export interface PatchFinding extends Finding {
  related: PatchRelatedLocation[];
  status: FindingStatus;
  /** Line in the patch file (`PatchReview.source`); undefined when the patch does not show the file. */
  patchLine?: number;
  /** Where the finding is in the post-image (for `fixed`: where it was in the pre-image). */
  imageFile: string;
  imageLine: number;
  /** 'partial' when analysed from the hunks alone (no --base): confidence is capped at medium. */
  context: 'full' | 'partial';
  /** Confidence before the partial-context cap. */
  originalConfidence?: Confidence;
}

/**
 * Where a patch's pre-image came from, most exact first: the `index` line's
 * blob, the series' base-commit, the work tree, or nothing (rebuilt from the hunks).
 */
export type PreimageKind = 'blob' | 'base-commit' | 'tree' | 'hunks';

export interface PreimageFile {
  /** Post-image path (pre-image path for deletions). */
  file: string;
  source: PreimageKind;
  /** The blob id read, for `blob`. */
  blob?: string;
}

export interface PatchReview {
  subject: string;
  title: string;
  /** Position in the series, 1-based. */
  index: number;
  total: number;
  source: string;
  messageId?: string;
  /** Files the patch touches, post-image paths (pre-image path for deletions). */
  files: string[];
  /** 'base' when applied to --base; 'hunks' when rebuilt from the hunks. */
  mode: 'base' | 'hunks';
  /** The least exact pre-image source among the patch's files (see `preimageFiles`). */
  preimage: PreimageKind;
  /** Each touched file's pre-image source; a file an earlier patch touched inherits its first source. */
  preimageFiles: PreimageFile[];
  /** The commit message's `Fixes:` trailers: a fixed finding then confirms the fix the patch claims. */
  fixes: string[];
  findings: PatchFinding[];
  problems: Problem[];
  /** What was said choosing the pre-image (a source passed over and why): information, not a problem of the patch. */
  notes: Problem[];
}

export interface SeriesReview {
  series: {
    title: string;
    version: number;
    rfc: boolean;
    total: number;
    baseCommit?: string;
    cover?: { subject: string; source: string; messageId?: string };
    setAside: SetAsideMail[];
    problems: Problem[];
    /** The series' pre-image notes (a base-commit the repository lacks, patches whose sources disagree). */
    notes: Problem[];
  };
  patches: PatchReview[];
}
