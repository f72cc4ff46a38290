import assert from 'node:assert/strict';
import { test } from 'node:test';
import { composeReply, composeSessionReply, replySubject } from '../../../src/report/reply';
import * as S from '../../../src/review/session';
import type { PatchReview, ReviewPatch } from '../../../src/review/types';
import { fixtureSeries, fixtureText, NOW, REVIEWER } from './helpers';
import { DEVICE_C, PATCH2, reviewedV8 } from './scenario';

const PATCH1 = '20260701120000.1001-1-ada@example.org';

test('reply to v8 2/2: two comments in different hunks, an adopted finding, a Reviewed-by', async () => {
  const s = reviewedV8(await fixtureSeries('v8.mbox'));
  assert.equal(composeSessionReply(s, PATCH2), fixtureText('v8-2-reply.eml'));
});

test('the patch can be named by Message-ID in brackets or by its number', async () => {
  const s = reviewedV8(await fixtureSeries('v8.mbox'));
  assert.equal(composeSessionReply(s, `<${PATCH2}>`), fixtureText('v8-2-reply.eml'));
  assert.equal(composeSessionReply(s, '2'), fixtureText('v8-2-reply.eml'));
  assert.throws(() => composeSessionReply(s, '7'), /no patch "7"/);
});

test('an Acked-by alone: attribution and trailer, nothing quoted', async () => {
  let s = S.createSession(await fixtureSeries('v8.mbox'), REVIEWER);
  s = S.addTrailer(s, PATCH1, { kind: 'Acked-by', who: REVIEWER });
  assert.equal(composeSessionReply(s, PATCH1), fixtureText('v8-1-ack.eml'));
});

test('no trailers unless the reviewer adds them; To, Cc and From as given', async () => {
  let s = S.createSession(await fixtureSeries('v8.mbox'), REVIEWER);
  const patch = S.patchById(s, PATCH1);
  s = S.addThread(s, PATCH1, { kind: 'patch' }, 'Looks fine.', NOW).session;
  assert.equal(
    composeReply(patch, s.reviews[PATCH1], { from: 'X <x@example.net>', to: ['Y <y@example.net>'], cc: [] }),
    [
      'From: X <x@example.net>',
      'To: Y <y@example.net>',
      'Subject: Re: [PATCH v8 1/2] iommufd: demo: keep the access list slot in the access',
      'In-Reply-To: <20260701120000.1001-1-ada@example.org>',
      'References: <20260701120000.1001-0-ada@example.org>',
      ' <20260701120000.1001-1-ada@example.org>',
      '',
      'On Wed, 1 Jul 2026 12:00:01 +0200, Ada Lovell <ada@example.org> wrote:',
      '',
      'Looks fine.',
      '',
    ].join('\n'),
  );
});

test('a comment on a C line the patch shows is quoted there; one on a line it does not show goes below the quotes', async () => {
  let s = S.createSession(await fixtureSeries('v8.mbox'), REVIEWER);
  // Line 133 is the last line of the second hunk (post-image), line 20 is outside every hunk.
  s = S.addThread(
    s,
    PATCH2,
    { kind: 'source', file: `/home/r/linux/${DEVICE_C}`, line: 133, text: '' },
    'Last line.',
    NOW,
  ).session;
  s = S.addThread(
    s,
    PATCH2,
    { kind: 'source', file: DEVICE_C, line: 20, text: 'static int x;' },
    'About line 20.',
    NOW,
  ).session;
  const body = composeSessionReply(s, PATCH2).split('\n\n').slice(1).join('\n\n');
  assert.equal(
    body,
    [
      'On Wed, 1 Jul 2026 12:00:02 +0200, Ada Lovell <ada@example.org> wrote:',
      '> diff --git a/drivers/iommu/iommufd/device.c b/drivers/iommu/iommufd/device.c',
      '> index 1a1a1a1..2b2b2b2 100644',
      '> --- a/drivers/iommu/iommufd/device.c',
      '> +++ b/drivers/iommu/iommufd/device.c',
      '> [...]',
      '> @@ -80,6 +87,47 @@ int demo_access_attach(struct iommufd_access *acc, u32 ioas_id)',
      '> [...]',
      '> +\treturn rc;',
      '> +}',
      '> +',
      '>  void demo_access_detach(struct iommufd_access *acc)',
      '>  {',
      '>  \tmutex_lock(&acc->ioas_lock);',
      '',
      'Last line.',
      '',
      '> [...]',
      '',
      'About line 20.',
      '',
    ].join('\n'),
  );
});

