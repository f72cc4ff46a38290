/**
 * `npm run fuzz -- [--runs N] [--seed S] [--target check,patch,simulate,reply]`:
 * a longer fuzz run; failing inputs are saved under fuzz-failures/ with the
 * command that reproduces them. Exit 1 when any case failed.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fuzz, TARGETS, type Target } from './fuzz';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '100' },
      seed: { type: 'string', default: String(Date.now() % 100000) },
      target: { type: 'string', default: TARGETS.join(',') },
    },
  });
  const runs = Number(values.runs);
  const seed = Number(values.seed);
  const targets = values.target.split(',') as Target[];
  if (!Number.isInteger(runs) || runs <= 0 || !Number.isInteger(seed) || targets.some((t) => !TARGETS.includes(t))) {
    console.error(`usage: npm run fuzz -- [--runs N] [--seed S] [--target ${TARGETS.join(',')}]`);
    return 2;
  }
  const saveDir = path.resolve(__dirname, '../../../fuzz-failures');
  console.log(`fuzz: seed ${seed}, ${runs} cases per target (${targets.join(', ')}); failures go to ${saveDir}`);
  const { cases, failures } = await fuzz({
    runs: Object.fromEntries(targets.map((t) => [t, runs])),
    seed,
    saveDir,
    log: (l) => console.log(l),
  });
  console.log(`fuzz: ${cases} cases, ${failures.length} failed (seed ${seed})`);
  return failures.length > 0 ? 1 : 0;
}

main().then((code) => process.exit(code));
