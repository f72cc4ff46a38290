/**
 * PatchedMap (src/engine/checks/patched-map.ts) holds what copying a Map and
 * then setting and deleting keys would: the same entries in the same order,
 * version after version, each version unchanged by the later ones.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PatchedMap } from '../../../src/engine/checks/patched-map';

/** A small deterministic generator (no Math.random: a failure must replay). */
function numbers(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

const same = (patched: ReadonlyMap<string, number>, real: ReadonlyMap<string, number>, what: string): void => {
  assert.deepEqual([...patched], [...real], what);
  assert.deepEqual([...patched.keys()], [...real.keys()], what);
  assert.deepEqual([...patched.values()], [...real.values()], what);
  assert.equal(patched.size, real.size, what);
  for (const key of ['k0', 'k3', 'k7', 'k40', 'k41', 'absent']) {
    assert.equal(patched.get(key), real.get(key), `${what}: get ${key}`);
    assert.equal(patched.has(key), real.has(key), `${what}: has ${key}`);
  }
  const seen: [string, number][] = [];
  patched.forEach((v, k) => seen.push([k, v]));
  assert.deepEqual(seen, [...real]);
};

test('version after version, the same entries and order as a copied Map set and deleted alike', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const next = numbers(seed);
    const base = new Map<string, number>();
    for (let i = 0; i < 40; i++) base.set(`k${i}`, i);
    let patched = PatchedMap.of(base);
    let real = new Map(base);
    const versions: [PatchedMap<string, number>, Map<string, number>][] = [];
    for (let round = 0; round < 60; round++) {
      const changes: [string, number | undefined][] = [];
      // a few keys per round, old and new ones, some deleted and set again later
      for (let n = 1 + Math.floor(next() * 3); n > 0; n--)
        changes.push([`k${Math.floor(next() * 50)}`, next() < 0.35 ? undefined : round * 100 + n]);
      real = new Map(real);
      for (const [k, v] of changes) {
        if (v === undefined) real.delete(k);
        else real.set(k, v);
      }
      patched = patched.with(changes);
      same(patched, real, `seed ${seed} round ${round}`);
      versions.push([patched, real]);
    }
    // earlier versions are not changed by later patches
    for (const [i, [p, r]] of versions.entries()) same(p, r, `seed ${seed} version ${i} at the end`);
  }
});

test('of() wraps a Map without copying it and keeps a PatchedMap as it is', () => {
  const base = new Map([['a', 1]]);
  const p = PatchedMap.of(base);
  assert.equal(PatchedMap.of(p), p);
  assert.equal(p.get('a'), 1);
  assert.deepEqual([...p.with([['a', undefined]])], []);
  assert.deepEqual([...p], [['a', 1]]);
});

test('sameKeyOrder: versions of one base agree with a key-by-key comparison', () => {
  const keysEqual = (a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean =>
    JSON.stringify([...a.keys()]) === JSON.stringify([...b.keys()]);
  const base = new Map<string, number>();
  for (let i = 0; i < 40; i++) base.set(`k${i}`, i);
  const root = PatchedMap.of(base);
  const versions: [string, PatchedMap<string, number>][] = [
    ['root', root],
    ['value replaced', root.with([['k3', 100]])],
    ['other value replaced', root.with([['k7', 100]])],
    ['k3 deleted', root.with([['k3', undefined]])],
    ['k7 deleted', root.with([['k7', undefined]])],
    [
      'k3 deleted then set (moves last)',
      root.with([
        ['k3', undefined],
        ['k3', 3],
      ]),
    ],
    ['appended a', root.with([['a', 1]])],
    ['appended b', root.with([['b', 1]])],
    [
      'appended a then b',
      root.with([
        ['a', 1],
        ['b', 2],
      ]),
    ],
    [
      'appended b then a',
      root.with([
        ['b', 1],
        ['a', 2],
      ]),
    ],
    [
      'appended a, replaced k1',
      root.with([
        ['a', 5],
        ['k1', 9],
      ]),
    ],
  ];
  const plain = new Map(root.with([['a', 5]]));
  let agreeing = 0;
  for (const [na, a] of versions) {
    for (const [nb, b] of versions) {
      assert.equal(PatchedMap.sameKeyOrder(a, b), keysEqual(a, b), `${na} / ${nb}`);
      if (keysEqual(a, b)) agreeing++;
    }
    assert.equal(PatchedMap.sameKeyOrder(a, plain), keysEqual(a, plain), `${na} / a plain Map`);
    assert.equal(PatchedMap.sameKeyOrder(plain, a), keysEqual(plain, a), `a plain Map / ${na}`);
  }
  // Pairs with the same keys in order: root and the two replacements (3 × 3), 'appended a' and 'appended a,
  // replaced k1' (2 × 2), and each of the other six versions with itself.
  assert.equal(agreeing, 9 + 4 + 6);
});
