/**
 * Input files → one Series: every message is read, covers, replies, other
 * revisions and non-patch mail are set aside with a reason, and the patches
 * are put in series order (`[PATCH v8 k/N]`) whatever their order in the
 * files. Nothing here throws on bad input: problems are collected.
 */
import { bytesToBinaryString, decodeText } from './bytes';
import { parseMail, plainDiffMail } from './mail';
import { looksLikeMail, splitMbox } from './mbox';
import type { PatchMail, Problem, SetAsideMail, Series } from './types';

export interface SeriesInput {
  /** File name (patch lines are counted in it). */
  name: string;
  /** Bytes as read from disk (charsets decoded per message), or text already decoded. */
  content: string | Uint8Array;
}

async function readInput(input: SeriesInput, problems: Problem[]): Promise<PatchMail[]> {
  const { name, content } = input;
  const head = typeof content === 'string' ? content.slice(0, 512) : bytesToBinaryString(content.subarray(0, 512));
  if (looksLikeMail(head.replace(/^\uFEFF/, ''))) {
    const binary = typeof content !== 'string';
    const text = binary ? bytesToBinaryString(content) : content;
    const mails: PatchMail[] = [];
    for (const raw of splitMbox(text)) mails.push(await parseMail(raw, name, binary));
    return mails;
  }
  let text: string;
  if (typeof content === 'string') text = content;
  else {
    const decoded = decodeText(content);
    text = decoded.text;
    if (!decoded.utf8) problems.push({ source: name, message: 'not valid UTF-8: read as ISO-8859-1' });
  }
  return [plainDiffMail(text, name)];
}

function describe(mail: PatchMail): string {
  return mail.subject || `message at line ${mail.startLine}`;
}

export async function parseSeriesFiles(inputs: readonly SeriesInput[]): Promise<Series> {
  const problems: Problem[] = [];
  const mails: PatchMail[] = [];
  for (const input of inputs) mails.push(...(await readInput(input, problems)));
  const setAside: SetAsideMail[] = [];
  const aside = (mail: PatchMail, reason: string) =>
    setAside.push({ source: mail.source, startLine: mail.startLine, subject: mail.subject, kind: mail.kind, reason });

  const patches = mails.filter((m) => m.kind === 'patch');
  const version =
    patches.reduce((v, m) => Math.max(v, m.tags.version), 0) ||
    mails.find((m) => m.kind === 'cover')?.tags.version ||
    1;
  let cover: PatchMail | undefined;
  const chosen: PatchMail[] = [];
  for (const mail of mails) {
    if (mail.kind === 'reply') aside(mail, 'a reply, not a patch');
    else if (mail.kind === 'other') {
      const why = mail.problems.length > 0 ? mail.problems.join('; ') : 'no diff in this mail';
      aside(mail, why);
      problems.push({ source: mail.source, line: mail.startLine, message: `${describe(mail)}: set aside: ${why}` });
    } else if (mail.tags.version !== version)
      aside(mail, `revision v${mail.tags.version}; the series is reviewed at v${version}`);
    else if (mail.kind === 'cover') {
      if (cover) aside(cover, 'another cover letter of the same revision follows');
      cover = mail;
    } else chosen.push(mail);
  }

  // Later copies win (a RESEND or a corrected re-post of one patch).
  const byIndex = new Map<number, PatchMail>();
  const unnumbered: PatchMail[] = [];
  for (const mail of chosen) {
    const k = mail.tags.index;
    if (k === undefined) unnumbered.push(mail);
    else {
      const earlier = byIndex.get(k);
      if (earlier) aside(earlier, `patch ${k} appears again later in the input; the later copy is used`);
      byIndex.set(k, mail);
    }
  }
  const ordered = [...[...byIndex.keys()].sort((a, b) => a - b).map((k) => byIndex.get(k)!), ...unnumbered];
  const announced = chosen.reduce((t, m) => Math.max(t, m.tags.total ?? 0), 0) || cover?.tags.total || 0;
  for (let k = 1; k <= announced; k++) {
    if (!byIndex.has(k))
      problems.push({ source: inputs[0]?.name ?? '', message: `patch ${k}/${announced} is missing from the input` });
  }
  if (ordered.length === 0)
    problems.push({ source: inputs.map((i) => i.name).join(', '), message: 'no patch found in the input' });

  const first = ordered[0];
  return {
    title: cover?.title || first?.title || '',
    version,
    rfc: (cover ?? first)?.tags.rfc ?? false,
    total: Math.max(announced, ordered.length),
    baseCommit: cover?.baseCommit ?? ordered.find((m) => m.baseCommit)?.baseCommit,
    cover,
    patches: ordered,
    setAside,
    problems,
  };
}

/** One file (an mbox, a single mail, a format-patch file or a plain diff). */
export function parseSeries(content: string | Uint8Array, name = 'series.mbox'): Promise<Series> {
  return parseSeriesFiles([{ name, content }]);
}
