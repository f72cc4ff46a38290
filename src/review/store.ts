/**
 * Session persistence: one readable JSON file per series under
 * `.vscode/iommufd-review/<series>.json`, written after every change.
 *
 * A save never leaves a half-written session: the text goes to a temporary file
 * next to the target, is flushed to disk, and is renamed over the target (an
 * atomic replace on POSIX file systems). A file this version cannot read (not
 * JSON, not a session, or a newer format) is never overwritten: it is renamed
 * aside to `<series>.corrupt-<time>.json` and reported.
 *
 * File access goes through `StoreFs` so the same code runs on Node's fs (CLI,
 * tests) and on vscode.workspace.fs (desktop and web extension).
 */
import type { ReviewSession } from './types';

export const SESSION_DIR = '.vscode/iommufd-review';
export const FORMAT_NAME = 'iommufd-review-session';
export const FORMAT_VERSION = 1;

/** Paths are `/`-separated and relative to the store's root (the workspace folder). */
export interface StoreFs {
  /** The file's text, or undefined when it does not exist. */
  readText(path: string): Promise<string | undefined>;
  /** Writes the whole file and flushes it to stable storage before resolving. */
  writeTextDurable(path: string, text: string): Promise<void>;
  /** Replaces `to` with `from` in one step. */
  rename(from: string, to: string): Promise<void>;
  mkdirp(dir: string): Promise<void>;
  /** Names of the entries of `dir` ([] when missing). */
  list(dir: string): Promise<string[]>;
  remove(path: string): Promise<void>;
}

interface Envelope {
  format: typeof FORMAT_NAME;
  version: number;
  session: ReviewSession;
}

export type LoadResult =
  | { kind: 'missing'; path: string }
  | { kind: 'ok'; path: string; session: ReviewSession }
  /** The file was unreadable; it now lives at `movedTo`. */
  | { kind: 'set-aside'; path: string; movedTo: string; reason: string };

export function sessionPath(seriesName: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(seriesName) || seriesName.startsWith('.'))
    throw new Error(`not a usable series name: ${seriesName}`);
  return `${SESSION_DIR}/${seriesName}.json`;
}

/** The text written for a session: stable key order, two-space indent, newline at the end. */
export function serializeSession(session: ReviewSession): string {
  const env: Envelope = { format: FORMAT_NAME, version: FORMAT_VERSION, session };
  return JSON.stringify(env, null, 2) + '\n';
}

/** Parses a session file's text; a string is the reason it cannot be used. */
export function parseSessionText(text: string): ReviewSession | string {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return `not valid JSON (${(e as Error).message})`;
  }
  if (typeof data !== 'object' || data === null) return 'not a session file';
  const env = data as Partial<Envelope>;
  if (env.format !== FORMAT_NAME) return `not a session file (format is ${JSON.stringify(env.format)})`;
  if (typeof env.version !== 'number') return 'session file without a format version';
  if (env.version > FORMAT_VERSION)
    return `written by a newer iommufd-review (format version ${env.version}; this one reads up to ${FORMAT_VERSION})`;
  const s = env.session as Partial<ReviewSession> | undefined;
  if (
    !s ||
    typeof s !== 'object' ||
    !s.series ||
    !Array.isArray(s.series.patches) ||
    typeof s.series.name !== 'string' ||
    !s.reviews ||
    typeof s.reviews !== 'object' ||
    typeof s.nextId !== 'number' ||
    !s.reviewer ||
    typeof s.reviewer.identity !== 'string'
  )
    return 'session file is missing parts (series, reviews, reviewer or nextId)';
  for (const p of s.series.patches) if (!s.reviews[p.id]) return `session file has no review for patch ${p.id}`;
  return s as ReviewSession;
}

/** `2026-11-27T13:40:00.123Z` → `20261127T134000123Z`: sortable and safe in a file name. */
export function timeTag(d: Date): string {
  return d.toISOString().replace(/[-:.]/g, '');
}

