/**
 * Introduced / fixed / unchanged: findings of the pre- and post-images are
 * matched by file identity and fingerprint (rule, function, the locks or
 * calls involved; never line numbers), as a multiset, so two findings with
 * the same fingerprint pair up one to one. A finding without a fingerprint
 * falls back to rule, function and its message with numbers taken out.
 */
import type { Finding } from '../engine/types';
import type { FindingStatus } from './types';

export function matchKey(f: Finding, fileIdentity: (file: string) => string = (x) => x): string {
  const identity = f.fingerprint || `${f.ruleId}:${f.function}:${f.message.replace(/\d+/g, '#')}`;
  return `${fileIdentity(f.file)}\u0000${identity}`;
}

export interface Classified {
  finding: Finding;
  status: FindingStatus;
  /** The pre-image finding an unchanged one was matched with. */
  before?: Finding;
}

/**
 * `preIdentity` maps a pre-image path to the path the same file has in the
 * post-image (renames), so a finding that moves with its file is unchanged.
 */
export function classifyFindings(
  pre: readonly Finding[],
  post: readonly Finding[],
  preIdentity: (file: string) => string = (x) => x,
): Classified[] {
  const waiting = new Map<string, Finding[]>();
  for (const f of pre) {
    const k = matchKey(f, preIdentity);
    const list = waiting.get(k);
    if (list) list.push(f);
    else waiting.set(k, [f]);
  }
  const out: Classified[] = [];
  for (const f of post) {
    const before = waiting.get(matchKey(f))?.shift();
    out.push(before ? { finding: f, status: 'unchanged', before } : { finding: f, status: 'introduced' });
  }
  for (const list of waiting.values()) for (const f of list) out.push({ finding: f, status: 'fixed' });
  return out;
}
