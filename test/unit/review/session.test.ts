import assert from 'node:assert/strict';
import { test } from 'node:test';
import { anchorAtPatchLine, patchLineOf } from '../../../src/review/diff-lines';
import * as S from '../../../src/review/session';
import { fixtureSeries, NOW, REVIEWER } from './helpers';
import { DEVICE_C, DISMISS_REASON, LOCK_LEAK, PATCH2, reviewedV8, STALE, UNMAP_FIRST } from './scenario';

const LATER = '2026-07-02T10:00:00.000Z';

test('a new session: every patch new, findings pending at their diff lines', async () => {
  const series = await fixtureSeries('v8.mbox');
  const s = S.createSession(series, REVIEWER, { [PATCH2]: [UNMAP_FIRST, STALE] });
  assert.deepEqual(
    Object.values(s.reviews).map((r) => r.state),
    ['new', 'new'],
  );
  assert.deepEqual(
    s.reviews[PATCH2].suggestions.map((x) => [x.fingerprint, x.state, x.anchor]),
    [
      [
        UNMAP_FIRST.fingerprint,
        'pending',
        { kind: 'diff', file: DEVICE_C, side: 'new', line: 116, text: '\trc = iopt_add_access(&new_ioas->iopt, acc);' },
      ],
      [
        STALE.fingerprint,
        'pending',
        { kind: 'diff', file: DEVICE_C, side: 'new', line: 114, text: '\tdemo_access_drop_ioas(acc, old_ioas);' },
      ],
    ],
  );
  assert.deepEqual(S.pendingSuggestions(s, PATCH2).length, 2);
});

test('operations return a new session and leave their input alone', async () => {
  const s0 = S.createSession(await fixtureSeries('v8.mbox'), REVIEWER, { [PATCH2]: [UNMAP_FIRST] });
  const before = structuredClone(s0);
  const a = S.addThread(s0, PATCH2, { kind: 'patch' }, 'hello', NOW);
  S.adoptSuggestion(a.session, PATCH2, UNMAP_FIRST.fingerprint, NOW);
  S.setPatchState(s0, PATCH2, 'done');
  assert.deepEqual(s0, before);
  assert.equal(a.session.reviews[PATCH2].state, 'reviewing');
  assert.equal(a.threadId, 't1');
  assert.equal(a.commentId, 'c2');
});

test('threads: reply, edit, delete; an empty thread goes', async () => {
  let s = S.createSession(await fixtureSeries('v8.mbox'), REVIEWER);
  const a = S.addThread(s, PATCH2, { kind: 'patch' }, 'first', NOW);
  const b = S.replyInThread(a.session, PATCH2, a.threadId, 'second', NOW);
  s = S.editComment(b.session, PATCH2, a.commentId, 'first, edited', LATER);
  assert.deepEqual(s.reviews[PATCH2].threads, [
    {
      id: a.threadId,
      anchor: { kind: 'patch' },
      comments: [
        { id: a.commentId, author: REVIEWER, body: 'first, edited', created: NOW, edited: LATER },
        { id: b.commentId, author: REVIEWER, body: 'second', created: NOW },
      ],
    },
  ]);
  s = S.deleteComment(s, PATCH2, a.commentId);
  assert.deepEqual(
    s.reviews[PATCH2].threads[0].comments.map((c) => c.body),
    ['second'],
  );
  s = S.deleteComment(s, PATCH2, b.commentId);
  assert.deepEqual(s.reviews[PATCH2].threads, []);
  assert.throws(() => S.addThread(s, PATCH2, { kind: 'patch' }, '  \n', NOW), /needs some text/);
  assert.throws(() => S.editComment(s, PATCH2, 'c99', 'x', NOW), /no comment c99/);
  assert.throws(() => S.addThread(s, 'nope', { kind: 'patch' }, 'x', NOW), /no patch nope/);
});

