/** Shared by the review tests: fixtures read through the patch layer, as the CLI and extension do. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseMailDiff } from '../../../src/patch/diff';
import { parseSeries } from '../../../src/patch/series';
import { reviewSeriesFrom } from '../../../src/review/from-series';
import type { ReviewSeries } from '../../../src/review/types';

export const root = path.resolve(__dirname, '../../../..');
export const fixtures = path.join(root, 'test/fixtures/review');

export function fixtureText(name: string): string {
  return readFileSync(path.join(fixtures, name), 'utf8');
}

export async function fixtureSeries(name: string): Promise<ReviewSeries> {
  const text = fixtureText(name);
  const series = await parseSeries(text, name);
  return reviewSeriesFrom(series, series.patches.map(parseMailDiff), { [name]: text });
}

export const REVIEWER = 'Rui Reviewer <rui@example.net>';
export const NOW = '2026-07-02T09:00:00.000Z';
