/**
 * Opening a series for review: resume its saved session, or carry over the
 * session of its previous revision, or start fresh; and restoring every saved
 * session when the workspace opens. Over StoreFs, so the extension (workspace
 * fs) and the tests (Node fs) run the same decisions.
 */
import { carryOver, type CarryResult } from './carry-over';
import { createSession, setFindings } from './session';
import { loadSession, SESSION_DIR, sessionPath, type StoreFs } from './store';
import type { FindingInput, ReviewSeries, ReviewSession } from './types';

export interface SetAside {
  path: string;
  movedTo: string;
  reason: string;
}

export interface OpenResult {
  session: ReviewSession;
  path: string;
  /** restored: its own saved session; carried: from `previousPath`; new: nothing to start from. */
  origin: 'restored' | 'carried' | 'new';
  previousPath?: string;
  carry?: CarryResult;
  /** Files that could not be read and were moved aside on the way. */
  setAside: SetAside[];
}

/** `iommufd-demo-v9` → { stem: 'iommufd-demo', version: 9 }. */
export function splitSeriesName(name: string): { stem: string; version: number } | undefined {
  const m = /^(.*)-v(\d+)$/.exec(name);
  return m ? { stem: m[1], version: Number(m[2]) } : undefined;
}

export async function openSeriesSession(
  fs: StoreFs,
  series: ReviewSeries,
  reviewer: string,
  findings: Record<string, FindingInput[]>,
  now: () => Date = () => new Date(),
): Promise<OpenResult> {
  const path = sessionPath(series.name);
  const setAside: SetAside[] = [];
  const own = await loadSession(fs, path, now);
  if (own.kind === 'ok') {
    // Re-analysis may find more or less than last time; decisions stay with their fingerprints.
    let session = own.session;
    for (const p of session.series.patches) if (findings[p.id]) session = setFindings(session, p.id, findings[p.id]);
    if (series.source !== undefined && session.series.source !== series.source)
      session = { ...session, series: { ...session.series, source: series.source } };
    return { session, path, origin: 'restored', setAside };
  }
  if (own.kind === 'set-aside') setAside.push({ path, movedTo: own.movedTo, reason: own.reason });

  const fresh = createSession(series, reviewer, findings);
  const previous = await findPreviousRevision(fs, series.name);
  if (previous) {
    const prev = await loadSession(fs, previous, now);
    if (prev.kind === 'ok') {
      const carry = carryOver(prev.session, fresh);
      return { session: carry.session, path, origin: 'carried', previousPath: previous, carry, setAside };
    }
    if (prev.kind === 'set-aside') setAside.push({ path: previous, movedTo: prev.movedTo, reason: prev.reason });
  }
  return { session: fresh, path, origin: 'new', setAside };
}

/** The saved session of the latest earlier revision of the same series, if any. */
export async function findPreviousRevision(fs: StoreFs, seriesName: string): Promise<string | undefined> {
  const me = splitSeriesName(seriesName);
  if (!me) return undefined;
  let best: { version: number; path: string } | undefined;
  for (const name of await fs.list(SESSION_DIR)) {
    if (!name.endsWith('.json')) continue;
    const other = splitSeriesName(name.slice(0, -'.json'.length));
    if (!other || other.stem !== me.stem || other.version >= me.version) continue;
    if (!best || other.version > best.version) best = { version: other.version, path: `${SESSION_DIR}/${name}` };
  }
  return best?.path;
}

export interface RestoreResult {
  sessions: { path: string; session: ReviewSession }[];
  setAside: SetAside[];
}

/** Every saved session of the workspace (on startup), reporting the ones set aside. */
export async function restoreAll(fs: StoreFs, now: () => Date = () => new Date()): Promise<RestoreResult> {
  const out: RestoreResult = { sessions: [], setAside: [] };
  for (const name of (await fs.list(SESSION_DIR)).sort()) {
    if (!name.endsWith('.json') || name.includes('.corrupt-') || name.includes('.tmp-')) continue;
    const path = `${SESSION_DIR}/${name}`;
    const r = await loadSession(fs, path, now);
    if (r.kind === 'ok') out.sessions.push({ path, session: r.session });
    else if (r.kind === 'set-aside') out.setAside.push({ path, movedTo: r.movedTo, reason: r.reason });
  }
  return out;
}
