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
