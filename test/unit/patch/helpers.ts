import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { SeriesInput } from '../../../src/patch/series';

export const root = path.resolve(__dirname, '../../../..');
/** The bundled example series (v8, v9, their base tree) is also the tests' series: one copy. */
export const fixtures = path.join(root, 'examples/series');
/** Inputs no example should carry: truncated, binary, rename-only, ... */
const malformedFixtures = path.join(root, 'test/fixtures/patch/malformed');

export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(path.join(fixtures, name)));
}

export function fixtureText(name: string): string {
  return readFileSync(path.join(fixtures, name), 'utf8');
}

export function malformed(name: string): Uint8Array {
  return new Uint8Array(readFileSync(path.join(malformedFixtures, name)));
}

export function malformedText(name: string): string {
  return readFileSync(path.join(malformedFixtures, name), 'utf8');
}

/** Format-patch files of a directory, in the order given (not sorted: order must not matter). */
export function formatPatchFiles(dir: string, order?: number[]): SeriesInput[] {
  const names = readdirSync(path.join(fixtures, dir))
    .filter((n) => n.endsWith('.patch'))
    .sort();
  const picked = order ? order.map((i) => names[i]) : names;
  return picked.map((n) => ({ name: `${dir}/${n}`, content: fixture(`${dir}/${n}`) }));
}

/** 1-based line of `source` text whose content equals `text` after the `from`-th line. */
export function lineOf(source: string, text: string, from = 1): number {
  const lines = source.split('\n');
  for (let i = from - 1; i < lines.length; i++) if (lines[i] === text) return i + 1;
  throw new Error(`line not found: ${text}`);
}
