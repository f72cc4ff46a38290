/**
 * fast-check generators of hostile input for the command line: kernel-style
 * C (macros, iterator and guard macros, gotos to labels that may not exist,
 * unbalanced braces, NULs, huge lines, deep nesting), patch mail (mbox
 * separators, CRLF, MIME multipart with the patch attached, quoted-printable
 * and base64 bodies, `@@` headers with absurd numbers, thousands of files or
 * hunks) and review session files (a valid session, mutated). Each case is
 * a command and the files it reads; judging is harness.ts's job.
 */
import fc from 'fast-check';
import { cFile, gitDiff, patchMail, seriesMbox } from './big-inputs';

export interface FuzzFile {
  name: string;
  content: string | Uint8Array;
}

export interface FuzzCase {
  target: 'check' | 'patch' | 'simulate' | 'reply';
  /** Arguments after the command; file names are relative to the case's folder. */
  args: string[];
  files: FuzzFile[];
  /** stdout must be JSON when the exit status is 0 or 1. */
  json: boolean;
}

const ident = fc.stringMatching(/^[a-z_][a-z0-9_]{0,12}$/);
const lockApi = fc.constantFrom(
  'mutex_lock',
  'mutex_unlock',
  'spin_lock',
  'spin_unlock',
  'down_write',
  'up_write',
  'down_read',
  'up_read',
  'lockdep_assert_held',
);
const lockExpr = fc.constantFrom(
  '&access->ioas_lock',
  '&iopt->iova_rwsem',
  '&pages->mutex',
  '&obj->lock',
  'lock',
  '&(x)->y',
  '',
);

/** One C statement, kernel style, sometimes broken. */
const statement: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(lockApi, lockExpr).map(([f, l]) => `${f}(${l});`),
  ident.map((l) => `goto ${l};`),
  ident.map((l) => `${l}:`),
  fc.constantFrom(
    'rc = iopt_add_access(&new_ioas->iopt, access);',
    'iopt_remove_access(&cur->iopt, access, id);',
    'access->ops->unmap(access->data, iova, length);',
    'access->ioas = NULL;',
    'access->ioas = new_ioas;',
    'refcount_inc(&new_ioas->obj.users);',
    'refcount_dec(&cur->obj.users);',
    'if (rc)',
    'if (rc) goto out_unlock;',
    'return rc;',
    'return -EINVAL;',
    'guard(mutex)(&access->ioas_lock);',
    'scoped_guard(mutex, &obj->lock) {',
    'list_for_each_entry(pos, &head, node) {',
    'list_for_each_entry_safe(pos, n, &head, node)',
    'xa_for_each(&xa, index, entry) {',
    'WARN_ON(change(access, cur->obj.id));',
    '{',
    '}',
    '} else {',
    'while (1)',
    'switch (x) { case 1: break; default: return 0; }',
    '#define FOO(x) do { mutex_lock(x); } while (0)',
    '#ifdef CONFIG_X',
    '#endif',
    '/* unterminated comment',
    '"unterminated string',
    '__must_hold(&x->lock)',
    '\0',
    '\uFFFD\u2028',
  ),
);

/** A function definition with `n` statements, optionally nested `depth` levels. */
const cFunction = fc
  .record({
    name: ident,
    body: fc.array(statement, { maxLength: 30 }),
    depth: fc.nat({ max: 40 }),
    annot: fc.constantFrom('', ' __must_hold(&access->ioas_lock)', ' __acquires(x)'),
  })
  .map(({ name, body, depth, annot }) =>
    [
      `static int ${name}(struct iommufd_access *access, struct iommufd_ioas *new_ioas)${annot}`,
      '{',
      ...Array.from({ length: depth }, () => '\tif (a) {'),
      ...body.map((s) => '\t' + s),
      ...Array.from({ length: depth }, () => '\t}'),
      '}',
    ].join('\n'),
  );

/** Something to splice into text: huge runs, NULs, braces, separators. */
const hostile: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(' ', '\t', 'a', '(', '{', '}', '*', '/*', '-', '>', '\0', '\r', '\\', '@@ '),
      fc.integer({ min: 1, max: 200_000 }),
    )
    .map(([c, n]) => c.repeat(n)),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom(
    '\nFrom nobody Mon Sep 17 00:00:00 2001\nFrom: x\n',
    '\n>From x\n',
    '\r\n',
    '\n-- \n',
    '\n---\n',
    '\nbase-commit: 0123456789abcdef\n',
    '\n@@ -4294967296,99999999999 +1,1 @@\n',
    '\n@@ -1,0 +0,0 @@\n',
    '\ndiff --git a/x b/x\n',
  ),
);

/** Inserts each of `parts` at a position chosen by `at` (fractions of the length). */
function splice(text: string, parts: readonly [number, string][]): string {
  let out = text;
  for (const [at, part] of parts) {
    const i = Math.floor(at * out.length);
    out = out.slice(0, i) + part + out.slice(i);
  }
  return out;
}

const splices = fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), hostile), { maxLength: 3 });

export const cSource: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(fc.array(cFunction, { minLength: 1, maxLength: 6 }), splices)
    .map(([fns, sp]) =>
      splice(['// SPDX-License-Identifier: MIT', '#include <linux/mutex.h>', '', ...fns].join('\n\n'), sp),
    ),
  fc.tuple(fc.integer({ min: 1, max: 300 }), splices).map(([n, sp]) => splice(cFile(n), sp)),
);

