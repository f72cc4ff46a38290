/**
 * Whether a function's comment tells its callers to hold a lock ("Caller must
 * hold ...", "Must be called with ... held", "called with the mutex held",
 * "Context: ... held"). Such a function is documented as a helper run under
 * its caller's lock: calling a lock-asserting helper from it without the lock
 * is then the documented contract, not a forgotten lock.
 */

const CALLERS = new Set(['caller', 'callers']);
const OBLIGES = new Set(['must', 'should', 'need', 'needs', 'has', 'have']);
const TAKE = new Set(['hold', 'take', 'own', 'acquire', 'lock']);
const CALLED = new Set(['called', 'invoked', 'entered', 'run', 'runs']);
const WITH = new Set(['with', 'under', 'while', 'holding']);
const HELD = new Set(['held', 'locked', 'taken']);
/** A token that names a lock (`ioas_lock`, `mutex`, `iova_rwsem`, `lock`). */
const isLockWord = (t: string): boolean => t.endsWith('lock') || t.endsWith('mutex') || t.endsWith('sem');

/**
 * Every word a `true` answer below starts from ("caller(s)", "must", the
 * CALLED verbs, "locking", "context"), as a substring: most functions'
 * comments have none, and then the text is not tokenised. Case-folded with
 * `u` so that every character whose lower case is one of these letters (the
 * Kelvin sign) matches too, as it does after `toLowerCase()`.
 */
const MAY_DOCUMENT = /caller|must|called|invoked|entered|run|locking|context/iu;

/**
 * Comment text before or inside a function says callers hold a lock. Words
 * are compared in order over a lower-cased token list (no regex over the
 * prose: comments are untrusted input of any length).
 */
export function documentsCallerHolds(comment: string): boolean {
  if (!MAY_DOCUMENT.test(comment)) return false;
  const t = comment
    .toLowerCase()
    .split(/[^a-z0-9_]+/)
    .filter((w) => w.length > 0);
  const within = (from: number, n: number, ok: (w: string) => boolean): boolean => t.slice(from, from + n).some(ok);
  for (let i = 0; i < t.length; i++) {
    const w = t[i];
    // "Caller must hold ...", "callers need to take ..."
    if (
      CALLERS.has(w) &&
      OBLIGES.has(t[i + 1] ?? '') &&
      (TAKE.has(t[i + 2] ?? '') || (t[i + 2] === 'to' && TAKE.has(t[i + 3] ?? '')))
    )
      return true;
    // "must hold ..."
    if (w === 'must' && t[i + 1] === 'hold') return true;
    // "called with X held", "must be called with ...", "called under iommu->lock", "invoked holding the mutex"
    if (CALLED.has(w) && WITH.has(t[i + 1] ?? '')) {
      if (t[i - 1] === 'be' && t[i - 2] === 'must') return true;
      if (within(i + 2, 6, (x) => HELD.has(x))) return true;
      if (t[i + 1] !== 'with' && within(i + 2, 4, isLockWord)) return true;
    }
    // "Locking: the caller ...", "Context: ... held"
    if (
      (w === 'locking' || w === 'context') &&
      within(i + 1, 16, (x) => (w === 'locking' ? CALLERS.has(x) : x === 'held'))
    )
      return true;
  }
  return false;
}

/** The comments of a C text (block and line comments), joined; a linear scan, no regex. */
export function commentsOf(text: string): string {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const slash = text.indexOf('/', i);
    if (slash < 0 || slash + 1 >= text.length) break;
    const next = text[slash + 1];
    if (next === '*') {
      const end = text.indexOf('*/', slash + 2);
      out.push(text.slice(slash + 2, end < 0 ? text.length : end));
      i = end < 0 ? text.length : end + 2;
    } else if (next === '/') {
      const end = text.indexOf('\n', slash + 2);
      out.push(text.slice(slash + 2, end < 0 ? text.length : end));
      i = end < 0 ? text.length : end + 1;
    } else i = slash + 1;
  }
  return out.join('\n');
}
