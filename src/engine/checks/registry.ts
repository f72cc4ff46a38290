/** Every rule, in the order findings of equal position are listed. */
import type { Check } from './check';
import { lockOrder } from './lock-order';
import { callbackUnderLock } from './callback-under-lock';
import { unmapBeforeRollback } from './unmap-before-rollback';
import { unrestoredState } from './unrestored-state';
import { staleAfterRelock } from './stale-after-relock';
import { lockLeak } from './lock-leak';
import { assertHeld } from './assert-held';
import { missingUndo } from './missing-undo';
import { missingUndoTeardown } from './destroy-leaves-entries';
import { publishedBeforeFinished } from './published-before-finished';
import { unlockedAccess } from './unlocked-access';

export const CHECKS: readonly Check[] = [
  lockOrder,
  callbackUnderLock,
  unmapBeforeRollback,
  unrestoredState,
  staleAfterRelock,
  lockLeak,
  assertHeld,
  missingUndo,
  // missing-undo's teardown form: a global pass of the same rule (it reads other functions' bodies)
  missingUndoTeardown,
  publishedBeforeFinished,
  unlockedAccess,
];
