/** A large session whose every part depends on one number: a reader can tell a whole save from a torn one. */
import type { ReviewSession } from '../../../src/review/types';

export function bigSession(generation: number, threads = 3000): ReviewSession {
  const id = 'big@example.org';
  const session: ReviewSession = {
    series: {
      name: 'big-v1',
      title: 'big',
      version: 1,
      patches: [
        {
          id,
          subject: '[PATCH] big',
          index: 1,
          total: 1,
          from: 'A <a@example.org>',
          date: 'x',
          messageId: id,
          references: [],
          to: [],
          cc: [],
          files: [],
        },
      ],
    },
    reviewer: { identity: 'R <r@example.net>' },
    reviews: { [id]: { state: 'reviewing', threads: [], suggestions: [], trailers: [] } },
    nextId: generation,
  };
  for (let k = 0; k < threads; k++)
    session.reviews[id].threads.push({
      id: `t${k}`,
      anchor: { kind: 'patch' },
      comments: [
        {
          id: `c${k}`,
          author: 'R <r@example.net>',
          body: `generation ${generation}, comment ${k}: ${'x'.repeat(400)}`,
          created: 'now',
        },
      ],
    });
  return session;
}
