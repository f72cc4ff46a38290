/**
 * Large, well-formed inputs built at run time (never committed): mails and
 * diffs in the shape git format-patch writes, kernel-style C, sized by a
 * count. Shared by the linear-time regression tests, the fuzzer's seeds and
 * the scaling benchmark, so all three measure the same shapes.
 */

/** Kernel-style C: `functions` helpers, each taking a mutex around a field update and an error unwind. */
export function cFile(functions: number, name = 'demo'): string {
  const out: string[] = [
    '// SPDX-License-Identifier: MIT',
    '#include <linux/mutex.h>',
    '',
    `struct ${name}_obj {`,
    '\tstruct mutex lock;',
    '\tint users;',
    '\tint state;',
    '};',
    '',
  ];
  for (let k = 0; k < functions; k++) {
    out.push(
      `static int ${name}_update_${k}(struct ${name}_obj *obj, int val)`,
      '{',
      '\tint rc = 0;',
      '',
      '\tmutex_lock(&obj->lock);',
      '\tif (val < 0) {',
      '\t\trc = -EINVAL;',
      '\t\tgoto out_unlock;',
      '\t}',
      `\tobj->state = val + ${k};`,
      '\tobj->users++;',
      'out_unlock:',
      '\tmutex_unlock(&obj->lock);',
      '\treturn rc;',
      '}',
      '',
    );
  }
  return out.join('\n');
}

/** One hunk per helper of cFile(): the `obj->state` line changed, with git's section text. */
function hunksFor(functions: number, name: string): string[] {
  const out: string[] = [];
  for (let k = 0; k < functions; k++) {
    // cFile(): 9 lines before the first helper, 16 lines per helper; the hunk starts at `rc = -EINVAL;`.
    const at = 9 + k * 16 + 7;
    out.push(
      `@@ -${at},5 +${at},5 @@ static int ${name}_update_${k}(struct ${name}_obj *obj, int val)`,
      ' \t\trc = -EINVAL;',
      ' \t\tgoto out_unlock;',
      ' \t}',
      `-\tobj->state = val + ${k};`,
      `+\tobj->state = val + ${k} + 1;`,
      ' \tobj->users++;',
    );
  }
  return out;
}

/** A git diff of `files` files, each with `hunksPerFile` hunks (one per function). */
export function gitDiff(files: number, hunksPerFile: number): string {
  const out: string[] = [];
  for (let f = 0; f < files; f++) {
    const path = `drivers/iommu/iommufd/demo${f}.c`;
    out.push(`diff --git a/${path} b/${path}`, `index 1111111..2222222 100644`, `--- a/${path}`, `+++ b/${path}`);
    for (const l of hunksFor(hunksPerFile, `demo${f}`)) out.push(l);
  }
  return out.join('\n') + '\n';
}

export interface MailOptions {
  subject?: string;
  /** Commit message body lines (before the trailers). */
  message?: string[];
  trailers?: string[];
  diff?: string;
  messageId?: string;
}

/** One format-patch mail (with its mbox `From ` line). */
export function patchMail(o: MailOptions = {}): string {
  return [
    'From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001',
    'From: A Developer <dev@example.org>',
    'Date: Mon, 1 Dec 2025 10:00:00 +0000',
    `Subject: ${o.subject ?? '[PATCH] iommufd: demo change'}`,
    `Message-ID: <${o.messageId ?? 'demo-1@example.org'}>`,
    '',
    ...(o.message ?? ['Change the demo helpers.']),
    '',
    ...(o.trailers ?? ['Signed-off-by: A Developer <dev@example.org>']),
    '---',
    o.diff ?? gitDiff(1, 1),
    '-- ',
    '2.43.0',
    '',
  ].join('\n');
}

/** An mbox of `patches` patch mails of one series, each touching `filesPerPatch` files with `hunksPerFile` hunks. */
export function seriesMbox(patches: number, filesPerPatch = 1, hunksPerFile = 1): string {
  const mails: string[] = [];
  for (let k = 1; k <= patches; k++) {
    mails.push(
      patchMail({
        subject: `[PATCH v2 ${k}/${patches}] iommufd: demo change ${k}`,
        messageId: `demo-${k}@example.org`,
        message: [`Change ${k} of the demo helpers: bump the state by one.`, '', 'Each helper keeps its unwind.'],
        diff: gitDiff(filesPerPatch, hunksPerFile),
      }),
    );
  }
  return mails.join('\n');
}

/** A mail whose commit message has a line of `n` blanks followed by a word, and a trailer with `n` blanks after its colon. */
export function mailWithBlankRuns(n: number, blank = ' '): string {
  return patchMail({
    message: ['Change the demo helpers.', blank.repeat(n) + 'x', '', 'More text' + blank.repeat(n) + '!'],
    trailers: [
      'Signed-off-by:' + blank.repeat(n) + 'A Developer <dev@example.org>',
      'Reviewed-by: Some One <one@example.org>' + blank.repeat(n),
    ],
  });
}
