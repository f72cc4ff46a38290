/**
 * unlocked-access: a field touched without the lock its other sites hold
 * (lockset consensus), through member chains and small helpers.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeSources } from '../../../src/engine/engine';
import type { Finding } from '../../../src/engine/types';
import { analyzeFixtures, fixtureSource, lineOf, ofRule, relatedLines, sharedParser } from './engine-fixtures';

const RING = 'unlocked-access/ring-state.c';

/** unlocked-access findings, at low, on a variant of a fixture's text (under the fixture's path). */
async function onVariant(fixture: string, text: string): Promise<Finding[]> {
  const parser = await sharedParser();
  return ofRule(
    analyzeSources(parser, [{ path: fixtureSource(fixture).path, text }], { minConfidence: 'low' }),
    'unlocked-access',
  );
}

test('unlocked-access: a read through a chain and a read through a helper, each without the lock the other sites hold', async () => {
  const found = ofRule(await analyzeFixtures([RING], { minConfidence: 'low' }), 'unlocked-access');
  const kick = lineOf(RING, 'if (ring_busy(d))');
  const peek = lineOf(RING, 'return q->owner->state;');
  assert.deepEqual(
    found.map((f) => `${f.function}:${f.line}:${f.confidence}`),
    [`ring_kick:${kick}:low`, `ring_queue_peek:${peek}:low`],
  );
  const [viaHelper, viaChain] = found;
  const busyRead = lineOf(RING, 'return d->state == 2;');
  assert.equal(
    viaHelper.message,
    `\`ring_kick()\` calls \`ring_busy()\` at line ${kick} without holding \`ring_dev.lock\`; it reaches a read of \`d->state\` in \`ring_busy()\` (line ${busyRead}), which protects \`ring_dev.state\` at 6 of its 8 sites in view.`,
  );
  // The access (the witness's use), then the locked sites as evidence: the first four by line.
  const locked = [
    lineOf(RING, '\td->state = v;'),
    lineOf(RING, '\td->state++;'),
    lineOf(RING, '\tv = d->state;'),
    lineOf(RING, 'busy = ring_busy(d);'),
  ];
  assert.deepEqual(relatedLines(viaHelper), [busyRead, ...locked]);
  assert.deepEqual(
    viaHelper.related.map((r) => r.role),
    ['use', undefined, undefined, undefined, undefined],
  );
  assert.equal(viaHelper.fingerprint, 'unlocked-access:ring_kick:ring_dev.lock,ring_dev.state');
  assert.equal(
    viaChain.message,
    `\`ring_queue_peek()\` reads \`q->owner->state\` at line ${peek} without holding \`ring_dev.lock\`, which protects \`ring_dev.state\` at 6 of its 8 sites in view.`,
  );
  assert.deepEqual(relatedLines(viaChain), [peek, ...locked]);
  assert.equal(viaChain.scenario.variant, 'none');
});

test('unlocked-access: under the lock through a chain, a caller holding it, a fresh object, READ_ONCE: nothing', async () => {
  const found = ofRule(await analyzeFixtures([RING], { minConfidence: 'low' }), 'unlocked-access');
  for (const quiet of ['ring_queue_check', '__ring_reset', 'ring_make', 'ring_kicks', 'ring_poll', 'ring_busy']) {
    assert.deepEqual(
      found.filter((f) => f.function === quiet).map((f) => f.message),
      [],
      quiet,
    );
  }
});

test('unlocked-access: the deviant caller takes the lock: nothing; the consensus falls below 75%: nothing', async () => {
  const src = fixtureSource(RING);
  const fixed = src.text
    .replace(
      '\tif (ring_busy(d))\n\t\treturn -16;\n\treturn 0;',
      '\tint busy;\n\n\tmutex_lock(&d->lock);\n\tbusy = ring_busy(d);\n\tmutex_unlock(&d->lock);\n\treturn busy ? -16 : 0;',
    )
    .replace(
      '\treturn q->owner->state;',
      '\tint v;\n\n\tmutex_lock(&q->owner->lock);\n\tv = q->owner->state;\n\tmutex_unlock(&q->owner->lock);\n\treturn v;',
    );
  assert.notEqual(fixed, src.text);
  assert.deepEqual(await onVariant(RING, fixed), []);
  // Five more lockless readers: 6 locked sites of 13, under half: no habit to deviate from.
  const loose =
    src.text +
    ['a', 'b', 'c', 'd', 'e'].map((n) => `\nint ring_${n}(struct ring_dev *d)\n{\n\treturn d->state;\n}\n`).join('');
  assert.deepEqual(
    (await onVariant(RING, loose)).map((f) => f.function),
    [],
  );
});

const CACHE = 'unlocked-access/two-lock-cache.c';

test('unlocked-access: writers hold two locks: a read under either is serialised, a read under neither deviates', async () => {
  const found = ofRule(await analyzeFixtures([CACHE], { minConfidence: 'low' }), 'unlocked-access');
  const peek = lineOf(CACHE, 'return c->addr != 0;');
  assert.deepEqual(
    found.map((f) => `${f.function}:${f.line}:${f.confidence}`),
    [`xcache_peek:${peek}:low`],
  );
  assert.equal(
    found[0].message,
    `\`xcache_peek()\` reads \`c->addr\` at line ${peek} without holding \`xcache.lock\`, which protects \`xcache.addr\` at 6 of its 7 sites in view.`,
  );
  assert.equal(found[0].fingerprint, 'unlocked-access:xcache_peek:xcache.addr,xcache.lock');
});