function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '.' : path.slice(0, i);
}

function baseOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

const TMP_MARK = '.tmp-';

/**
 * Reads a session file. An unusable file is moved aside (never deleted, never
 * overwritten) and reported; temporary files of saves that died are removed.
 *
 * A missing file with a complete temporary file next to it is a save that died
 * between its two last steps on a file system whose "rename over" is a delete
 * then a move (vscode.workspace.fs with `overwrite` is): that temporary file is
 * the new session, and it is put in place.
 */
export async function loadSession(fs: StoreFs, path: string, now: () => Date = () => new Date()): Promise<LoadResult> {
  let text = await fs.readText(path);
  if (text === undefined) text = await recoverFromTemp(fs, path);
  await removeStaleTemps(fs, path);
  if (text === undefined) return { kind: 'missing', path };
  const parsed = parseSessionText(text);
  if (typeof parsed !== 'string') return { kind: 'ok', path, session: parsed };
  const movedTo = path.replace(/\.json$/, '') + `.corrupt-${timeTag(now())}.json`;
  await fs.rename(path, movedTo);
  return { kind: 'set-aside', path, movedTo, reason: parsed };
}

/** Temporary files of `path`, newest first (their names carry the save's time and sequence). */
async function tempsOf(fs: StoreFs, path: string): Promise<string[]> {
  const prefix = baseOf(path) + TMP_MARK;
  const order = (name: string): number[] =>
    name
      .slice(prefix.length)
      .split('-')
      .map((x) => parseInt(x, 36) || 0);
  return (await fs.list(dirOf(path)))
    .filter((n) => n.startsWith(prefix))
    .sort((a, b) => {
      const [x, y] = [order(a), order(b)];
      return y[0] - x[0] || (y[1] ?? 0) - (x[1] ?? 0);
    })
    .map((n) => `${dirOf(path)}/${n}`);
}

async function recoverFromTemp(fs: StoreFs, path: string): Promise<string | undefined> {
  for (const tmp of await tempsOf(fs, path)) {
    const text = await fs.readText(tmp);
    // Only a whole file counts (a torn one is what an interrupted write leaves); whether this
    // version can read it is decided as for any session file, so a newer format is kept aside, not lost.
    if (text === undefined || !isCompleteJson(text)) continue;
    await fs.rename(tmp, path);
    return text;
  }
  return undefined;
}

function isCompleteJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

async function removeStaleTemps(fs: StoreFs, path: string): Promise<void> {
  for (const tmp of await tempsOf(fs, path)) await fs.remove(tmp);
}

let tmpCounter = 0;

/** Writes the session atomically: temp file, flush, rename over the target. */
export async function saveSession(fs: StoreFs, path: string, session: ReviewSession): Promise<void> {
  await fs.mkdirp(dirOf(path));
  const tmp = `${path}${TMP_MARK}${Date.now().toString(36)}-${(tmpCounter++).toString(36)}`;
  await fs.writeTextDurable(tmp, serializeSession(session));
  await fs.rename(tmp, path);
}

/**
 * One series' session file, saved after every change. Saves run one after the
 * other in call order (a later save never lands before an earlier one), and a
 * burst of changes coalesces into the last value.
 */
export class SessionFile {
  private queued: ReviewSession | undefined;
  private running: Promise<void> = Promise.resolve();
  private pending = false;

  constructor(
    private readonly fs: StoreFs,
    readonly path: string,
  ) {}

  save(session: ReviewSession): Promise<void> {
    this.queued = session;
    if (!this.pending) {
      this.pending = true;
      // A failed save is reported to its caller; it must not stop the saves after it.
      this.running = this.running
        .catch(() => undefined)
        .then(async () => {
          this.pending = false;
          const s = this.queued!;
          await saveSession(this.fs, this.path, s);
        });
    }
    return this.running;
  }

  /** Resolves once every requested save is on disk. */
  flush(): Promise<void> {
    return this.running;
  }
}
