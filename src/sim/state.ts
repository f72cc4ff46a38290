/**
 * The model's state as one small byte array: globals first, then four bytes
 * per thread. A state's identity for hashing is its bytes, so equal states
 * found by different interleavings are explored once.
 */
import { IOAS_A, IOAS_B, IOAS_NAMES } from './program';
import type { ThreadProgram } from './program';
import type { StateView } from './types';

/** Global slots. Per-IOAS arrays are indexed by IOAS number - 1. */
export const G = {
  /** access->ioas, access->ioas_unpin, access->iopt_access_list_id */
  IOAS: 0,
  UNPIN: 1,
  LID: 2,
  /** the access's slot in each IOAS's access list (0: not in it) */
  SLOT: 3,
  /** users references the access holds on each IOAS */
  REFS: 5,
  ALIVE: 7,
  /** pages the driver pinned into each IOAS */
  PINS: 9,
  /** mutex holders: thread index + 1, 0 when free */
  L_IOAS: 11,
  L_DRV: 12,
  /** writer of IOAS A's iova_rwsem (thread index + 1); readers only hold it within one atomic step */
  IOVA_W: 13,
  /** the user's unmap holds a users reference on A */
  UREF: 14,
  /** the replacer's own unmap callback dropped driver pins */
  DROPPED: 15,
  /** snapshot at the replacer's entry, for the failure contract */
  SNAP: 16,
  S_IOAS: 17,
  S_UNPIN: 18,
  S_LID: 19,
  S_SLOT: 20,
  S_REFS: 22,
} as const;
export const GLOBALS = 24;

/** Per-thread slots, relative to the thread's base. */
export const T = { PC: 0, RC: 1, CUR: 2, SID: 3 } as const;
export const THREAD_SLOTS = 4;

export const threadBase = (t: number): number => GLOBALS + THREAD_SLOTS * t;

/** Before anything runs: the access is attached to A (slot 1, one reference) and the driver has a page pinned in A. */
export function initialState(threads: number): Uint8Array {
  const s = new Uint8Array(GLOBALS + THREAD_SLOTS * threads);
  s[G.IOAS] = IOAS_A;
  s[G.UNPIN] = IOAS_A;
  s[G.LID] = IOAS_A;
  s[G.SLOT + IOAS_A - 1] = IOAS_A;
  s[G.REFS + IOAS_A - 1] = 1;
  s[G.ALIVE + IOAS_A - 1] = 1;
  s[G.ALIVE + IOAS_B - 1] = 1;
  s[G.PINS + IOAS_A - 1] = 1;
  return s;
}

const name = (x: number): string | null => (x === 0 ? null : IOAS_NAMES[x]);

/** The state as a reader sees it in a trace lane. */
export function viewState(s: Uint8Array, programs: ThreadProgram[]): StateView {
  const who = (h: number): string => programs[h - 1]?.thread ?? `#${h}`;
  const locks: string[] = [];
  if (s[G.L_IOAS]) locks.push(`ioas_lock@${who(s[G.L_IOAS])}`);
  if (s[G.L_DRV]) locks.push(`drv_lock@${who(s[G.L_DRV])}`);
  if (s[G.IOVA_W]) locks.push(`iova_rwsem(A):W@${who(s[G.IOVA_W])}`);
  const per = <V>(f: (x: number) => V): Record<string, V> => ({ A: f(IOAS_A), B: f(IOAS_B) });
  return {
    ioas: name(s[G.IOAS]),
    ioasUnpin: name(s[G.UNPIN]),
    listId: s[G.LID],
    locks,
    pins: per((x) => s[G.PINS + x - 1]),
    lists: per((x) => s[G.SLOT + x - 1] || null),
    users: per((x) => s[G.REFS + x - 1] + (x === IOAS_A ? s[G.UREF] : 0)),
    destroyed: [IOAS_A, IOAS_B].filter((x) => !s[G.ALIVE + x - 1]).map((x) => IOAS_NAMES[x]),
  };
}
