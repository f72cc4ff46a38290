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

test('a part that shares items with another (changed functions checked again as one more file) is patched where it is', () => {
  const item = (name: string): Item & { name: string } => ({ part: 0, n: 0, name });
  const [x, f1, g1, y, f2, g3] = ['x', 'f1', 'g1', 'y', 'f2', 'g3'].map(item);
  const part = (...items: Item[]): Part => new Map([['K', items]]);
  const names = (map: ReadonlyMap<string, Item[]>): string[] =>
    (map.get('K') ?? []).map((i) => (i as Item & { name: string }).name);
  // A file with functions f and g (one site each) among files that do not change (the same part objects).
  const before = part(x);
  const after = part(y);
  const others = Array.from({ length: 8 }, (_, n) => new Map([[`other${n}`, [item(`o${n}`)]]]));
  const start = [before, part(f1, g1), after, ...others];
  let last = { parts: start, out: joinListsAgain(start, undefined) };
  // f edited: the file's part has f's new site and g's old one; f is checked again as one more file.
  const first = [before, part(f2, g1), after, ...others, part(f2)];
  let again = joinListsAgain(first, last);
  assert.deepEqual(names(again), names(joinLists(first)));
  assert.equal(again.get('other0'), last.out.get('other0'), 'patched, not joined afresh');
  last = { parts: first, out: again };
  // Then g edited: f keeps its model, so f's site is in the file's part and was in the extra one.
  const second = [before, part(f2, g3), after, ...others, part(g3)];
  again = joinListsAgain(second, last);
  assert.equal(again.get('other0'), last.out.get('other0'), 'patched, not joined afresh');
  assert.deepEqual(names(again), ['x', 'f2', 'g3', 'y', 'g3']);
  assert.deepEqual(names(again), names(joinLists(second)));
});
