import assert from 'node:assert/strict';
import { test } from 'node:test';
import { carryOver, moveAnchor, patchTitle } from '../../../src/review/carry-over';
import * as S from '../../../src/review/session';
import type { FindingInput } from '../../../src/review/types';
import { fixtureSeries, NOW, REVIEWER } from './helpers';
import {
  COMMENT_HELPER,
  COMMENT_WARN,
  DEVICE_C,
  DISMISS_REASON,
  LOCK_LEAK,
  PATCH2,
  REPLY_HELPER,
  reviewedV8,
  UNMAP_FIRST,
} from './scenario';

const V8_PATCH1 = '20260701120000.1001-1-ada@example.org';
const V9_PATCH1 = '20260708090000.1002-1-ada@example.org';
const V9_PATCH2 = '20260708090000.1002-2-ada@example.org';
const PRIVATE_H = 'drivers/iommu/iommufd/demo_private.h';
const TITLE2 = 'iommufd: demo: add demo_access_replace()';

/** v9 moved the lock to line 99: same finding, same fingerprint. */
const LOCK_LEAK_V9: FindingInput = {
  ...LOCK_LEAK,
  line: 99,
  message: '`iommufd_access.ioas_lock` taken at line 99 may be held on return.',
};

async function reviewedV8WithPatch1Comment() {
  let s = reviewedV8(await fixtureSeries('v8.mbox'));
  s = S.addThread(
    s,
    V8_PATCH1,
    { kind: 'diff', file: PRIVATE_H, side: 'new', line: 15, text: '\tu32 list_slot;' },
    'Why u32?',
    NOW,
  ).session;
  return s;
}

test('titles drop the revision and position tags', () => {
  assert.equal(patchTitle('[PATCH v8 2/2] iommufd: demo: add demo_access_replace()'), TITLE2);
  assert.equal(patchTitle('Re: [RFC PATCH v9 3/4] iommufd: demo: add demo_access_replace()'), TITLE2);
});

test('v8 → v9: comments follow their lines, the dismissal follows its fingerprint, the lost line is listed', async () => {
  const v8 = await reviewedV8WithPatch1Comment();
  const fresh = S.createSession(await fixtureSeries('v9.mbox'), REVIEWER, { [V9_PATCH2]: [LOCK_LEAK_V9] });
  const { session, carried, notCarried } = carryOver(v8, fresh);

  assert.deepEqual(carried, { threads: 3, dismissals: 1, adoptions: 0 });
  assert.deepEqual(notCarried, [
    {
      patch: TITLE2,
      what: 'thread',
      summary: 'If this re-add fails too, acc->ioas stays NULL while ioas_unpin',
      reason: 'the line is no longer in the patch: WARN_ON(iopt_add_access(&old_ioas->iopt, acc));',
    },
  ]);
  assert.deepEqual(session.notCarried, notCarried);

  const t1 = session.reviews[V9_PATCH1].threads;
  assert.deepEqual(
    t1.map((t) => [t.anchor, t.comments.map((c) => c.body)]),
    [[{ kind: 'diff', file: PRIVATE_H, side: 'new', line: 15, text: '\tu32 list_slot;' }, ['Why u32?']]],
  );
  const t2 = session.reviews[V9_PATCH2].threads;
  assert.deepEqual(
    t2.map((t) => [t.anchor, t.comments.map((c) => [c.body, c.fromFinding])]),
    [
      // One line lower: v9 added a comment line above the helper.
      [
        {
          kind: 'diff',
          file: DEVICE_C,
          side: 'new',
          line: 47,
          text: '\tiopt_remove_access(&ioas->iopt, acc, acc->list_slot);',
        },
        [
          [COMMENT_HELPER, undefined],
          [REPLY_HELPER, undefined],
        ],
      ],
      // The adopted finding's comment stays a comment on the same statement, now earlier in the function.
      [
        { kind: 'diff', file: DEVICE_C, side: 'new', line: 112, text: '\trc = iopt_add_access(&new_ioas->iopt, acc);' },
        [[UNMAP_FIRST.message, UNMAP_FIRST.fingerprint]],
      ],
    ],
  );
  assert.ok(!t2.some((t) => t.comments.some((c) => c.body === COMMENT_WARN)));
  // Fresh ids from the new session's counter, never clashing.
  const ids = [...t1, ...t2].flatMap((t) => [t.id, ...t.comments.map((c) => c.id)]);
  assert.equal(new Set(ids).size, ids.length);

  assert.deepEqual(
    session.reviews[V9_PATCH2].suggestions.map((x) => [x.fingerprint, x.state, x.reason]),
    [[LOCK_LEAK.fingerprint, 'dismissed', DISMISS_REASON]],
  );
  // A new revision is looked at again and signed again.
  assert.deepEqual([session.reviews[V9_PATCH2].state, session.reviews[V9_PATCH2].trailers], ['new', []]);
});

