/**
 * Subject line tags of patch mail: `Re: [RFC PATCH net-next v8 2/4] title`.
 * The tags are a convention of git format-patch and b4, not of MIME, so they
 * are read here rather than by the mail parser.
 */
import type { SubjectTags } from './types';

const REPLY_PREFIX = /^\s*((re|fwd?|aw|sv)\s*:\s*)+/i;

export function parseSubject(subject: string): { tags: SubjectTags; title: string } {
  const tags: SubjectTags = { patch: false, rfc: false, resend: false, version: 1, extra: [], reply: false };
  let rest = subject.replace(/\s+/g, ' ').trim();
  const reply = REPLY_PREFIX.exec(rest);
  if (reply) {
    tags.reply = true;
    rest = rest.slice(reply[0].length);
  }
  // Several bracket groups may lead the subject: `[PATCH] [v2]`, `[RFC][PATCH 1/2]`.
  for (;;) {
    const group = /^\[([^\]]*)\]\s*/.exec(rest);
    if (!group) break;
    rest = rest.slice(group[0].length);
    for (const word of group[1].split(/[\s,]+/).filter(Boolean)) readTag(word, tags);
  }
  return { tags, title: rest.trim() };
}

function readTag(word: string, tags: SubjectTags): void {
  const upper = word.toUpperCase();
  let m: RegExpExecArray | null;
  if (upper === 'PATCH') tags.patch = true;
  else if (upper === 'RFC') {
    tags.rfc = true;
    tags.patch = true;
  } else if (upper === 'RESEND') tags.resend = true;
  else if ((m = /^v(\d+)$/i.exec(word))) tags.version = Number(m[1]);
  else if ((m = /^PATCHv(\d+)$/i.exec(word))) {
    // `[PATCHv2 1/3]`, an older spelling still seen on the lists.
    tags.patch = true;
    tags.version = Number(m[1]);
  } else if ((m = /^(\d+)\/(\d+)$/.exec(word))) {
    tags.index = Number(m[1]);
    tags.total = Number(m[2]);
  } else tags.extra.push(word);
}