test('reply subjects: one Re:', () => {
  assert.equal(replySubject('[PATCH] x'), 'Re: [PATCH] x');
  assert.equal(replySubject('Re: [PATCH] x'), 'Re: [PATCH] x');
});

test('removed lines are quoted and commented like added ones; files and hunks skipped are marked', () => {
  const ctx = (text: string, oldLine: number, newLine: number) => ({
    kind: 'context' as const,
    text,
    oldLine,
    newLine,
  });
  const patch: ReviewPatch = {
    id: 'local-1',
    subject: '[PATCH] demo: tidy',
    index: 1,
    total: 1,
    from: 'A <a@example.org>',
    date: 'Thu, 2 Jul 2026 10:00:00 +0000',
    references: [],
    to: [],
    cc: [],
    files: [
      {
        oldPath: 'a.c',
        newPath: 'a.c',
        headerLines: ['diff --git a/a.c b/a.c', '--- a/a.c', '+++ b/a.c'],
        hunks: [
          {
            header: '@@ -1,8 +1,7 @@',
            lines: [
              ctx('l1', 1, 1),
              ctx('l2', 2, 2),
              ctx('l3', 3, 3),
              { kind: 'del', text: 'old4', oldLine: 4 },
              { kind: 'del', text: 'old5', oldLine: 5 },
              { kind: 'add', text: 'new4', newLine: 4 },
              ctx('l6', 6, 5),
            ],
          },
        ],
      },
      {
        oldPath: 'b.c',
        newPath: 'b.c',
        headerLines: ['diff --git a/b.c b/b.c', '--- a/b.c', '+++ b/b.c'],
        hunks: [
          { header: '@@ -10,1 +10,2 @@', lines: [ctx('x10', 10, 10), { kind: 'add', text: 'y', newLine: 11 }] },
          {
            header: '@@ -40,2 +41,3 @@ int f(void)',
            lines: [ctx('z40', 40, 41), { kind: 'add', text: '\tz_new();', newLine: 42 }, ctx('z41', 41, 43)],
          },
        ],
      },
    ],
  };
  const review: PatchReview = {
    state: 'reviewing',
    trailers: [],
    suggestions: [],
    threads: [
      {
        id: 't2',
        anchor: { kind: 'diff', file: 'b.c', side: 'new', line: 42, text: '\tz_new();' },
        comments: [{ id: 'c2', author: REVIEWER, body: 'And this?', created: NOW }],
      },
      {
        id: 't1',
        anchor: { kind: 'diff', file: 'a.c', side: 'old', line: 5, text: 'old5' },
        comments: [{ id: 'c1', author: REVIEWER, body: 'Why remove this?', created: NOW }],
      },
    ],
  };
  assert.equal(
    composeReply(patch, review, { from: REVIEWER }),
    [
      'From: Rui Reviewer <rui@example.net>',
      'To: A <a@example.org>',
      'Subject: Re: [PATCH] demo: tidy',
      '',
      'On Thu, 2 Jul 2026 10:00:00 +0000, A <a@example.org> wrote:',
      '> diff --git a/a.c b/a.c',
      '> --- a/a.c',
      '> +++ b/a.c',
      '> @@ -1,8 +1,7 @@',
      '>  l1',
      '>  l2',
      '>  l3',
      '> -old4',
      '> -old5',
      '',
      'Why remove this?',
      '',
      '> [...]',
      '> diff --git a/b.c b/b.c',
      '> --- a/b.c',
      '> +++ b/b.c',
      '> [...]',
      '> @@ -40,2 +41,3 @@ int f(void)',
      '>  z40',
      '> +\tz_new();',
      '',
      'And this?',
      '',
      '> [...]',
      '',
    ].join('\n'),
  );
});