test('an adoption follows its fingerprint; a gone finding and a gone patch are listed', async () => {
  const v8 = await reviewedV8WithPatch1Comment();
  const v9 = await fixtureSeries('v9.mbox');
  // v9 without its first patch, and with the unmap finding still reported but not the lock one.
  const series = { ...v9, patches: v9.patches.filter((p) => p.id !== V9_PATCH1) };
  const fresh = S.createSession(series, REVIEWER, { [V9_PATCH2]: [{ ...UNMAP_FIRST, line: 112 }] });
  const { session, carried, notCarried } = carryOver(v8, fresh);
  assert.deepEqual(carried, { threads: 2, dismissals: 0, adoptions: 1 });
  assert.deepEqual(notCarried, [
    {
      patch: 'iommufd: demo: keep the access list slot in the access',
      what: 'patch',
      summary: '1 comment thread(s) and dismissal(s)',
      reason: 'no patch with this title in v9',
    },
    {
      patch: TITLE2,
      what: 'thread',
      summary: 'If this re-add fails too, acc->ioas stays NULL while ioas_unpin',
      reason: 'the line is no longer in the patch: WARN_ON(iopt_add_access(&old_ioas->iopt, acc));',
    },
    { patch: TITLE2, what: 'dismissal', summary: LOCK_LEAK.message, reason: 'the finding is not reported on v9' },
  ]);
  const sg = session.reviews[V9_PATCH2].suggestions[0];
  const adoptedThread = session.reviews[V9_PATCH2].threads.find((t) => t.id === sg.threadId);
  assert.equal(sg.state, 'adopted');
  assert.equal(adoptedThread?.comments[0].fromFinding, UNMAP_FIRST.fingerprint);
});

test('C-file comments move with their line when the patch shows it, and stay otherwise', async () => {
  let v8 = S.createSession(await fixtureSeries('v8.mbox'), REVIEWER);
  v8 = S.addThread(
    v8,
    PATCH2,
    { kind: 'source', file: DEVICE_C, line: 114, text: '\tdemo_access_drop_ioas(acc, old_ioas);' },
    'moved',
    NOW,
  ).session;
  v8 = S.addThread(
    v8,
    PATCH2,
    { kind: 'source', file: DEVICE_C, line: 10, text: '#include "demo_private.h"' },
    'outside',
    NOW,
  ).session;
  v8 = S.addThread(v8, PATCH2, { kind: 'patch' }, 'overall', NOW).session;
  const { session, notCarried } = carryOver(v8, S.createSession(await fixtureSeries('v9.mbox'), REVIEWER));
  assert.deepEqual(notCarried, []);
  assert.deepEqual(
    session.reviews[V9_PATCH2].threads.map((t) => t.anchor),
    [
      { kind: 'source', file: DEVICE_C, line: 120, text: '\tdemo_access_drop_ioas(acc, old_ioas);' },
      { kind: 'source', file: DEVICE_C, line: 10, text: '#include "demo_private.h"' },
      { kind: 'patch' },
    ],
  );
});

test('a line re-indented in the next revision keeps its comment; an exact match wins over a whitespace-only one', async () => {
  const v9 = await fixtureSeries('v9.mbox');
  const patch = v9.patches.find((p) => p.id === V9_PATCH2)!;
  // v9 shows `\trc = iopt_add_access(&new_ioas->iopt, acc);` at post-image line 112.
  assert.deepEqual(
    moveAnchor(patch, {
      kind: 'diff',
      file: DEVICE_C,
      side: 'new',
      line: 30,
      text: '    rc = iopt_add_access(&new_ioas->iopt,  acc);',
    }),
    {
      kind: 'diff',
      file: DEVICE_C,
      side: 'new',
      line: 112,
      text: '\trc = iopt_add_access(&new_ioas->iopt, acc);',
    },
  );
  // `\t}` occurs many times: the nearest to the old line wins.
  const brace = moveAnchor(patch, { kind: 'diff', file: DEVICE_C, side: 'new', line: 108, text: '\t}' });
  assert.deepEqual(brace, { kind: 'diff', file: DEVICE_C, side: 'new', line: 109, text: '\t}' });
  assert.equal(
    moveAnchor(patch, { kind: 'diff', file: 'other.c', side: 'new', line: 1, text: '\t}' }),
    'the line is no longer in the patch: }',
  );
});
