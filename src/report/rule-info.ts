/**
 * What each rule id means, in one line, for report formats that describe their
 * rules (SARIF's tool.driver.rules) and for `--help`-style listings. The long
 * explanation lives in docs/engine.md under a heading per rule id.
 */
import { RULE_IDS, type RuleId } from '../engine/types';

export interface RuleInfo {
  id: RuleId;
  /** A PascalCase name, as SARIF's reportingDescriptor.name wants. */
  name: string;
  shortDescription: string;
  defaultLevel: 'error' | 'warning' | 'note';
}

const INFO: Record<RuleId, Omit<RuleInfo, 'id'>> = {
  'lock-order': {
    name: 'LockOrder',
    shortDescription: 'Two lock classes are taken in both orders (a cycle in the lock graph): possible ABBA deadlock.',
    defaultLevel: 'error',
  },
  'callback-under-lock': {
    name: 'CallbackUnderLock',
    shortDescription: 'An ops callback is called while holding a lock that the callback path takes again.',
    defaultLevel: 'error',
  },
  'unmap-before-rollback': {
    name: 'UnmapBeforeRollback',
    shortDescription:
      'An irreversible step comes before a fallible step whose error path tries to restore what it undid.',
    defaultLevel: 'warning',
  },
  'unrestored-state': {
    name: 'UnrestoredState',
    shortDescription: "A shared field written before a fallible step is not restored on that step's error path.",
    defaultLevel: 'warning',
  },
  'stale-after-relock': {
    name: 'StaleAfterRelock',
    shortDescription: 'A value read under a lock is used after the lock was dropped and retaken, without revalidation.',
    defaultLevel: 'warning',
  },
  'lock-leak': {
    name: 'LockLeak',
    shortDescription: 'A path returns with a lock held that the other paths release.',
    defaultLevel: 'warning',
  },
  'assert-held': {
    name: 'AssertHeld',
    shortDescription: 'A function that asserts a lock is held is called without that lock.',
    defaultLevel: 'warning',
  },
  'missing-undo': {
    name: 'MissingUndo',
    shortDescription:
      "An acquired resource (pins, a registration, a reference, an allocation) is not released on an error path where the function's other paths release it.",
    defaultLevel: 'warning',
  },
  'published-before-finished': {
    name: 'PublishedBeforeFinished',
    shortDescription:
      'An object is made reachable (put on a list or in an xarray under a lock) and the lock dropped before it is fully set up or finalized.',
    defaultLevel: 'warning',
  },
  'unlocked-access': {
    name: 'UnlockedAccess',
    shortDescription:
      'A field is read or written without the lock that protects it (by knowledge, or by the lock held at most of its other sites).',
    defaultLevel: 'warning',
  },
};

export const RULE_INFO: readonly RuleInfo[] = RULE_IDS.map((id) => ({ id, ...INFO[id] }));

export function ruleInfo(id: RuleId): RuleInfo {
  return { id, ...INFO[id] };
}

/** The rule's section in docs/engine.md: `<base>#<rule-id>`. */
export function ruleHelpUri(id: RuleId, docsBaseUri: string): string {
  return `${docsBaseUri}#${id}`;
}
