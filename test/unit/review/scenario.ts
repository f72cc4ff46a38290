/**
 * The review the reply tests, the CLI test and the end-to-end test share: patch
 * 2/2 of the made-up v8 series, reviewed the way issue 6 describes.
 */
import * as S from '../../../src/review/session';
import { findDiffLine, anchorOfDiffLine } from '../../../src/review/diff-lines';
import type { FindingInput, ReviewSeries, ReviewSession } from '../../../src/review/types';
import { NOW, REVIEWER } from './helpers';

export const DEVICE_C = 'drivers/iommu/iommufd/device.c';
export const PATCH2 = '20260701120000.1001-2-ada@example.org';

export const UNMAP_FIRST: FindingInput = {
  fingerprint: 'unmap-before-rollback:demo_access_replace:demo_access_drop_ioas>iopt_add_access',
  ruleId: 'unmap-before-rollback',
  severity: 'error',
  confidence: 'high',
  message:
    '`demo_access_drop_ioas()` removes the access from the current IOAS and drops its reference (line 114) before `iopt_add_access()` can fail (line 116); the error path (line 119) re-adds the old IOAS but cannot give the driver its pins back.',
  file: DEVICE_C,
  line: 116,
};

export const LOCK_LEAK: FindingInput = {
  fingerprint: 'lock-leak:demo_access_replace:iommufd_access.ioas_lock',
  ruleId: 'lock-leak',
  severity: 'warning',
  confidence: 'low',
  message: '`iommufd_access.ioas_lock` taken at line 98 may be held on return.',
  file: DEVICE_C,
  line: 98,
};

export const STALE: FindingInput = {
  fingerprint: 'stale-after-relock:demo_access_replace:iommufd_access.ioas_lock:old_ioas',
  ruleId: 'stale-after-relock',
  severity: 'warning',
  confidence: 'medium',
  message:
    '`old_ioas`, read under `ioas_lock` at line 99, is used at line 114 after the lock was dropped and retaken (lines 111-113).',
  file: DEVICE_C,
  line: 114,
};

export const COMMENT_HELPER =
  "This drops the old IOAS's reference and its list slot for good.\nNothing after this point can undo it.";
export const REPLY_HELPER = '(The slot is the one saved by patch 1, good.)';
export const COMMENT_WARN =
  'If this re-add fails too, acc->ioas stays NULL while ioas_unpin\nstill points at the old IOAS. And the old IOAS may be gone by now:\nits reference was dropped above.';
export const DISMISS_REASON = 'false positive: out_unlock releases it on every path';

/** Session with: two comments in different hunks (one with a reply), one adopted finding, a dismissal, a pending suggestion, a Reviewed-by. */
export function reviewedV8(series: ReviewSeries): ReviewSession {
  let s = S.createSession(series, REVIEWER, { [PATCH2]: [UNMAP_FIRST, LOCK_LEAK, STALE] });
  const patch = S.patchById(s, PATCH2);
  const at = (line: number) => {
    const place = findDiffLine(patch, DEVICE_C, 'new', line);
    if (!place) throw new Error(`line ${line} not in the patch`);
    return anchorOfDiffLine(place.file, place.line);
  };
  const a = S.addThread(s, PATCH2, at(46), COMMENT_HELPER, NOW);
  s = S.replyInThread(a.session, PATCH2, a.threadId, REPLY_HELPER, NOW).session;
  s = S.adoptSuggestion(s, PATCH2, UNMAP_FIRST.fingerprint, NOW).session;
  s = S.addThread(s, PATCH2, at(119), COMMENT_WARN, NOW).session;
  s = S.dismissSuggestion(s, PATCH2, LOCK_LEAK.fingerprint, DISMISS_REASON);
  s = S.addTrailer(s, PATCH2, { kind: 'Reviewed-by', who: REVIEWER });
  return S.setPatchState(s, PATCH2, 'done');
}
