import assert from 'node:assert/strict';
import { test } from 'node:test';
import { composeReply, composeSessionReply, replySubject } from '../../../src/report/reply';
import * as S from '../../../src/review/session';
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
  s = S.addThread(s, PATCH2, { kind: 'source', file: `/home/r/linux/${DEVICE_C}`, line: 133, text: '' }, 'Last line.', NOW).session;
  s = S.addThread(s, PATCH2, { kind: 'source', file: DEVICE_C, line: 20, text: 'static int x;' }, 'About line 20.', NOW).session;
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
