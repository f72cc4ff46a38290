/**
 * joinListsAgain (src/engine/checks/joined-lists.ts) patches the last join
 * after some parts changed: every key's list must be the one a fresh join of
 * the new parts gives, in the same order, whatever the edit did to a part
 * (items replaced by new objects, items added or dropped, a key new to the
 * part or gone from it, a key new to the whole join), and with a part more
 * or less at the end.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { joinLists, joinListsAgain } from '../../../src/engine/checks/joined-lists';

/** A small deterministic generator (no Math.random: a failure must replay). */
function numbers(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

interface Item {
  part: number;
  n: number;
}
type Part = Map<string, Item[]>;

function makePart(next: () => number, part: number, keys: number): Part {
  const out: Part = new Map();
  for (let k = 0; k < keys; k++) {
    if (next() < 0.5) continue;
    const count = 1 + Math.floor(next() * 3);
    out.set(
      `key${k}`,
      Array.from({ length: count }, (_, n) => ({ part, n })),
    );
  }
  return out;
}

/** An edit of one part: every item a new object (a re-parsed file), some keys dropped, gained, or resized. */
function edited(next: () => number, was: Part, part: number, keys: number): Part {
  const out: Part = new Map();
  for (const [key, items] of was) {
    const r = next();
    if (r < 0.15) continue;
    const count = r < 0.3 ? items.length + 1 : r < 0.4 && items.length > 1 ? items.length - 1 : items.length;
    out.set(
      key,
      Array.from({ length: count }, (_, n) => ({ part, n: n + 100 })),
    );
  }
  for (let k = 0; k < keys + 2; k++) if (!out.has(`key${k}`) && next() < 0.2) out.set(`key${k}`, [{ part, n: 200 }]);
  return out;
}

const asRecord = (map: ReadonlyMap<string, Item[]>): Record<string, Item[]> => {
  const out: Record<string, Item[]> = {};
  for (const key of [...map.keys()].sort()) out[key] = map.get(key)!;
  return out;
};

test('after parts change, the patched join equals a fresh join, key by key and item by item', () => {
  let kept = 0;
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const next = numbers(seed);
    const keys = 12;
    let parts = Array.from({ length: 16 }, (_, i) => makePart(next, i, keys));
    let last = { parts, out: joinListsAgain(parts, undefined) };
    for (let round = 0; round < 6; round++) {
      const changedParts = new Set([Math.floor(next() * parts.length), Math.floor(next() * parts.length)]);
      parts = parts.map((p, i) => (changedParts.has(i) ? edited(next, p, i, keys) : p));
      // A part more or less at the end (the changed functions checked as one more file, and then not).
      if (round % 3 === 1) parts = [...parts, makePart(next, parts.length, keys + 2)];
      if (round % 3 === 2) parts = parts.slice(0, -1);
      const again = joinListsAgain(parts, last);
      const fresh = joinLists(parts);
      assert.deepEqual(asRecord(again), asRecord(fresh), `seed ${seed}, round ${round}`);
      for (const [key, list] of again)
        for (const item of list) assert.ok(parts[item.part].get(key)?.includes(item), `${key}: an item of its part`);
      // A key several parts share, untouched by the edit, keeps the last join's list (a fresh join would copy it).
      for (const [key, list] of again)
        if (list === last.out.get(key) && parts.filter((p) => p.has(key)).length > 1) kept++;
      last = { parts, out: again };
    }
  }
  // The patch path, not a fresh join, was what these rounds compared.
  assert.ok(kept >= 40, `${kept} lists kept`);
});