test('adopting makes an ordinary editable comment; deleting it makes the suggestion pending again', async () => {
  let s = S.createSession(await fixtureSeries('v8.mbox'), REVIEWER, { [PATCH2]: [UNMAP_FIRST] });
  const a = S.adoptSuggestion(s, PATCH2, UNMAP_FIRST.fingerprint, NOW);
  s = a.session;
  const t = s.reviews[PATCH2].threads[0];
  assert.deepEqual(t.comments, [
    {
      id: a.commentId,
      author: REVIEWER,
      body: UNMAP_FIRST.message,
      created: NOW,
      fromFinding: UNMAP_FIRST.fingerprint,
    },
  ]);
  assert.deepEqual(t.anchor, s.reviews[PATCH2].suggestions[0].anchor);
  assert.equal(s.reviews[PATCH2].suggestions[0].state, 'adopted');
  assert.equal(s.reviews[PATCH2].suggestions[0].threadId, a.threadId);
  assert.throws(() => S.adoptSuggestion(s, PATCH2, UNMAP_FIRST.fingerprint, NOW), /already adopted/);
  assert.throws(() => S.dismissSuggestion(s, PATCH2, UNMAP_FIRST.fingerprint, 'x'), /adopted/);
  s = S.editComment(s, PATCH2, a.commentId, 'My own words.', LATER);
  assert.equal(s.reviews[PATCH2].threads[0].comments[0].body, 'My own words.');
  s = S.deleteThread(s, PATCH2, a.threadId);
  assert.deepEqual(
    s.reviews[PATCH2].suggestions.map((x) => [x.state, x.threadId]),
    [['pending', undefined]],
  );
});

test('dismissals keep their reason and can be taken back', async () => {
  let s = S.createSession(await fixtureSeries('v8.mbox'), REVIEWER, { [PATCH2]: [LOCK_LEAK] });
  s = S.dismissSuggestion(s, PATCH2, LOCK_LEAK.fingerprint, `  ${DISMISS_REASON} `);
  assert.deepEqual(
    [s.reviews[PATCH2].suggestions[0].state, s.reviews[PATCH2].suggestions[0].reason],
    ['dismissed', DISMISS_REASON],
  );
  assert.deepEqual(S.pendingSuggestions(s, PATCH2), []);
  s = S.restoreSuggestion(s, PATCH2, LOCK_LEAK.fingerprint);
  assert.deepEqual(
    [s.reviews[PATCH2].suggestions[0].state, s.reviews[PATCH2].suggestions[0].reason],
    ['pending', undefined],
  );
});

test('re-analysis keeps decisions by fingerprint; pending findings that are gone go', async () => {
  const s0 = reviewedV8(await fixtureSeries('v8.mbox'));
  const moved = { ...UNMAP_FIRST, message: 'new words', line: 119 };
  const s = S.setFindings(s0, PATCH2, [moved]);
  assert.deepEqual(
    s.reviews[PATCH2].suggestions.map((x) => [
      x.fingerprint,
      x.state,
      x.message,
      x.anchor.kind === 'diff' ? x.anchor.line : 0,
      x.reason,
    ]),
    [
      [UNMAP_FIRST.fingerprint, 'adopted', 'new words', 119, undefined],
      [LOCK_LEAK.fingerprint, 'dismissed', LOCK_LEAK.message, 98, DISMISS_REASON],
    ],
  );
});

test('states, trailers once', async () => {
  let s = S.createSession(await fixtureSeries('v8.mbox'), REVIEWER);
  for (const st of ['reviewing', 'skipped', 'done', 'new'] as const) {
    s = S.setPatchState(s, PATCH2, st);
    assert.equal(s.reviews[PATCH2].state, st);
  }
  const t = { kind: 'Reviewed-by', who: REVIEWER } as const;
  s = S.addTrailer(S.addTrailer(s, PATCH2, t), PATCH2, t);
  assert.deepEqual(s.reviews[PATCH2].trailers, [t]);
  s = S.removeTrailer(s, PATCH2, t);
  assert.deepEqual(s.reviews[PATCH2].trailers, []);
});

test('patch lines and anchors map both ways', async () => {
  const s = S.createSession(await fixtureSeries('v8.mbox'), REVIEWER);
  const patch = S.patchById(s, PATCH2);
  // In v8.mbox, line 82 shows `+	iopt_remove_access(...)` (post-image line 46); line 70 is the blank line before the diff.
  const a = anchorAtPatchLine(patch, 82);
  assert.deepEqual(a, {
    kind: 'diff',
    file: DEVICE_C,
    side: 'new',
    line: 46,
    text: '\tiopt_remove_access(&ioas->iopt, acc, acc->list_slot);',
  });
  assert.equal(patchLineOf(patch, a!), 82);
  assert.equal(anchorAtPatchLine(patch, 70), undefined);
  assert.equal(patchLineOf(patch, { kind: 'patch' }), undefined);
});