test('unlocked-access: a read under the second lock counts as serialised only while every writer holds that lock', async () => {
  const src = fixtureSource(CACHE);
  // One writer stops taking the mutex: a read under the mutex alone now races that writer.
  const oneWriterWithout = src.text.replace(
    '\tmutex_lock(&c->refresh_lock);\n\twrite_lock(&c->lock);\n\tc->addr = 0;\n\twrite_unlock(&c->lock);\n\tmutex_unlock(&c->refresh_lock);',
    '\twrite_lock(&c->lock);\n\tc->addr = 0;\n\twrite_unlock(&c->lock);',
  );
  assert.notEqual(oneWriterWithout, src.text);
  const found = await onVariant(CACHE, oneWriterWithout);
  const stale = oneWriterWithout.split('\n').indexOf('\tstale = c->addr != addr;') + 1;
  const peek = oneWriterWithout.split('\n').indexOf('\treturn c->addr != 0;') + 1;
  assert.deepEqual(
    found.map((f) => `${f.function}:${f.line}`),
    [`xcache_refresh_needed:${stale}`, `xcache_peek:${peek}`],
  );
  assert.match(
    found[0].message,
    /without holding `xcache\.lock`, which protects `xcache\.addr` at 6 of its 8 sites in view\./,
  );
});

test('unlocked-access: a set-up write under no lock leaves the writers\u2019 common lock; a tear-down write under one lock narrows it', async () => {
  const src = fixtureSource(CACHE);
  const run = async (text: string): Promise<string[]> => (await onVariant(CACHE, text)).map((f) => f.function);
  // Before the cache is shared: no lock, and the mutex still serialises the slow-path read.
  const setUp = `${src.text}\nvoid xcache_init(struct xcache *c)\n{\n\tc->addr = 0;\n}\n`;
  assert.deepEqual(await run(setUp), ['xcache_peek']);
  // Torn down under the rwlock alone: the object is still shared, and the mutex-only read races it.
  const tearDown = `${src.text}\nvoid xcache_release(struct xcache *c)\n{\n\twrite_lock(&c->lock);\n\tc->addr = 0;\n\twrite_unlock(&c->lock);\n}\n`;
  assert.deepEqual(await run(tearDown), ['xcache_refresh_needed', 'xcache_peek']);
});

const MADE = 'unlocked-access/made-by-helper.c';

test('unlocked-access: an object a helper in view allocated and returned is the caller\u2019s own, like an allocator\u2019s', async () => {
  const found = ofRule(await analyzeFixtures([MADE], { minConfidence: 'low' }), 'unlocked-access');
  const pending = lineOf(MADE, 'return d->cur->len;');
  assert.deepEqual(
    found.map((f) => `${f.function}:${f.line}:${f.confidence}`),
    [`save_dev_pending:${pending}:low`],
  );
  assert.equal(
    found[0].message,
    `\`save_dev_pending()\` reads \`d->cur->len\` at line ${pending} without holding \`save_buf.lock\`, which protects \`save_buf.len\` at 3 of its 4 sites in view.`,
  );
  // The same object from a helper that returns something else (not what it allocated): it may be shared.
  const src = fixtureSource(MADE);
  const notMade = src.text.replace(
    '\tb->data = kzalloc(len, 0);\n\treturn b;',
    '\tb->data = kzalloc(len, 0);\n\treturn d_shared;',
  );
  assert.notEqual(notMade, src.text);
  const again = await onVariant(MADE, `struct save_buf *d_shared;\n${notMade}`);
  assert.deepEqual(
    again.map((f) => f.function),
    ['save_dev_start', 'save_dev_pending'],
  );
});

test('unlocked-access: a helper called only from tear-down is part of it; one also called from elsewhere without the lock deviates', async () => {
  const src = fixtureSource(RING);
  const run = async (text: string): Promise<string[]> =>
    (await onVariant(RING, text)).map((f) => `${f.function}:${f.line}`);
  const helper =
    '\nstatic void ring_forget(struct ring_dev *d)\n{\n\td->state = 0;\n}\n' +
    '\nvoid ring_destroy(struct ring_dev *d)\n{\n\tring_forget(d);\n}\n';
  const base = await run(src.text);
  assert.deepEqual(await run(src.text + helper), base);
  // The same helper called from an ordinary function too, never with the lock: the helper's write deviates.
  const alsoElsewhere = `${src.text}${helper}\nvoid ring_idle(struct ring_dev *d)\n{\n\tring_forget(d);\n}\n`;
  const write = alsoElsewhere.split('\n').lastIndexOf('\td->state = 0;') + 1;
  assert.deepEqual(await run(alsoElsewhere), [...base, `ring_forget:${write}`]);
  // Registered as a handler in set-up (not called there): it runs later, while the device is shared.
  const registered = `${src.text}${helper.replace('\tring_forget(d);', '\trequest_irq(1, ring_forget, 0, "ring", d);')}`;
  const handlerWrite = registered.split('\n').lastIndexOf('\td->state = 0;') + 1;
  assert.deepEqual(await run(registered), [...base, `ring_forget:${handlerWrite}`]);
});