export const checkCase: fc.Arbitrary<FuzzCase> = cSource.map((c) => ({
  target: 'check',
  args: ['check', '--format', 'json', 'fuzz.c'],
  files: [{ name: 'fuzz.c', content: c }],
  json: true,
}));

export const simulateCase: fc.Arbitrary<FuzzCase> = fc
  .tuple(cFunction, splices, fc.constantFrom('none', 'add-access', 'add-access,reattach'))
  .map(([fn, sp, fault]) => {
    const name = /^static int ([a-z_0-9]+)\(/.exec(fn)?.[1] ?? 'f';
    return {
      target: 'simulate',
      args: ['simulate', '--from', `helper.c:${name}`, '--format', 'json', '--max-states', '5000', '--fault', fault],
      files: [{ name: 'helper.c', content: splice(fn, sp) }],
      json: true,
    };
  });

function qp(text: string): string {
  // Quoted-printable with soft line breaks every 70 characters, `=` and non-ASCII escaped.
  return text
    .split('\n')
    .map((l) => {
      const enc = [...Buffer.from(l, 'utf8')]
        .map((b) =>
          b === 61 || b > 126 || (b < 32 && b !== 9)
            ? `=${b.toString(16).toUpperCase().padStart(2, '0')}`
            : String.fromCharCode(b),
        )
        .join('');
      const parts: string[] = [];
      for (let i = 0; i < enc.length; i += 70) parts.push(enc.slice(i, i + 70));
      return parts.join('=\n');
    })
    .join('\n');
}

function b64(text: string): string {
  return (
    Buffer.from(text, 'utf8')
      .toString('base64')
      .match(/.{1,76}/g) ?? []
  ).join('\n');
}

/** A mail, encoded one of the ways mail is sent. */
const encodedMail = fc
  .tuple(
    fc.constantFrom('plain', 'qp', 'base64', 'multipart', 'crlf'),
    fc.integer({ min: 1, max: 3 }),
    fc.integer({ min: 1, max: 5 }),
  )
  .map(([how, files, hunks]) => {
    const diff = gitDiff(files, hunks);
    if (how === 'plain') return patchMail({ diff });
    if (how === 'crlf') return patchMail({ diff }).replace(/\n/g, '\r\n');
    const body = `Change the demo helpers.\n\nSigned-off-by: A Developer <dev@example.org>\n---\n${diff}`;
    const head = [
      'From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001',
      'From: A Developer <dev@example.org>',
      'Subject: [PATCH 1/1] iommufd: encoded change',
      'Message-ID: <enc@example.org>',
      'MIME-Version: 1.0',
    ];
    if (how === 'qp')
      return [
        ...head,
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        qp(body),
        '',
      ].join('\n');
    if (how === 'base64')
      return [
        ...head,
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: base64',
        '',
        b64(body),
        '',
      ].join('\n');
    return [
      ...head,
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Change the demo helpers, see the attachment.',
      '--b1',
      'Content-Type: text/x-patch; name="0001-demo.patch"',
      'Content-Disposition: attachment; filename="0001-demo.patch"',
      'Content-Transfer-Encoding: base64',
      '',
      b64(diff),
      '--b1--',
      '',
    ].join('\n');
  });

export const mailText: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(encodedMail, splices).map(([m, sp]) => splice(m, sp)),
  fc
    .tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), splices)
    .map(([p, f, h, sp]) => splice(seriesMbox(p, f, h), sp)),
  // Thousands of files or hunks in one patch.
  fc
    .tuple(fc.constantFrom([2000, 1], [1, 3000], [50, 60]), splices)
    .map(([[f, h], sp]) => splice(patchMail({ diff: gitDiff(f, h) }), sp)),
  fc.string({ unit: 'binary', maxLength: 2000 }),
);

export const patchCase: fc.Arbitrary<FuzzCase> = mailText.map((m) => ({
  target: 'patch',
  args: ['patch', '--format', 'json', 'series.mbox'],
  files: [{ name: 'series.mbox', content: m }],
  json: true,
}));

/** A session file: the valid `base`, with one part replaced by arbitrary JSON, cut short, or spliced. */
export function replyCase(base: string): fc.Arbitrary<FuzzCase> {
  const mutated = fc.oneof(
    fc.tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), fc.jsonValue()).map(([path, value]) => {
      const data = JSON.parse(base) as unknown;
      let node: unknown = data;
      for (let k = 0; k < path.length - 1 && node && typeof node === 'object'; k++) {
        const keys = Object.keys(node as object);
        if (keys.length === 0) break;
        const next = (node as Record<string, unknown>)[keys[path[k] % keys.length]];
        if (!next || typeof next !== 'object') break;
        node = next;
      }
      if (node && typeof node === 'object') {
        const keys = Object.keys(node as object);
        if (keys.length > 0) (node as Record<string, unknown>)[keys[path[path.length - 1] % keys.length]] = value;
      }
      return JSON.stringify(data);
    }),
    fc.double({ min: 0, max: 1, noNaN: true }).map((f) => base.slice(0, Math.floor(f * base.length))),
    fc.tuple(splices).map(([sp]) => splice(base, sp)),
  );
  return fc.tuple(mutated, fc.constantFrom('1', '2', '3', '0', '<nope@example.org>')).map(([s, patch]) => ({
    target: 'reply',
    args: ['reply', 'session.json', patch],
    files: [{ name: 'session.json', content: s }],
    json: false,
  }));
}
