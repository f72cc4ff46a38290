/**
 * Which route a finding shows as its witness, where routes stop, and which
 * routes are guesses: the shortest route to a lock, not the first one the
 * summaries met; no route through a path that runs only once the kernel has
 * found a bug (a panic, a sanitizer's report) or through lockdep's own hooks;
 * a call reaches a parameter's target, not a global of the parameter's name,
 * and another file's static function never; a route through ops calls made
 * in turn, or through a wide one, is a guess.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeSources } from '../../../src/engine/engine';
import { parseConfig } from '../../../src/engine/knowledge/config';
import type { ReviewConfig } from '../../../src/engine/knowledge/types';
import { lineInText, ofRule, sharedParser } from './engine-fixtures';

async function lockOrder(text: string, config?: ReviewConfig) {
  const r = analyzeSources(await sharedParser(), [{ path: 'zdev.c', text }], {
    minConfidence: 'low',
    ...(config ? { config } : {}),
  });
  return ofRule(r, 'lock-order');
}

// The helpers are defined callee first, so the summaries meet the three-call route before the direct one.
const ZDEV = `// SPDX-License-Identifier: MIT
struct zdev {
	struct mutex cfg_lock;
	struct mutex stat_lock;
};

static void zdev_stat_bump(struct zdev *z)
{
	mutex_lock(&z->stat_lock);
	mutex_unlock(&z->stat_lock);
}

static void zdev_deep3(struct zdev *z)
{
	zdev_stat_bump(z);
}

static void zdev_deep2(struct zdev *z)
{
	zdev_deep3(z);
}

static void zdev_deep1(struct zdev *z)
{
	zdev_deep2(z);
}

static void zdev_flush(struct zdev *z)
{
	zdev_deep1(z);
	zdev_stat_bump(z);
}

void zdev_reconfig(struct zdev *z)
{
	mutex_lock(&z->cfg_lock);
	zdev_flush(z);
	mutex_unlock(&z->cfg_lock);
}

void zdev_report(struct zdev *z)
{
	mutex_lock(&z->stat_lock);
	mutex_lock(&z->cfg_lock);
	mutex_unlock(&z->cfg_lock);
	mutex_unlock(&z->stat_lock);
}
`;

test('the witness of a lock reached two ways is the shortest route, not the first one met', async () => {
  const [f, ...rest] = await lockOrder(ZDEV);
  assert.deepEqual(rest, []);
  const call = lineInText(ZDEV, '\tzdev_flush(z);');
  assert.equal(`${f.function}:${f.line}:${f.confidence}`, `zdev_reconfig:${call}:high`);
  assert.match(f.message, /through `zdev_flush\(\)` → `zdev_stat_bump\(\)`\)/);
  assert.deepEqual(
    f.related.slice(0, 4).map((r) => `${r.line} ${r.message}`),
    [
      `${lineInText(ZDEV, 'mutex_lock(&z->cfg_lock);')} \`zdev.cfg_lock\` taken here in \`zdev_reconfig()\``,
      `${call} \`zdev.stat_lock\` taken inside this call while \`zdev.cfg_lock\` is held`,
      // zdev_flush's second call, straight to the helper: not zdev_deep1 → zdev_deep2 → zdev_deep3.
      `${lineInText(ZDEV, '\tzdev_deep1(z);') + 1} \`zdev_flush()\` calls \`zdev_stat_bump()\``,
      `${lineInText(ZDEV, 'mutex_lock(&z->stat_lock);')} \`zdev_stat_bump()\` takes \`zdev.stat_lock\``,
    ],
  );
  assert.ok(!f.related.some((r) => r.message.includes('zdev_deep')), 'the three-call route is not shown');
});

// A report helper that panics, where the panic path in view takes a lock the rest of the file takes around
// the report's caller's lock.
const PANICKY = `// SPDX-License-Identifier: MIT
struct pdev {
	struct mutex io_lock;
};

static DEFINE_SPINLOCK(console_owner_lock);

void panic(const char *fmt, ...)
{
	spin_lock(&console_owner_lock);
	spin_unlock(&console_owner_lock);
}

static void pdev_fatal(struct pdev *p)
{
	panic("pdev: lost the device");
}

void pdev_io(struct pdev *p, int bad)
{
	mutex_lock(&p->io_lock);
	if (bad)
		pdev_fatal(p);
	mutex_unlock(&p->io_lock);
}

void pdev_console(struct pdev *p)
{
	spin_lock(&console_owner_lock);
	mutex_lock(&p->io_lock);
	mutex_unlock(&p->io_lock);
	spin_unlock(&console_owner_lock);
}
`;

test('a route through panic() is not part of the lock order, even with its body in view; the knowledge can say otherwise', async () => {
  assert.deepEqual(await lockOrder(PANICKY), []);
  // Cleared by a configuration (`false`), panic's body counts again and the cycle through it is reported.
  const { config, problems } = parseConfig(
    JSON.stringify({ functions: { panic: { outsideLockOrder: false } } }),
    '.iommufd-review.json',
  );
  assert.deepEqual(problems, []);
  const [f, ...rest] = await lockOrder(PANICKY, config);
  assert.deepEqual(rest, []);
  assert.equal(`${f.function}:${f.line}`, `pdev_io:${lineInText(PANICKY, '\t\tpdev_fatal(p);')}`);
  assert.match(f.message, /through `pdev_fatal\(\)` → `panic\(\)`/);
});

test('config: outsideLockOrder takes a reason, true or false, and nothing else', () => {
  const { config, problems } = parseConfig(
    JSON.stringify({
      functions: {
        mydrv_dump_state: { outsideLockOrder: 'runs only when the firmware has crashed' },
        mydrv_splat: { outsideLockOrder: true },
        mydrv_bad: { outsideLockOrder: 3 },
      },
    }),
    'cfg.json',
  );
  assert.deepEqual(problems, [
    'cfg.json: functions.mydrv_bad.outsideLockOrder: expected a reason string (or true/false), got a number',
  ]);
  assert.equal(config?.functions?.mydrv_dump_state.outsideLockOrder, 'runs only when the firmware has crashed');
  assert.equal(config?.functions?.mydrv_splat.outsideLockOrder, 'runs only once a bug has been found');
});

/**
 * `count` implementations of `opsStruct.field`, each with its own table: `name(i)` is the i-th function, `body(i)`
 * its body (the first is the one that matters; the rest are there to make the field wide).
 */
function opsTables(
  count: number,
  opsStruct: string,
  field: string,
  param: string,
  name: (i: number) => string,
  body: (i: number) => string,
): string {
  const impls = Array.from({ length: count }, (_, i) => `static void ${name(i)}(${param})\n{\n${body(i)}}\n`);
  const tables = Array.from(
    { length: count },
    (_, i) => `static const struct ${opsStruct} ${name(i)}_ops = {\n\t.${field} = ${name(i)},\n};\n`,
  );
  return `${impls.join('\n')}\n${tables.join('\n')}`;
}

// A hub whose notify callback flushes its sink through a second ops table; `sinks` implementations of the
// sink's flush, the first of which takes the hub's lock again.
function hubSource(sinks: number, drainTurn = false): string {
  const sinkOps = opsTables(
    sinks,
    'sink_ops',
    'flush',
    'struct hub *h',
    (i) => `sink${i}_flush`,
    (i) =>
      i > 0
        ? '\th->flushed++;\n'
        : drainTurn
          ? '\th->tail->drain(h);\n'
          : '\tmutex_lock(&h->lock);\n\th->flushed++;\n\tmutex_unlock(&h->lock);\n',
  );
  const drain = drainTurn
    ? `static void tail_drain(struct hub *h)\n{\n\tmutex_lock(&h->lock);\n\th->flushed = 0;\n\tmutex_unlock(&h->lock);\n}\n\n` +
      `static const struct tail_ops tail0_ops = {\n\t.drain = tail_drain,\n};\n\n`
    : '';
  return `// SPDX-License-Identifier: MIT
struct hub;

struct hub_ops {
	void (*notify)(struct hub *h);
};

struct sink_ops {
	void (*flush)(struct hub *h);
};

struct tail_ops {
	void (*drain)(struct hub *h);
};

struct hub {
	struct mutex lock;
	int flushed;
	const struct hub_ops *ops;
	const struct sink_ops *sink;
	const struct tail_ops *tail;
};

${drain}${sinkOps}
static void hub_notify(struct hub *h)
{
	h->sink->flush(h);
}

static const struct hub_ops hub_default_ops = {
	.notify = hub_notify,
};

void hub_event(struct hub *h)
{
	mutex_lock(&h->lock);
	h->ops->notify(h);
	mutex_unlock(&h->lock);
}
`;
}

async function callbackFindings(text: string) {
  const r = analyzeSources(await sharedParser(), [{ path: 'hub.c', text }], { minConfidence: 'low' });
  return ofRule(r, 'callback-under-lock').map((f) => ({
    at: `${f.function}:${f.line}:${f.confidence}`,
    message: f.message,
  }));
}

test('callback-under-lock: a route through a second ops call is believed when that call has few implementations, a guess when it has many or calls a third', async () => {
  const narrow = hubSource(2);
  const call = lineInText(narrow, 'h->ops->notify(h);');
  const few = await callbackFindings(narrow);
  assert.deepEqual(
    few.map((f) => f.at),
    [`hub_event:${call}:high`],
  );
  assert.doesNotMatch(few[0].message, /relies on/);

  const wide = hubSource(9);
  const many = await callbackFindings(wide);
  assert.deepEqual(
    many.map((f) => f.at),
    [`hub_event:${lineInText(wide, 'h->ops->notify(h);')}:low`],
  );
  assert.ok(
    many[0].message.endsWith(
      ' The route from `hub_notify()` relies on `sink_ops.flush` running `sink0_flush()`, one of its 9 implementations in view: ' +
        "which implementation runs depends on the object's type there, which is not followed.",
    ),
    many[0].message,
  );

  const turn = hubSource(2, true);
  const inTurn = await callbackFindings(turn);
  assert.deepEqual(
    inTurn.map((f) => f.at),
    [`hub_event:${lineInText(turn, 'h->ops->notify(h);')}:low`],
  );
  assert.match(
    inTurn[0].message,
    / The route from `hub_notify\(\)` relies on 2 ops calls made in turn \(`sink_ops.flush` → `tail_ops.drain`\), each running the implementation that takes the lock: /,
  );
});

test('a call through a parameter is a call through a pointer, not to a global function of that name', async () => {
  // `fn` is also a global function, in another file, that takes a lock ordered before the walker's caller's.
  const other = `// SPDX-License-Identifier: MIT
struct ring {
	struct mutex lock;
	struct mutex stat_lock;
};

extern struct ring *the_ring;

void fn(void *data)
{
	mutex_lock(&the_ring->stat_lock);
	mutex_unlock(&the_ring->stat_lock);
}

void ring_report(struct ring *r)
{
	mutex_lock(&r->stat_lock);
	mutex_lock(&r->lock);
	mutex_unlock(&r->lock);
	mutex_unlock(&r->stat_lock);
}
`;
  const walker = `// SPDX-License-Identifier: MIT
struct ring {
	struct mutex lock;
	struct mutex stat_lock;
};

static void ring_walk(void (*fn)(void *data), void *data)
{
	fn(data);
}

static void ring_count(void *data)
{
	(*(int *)data)++;
}

void ring_scan(struct ring *r, int *n)
{
	mutex_lock(&r->lock);
	ring_walk(ring_count, n);
	mutex_unlock(&r->lock);
}
`;
  const r = analyzeSources(
    await sharedParser(),
    [
      { path: 'fn.c', text: other },
      { path: 'walk.c', text: walker },
    ],
    { minConfidence: 'low' },
  );
  assert.deepEqual(
    r.findings.filter((f) => f.ruleId === 'lock-order' || f.ruleId === 'callback-under-lock'),
    [],
  );
  assert.deepEqual(
    r.lockGraph.edges.filter((e) => e.from === 'ring.lock'),
    [],
    'no edge from ring.lock through the global fn()',
  );
});

test("a call by name reaches a static function only in its own file, never another .c file's", async () => {
  // put_entry() is static in cache.c, where it takes stat_lock. table.c calls a put_entry() of its own, declared
  // but not in view, under tbl.lock, and takes stat_lock before tbl.lock elsewhere: were cache.c's static
  // function the one table.c calls, that would be a cycle.
  const cache = `// SPDX-License-Identifier: MIT
struct tbl {
	struct mutex lock;
	struct mutex stat_lock;
	struct mutex gc_lock;
};

extern struct tbl *cache_tbl;

static void put_entry(void *e)
{
	mutex_lock(&cache_tbl->stat_lock);
	mutex_unlock(&cache_tbl->stat_lock);
}

void cache_gc(struct tbl *t)
{
	mutex_lock(&t->gc_lock);
	put_entry(t);
	mutex_unlock(&t->gc_lock);
}
`;
  const table = `// SPDX-License-Identifier: MIT
struct tbl {
	struct mutex lock;
	struct mutex stat_lock;
	struct mutex gc_lock;
};

void put_entry(void *e);

void tbl_drop(struct tbl *t, void *e)
{
	mutex_lock(&t->lock);
	put_entry(e);
	mutex_unlock(&t->lock);
}

void tbl_stats(struct tbl *t)
{
	mutex_lock(&t->stat_lock);
	mutex_lock(&t->lock);
	mutex_unlock(&t->lock);
	mutex_unlock(&t->stat_lock);
}
`;
  const r = analyzeSources(
    await sharedParser(),
    [
      { path: 'cache.c', text: cache },
      { path: 'table.c', text: table },
    ],
    { minConfidence: 'low' },
  );
  assert.deepEqual(ofRule(r, 'lock-order'), []);
  const edges = r.lockGraph.edges.map(
    (e) => `${e.from} > ${e.to} ${e.sites.map((x) => `${x.file}:${x.line}`).join(',')}`,
  );
  // cache.c's own call reaches its static put_entry(); table.c's does not.
  const gcHeld = lineInText(cache, 'mutex_lock(&t->gc_lock);');
  const statHeld = lineInText(table, 'mutex_lock(&t->stat_lock);');
  assert.deepEqual(edges.sort(), [
    `tbl.gc_lock > tbl.stat_lock cache.c:${gcHeld},cache.c:${lineInText(cache, '\tput_entry(t);')}`,
    `tbl.stat_lock > tbl.lock table.c:${statHeld},table.c:${statHeld + 1}`,
  ]);
});

// A reset that has its holder release the current thing through an ops call inside a callee, then allocates.
function holderSource(releases: number): string {
  const releaseOps = opsTables(
    releases,
    'holder_ops',
    'release',
    'struct holder *h',
    (i) => `rel${i}`,
    (i) => (i > 0 ? '\th->buf = NULL;\n' : '\tstruct thing *old = h->cur;\n\n\tkref_put(&old->ref, thing_free);\n'),
  );
  return `// SPDX-License-Identifier: MIT
struct thing {
	struct kref ref;
};

struct holder;

struct holder_ops {
	void (*release)(struct holder *h);
};

struct holder {
	struct thing *cur;
	const struct holder_ops *ops;
	void *buf;
};

static void thing_free(struct kref *ref)
{
}

${releaseOps}
static void holder_drop(struct holder *h)
{
	h->ops->release(h);
}

int holder_reset(struct holder *h)
{
	void *buf;

	holder_drop(h);
	buf = kzalloc(64, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	h->buf = buf;
	return 0;
}
`;
}

test("unmap-before-rollback: a callee's ops call is followed into its implementations only when it has few", async () => {
  const parser = await sharedParser();
  const rollback = (text: string) =>
    ofRule(analyzeSources(parser, [{ path: 'holder.c', text }], { minConfidence: 'low' }), 'unmap-before-rollback');
  const one = holderSource(1);
  assert.deepEqual(
    rollback(one).map((f) => `${f.function}:${f.line}:${f.confidence} ${f.message}`),
    [
      `holder_reset:${lineInText(one, 'kzalloc(')}:high \`holder_drop()\` drops the reference to the old object (line ${lineInText(one, '\tholder_drop(h);')}) before \`kzalloc()\` can fail (line ${lineInText(one, 'kzalloc(')}); the error path (line ${lineInText(one, 'return -ENOMEM;')}) returns an error but cannot take back the dropped reference (the object may already be freed).`,
    ],
  );
  // Nine implementations: the one that drops a reference would be picked by the field's name and type alone.
  assert.deepEqual(rollback(holderSource(9)), []);
});

// A hub whose reconfiguration notifies its sink (one of `sinks` flush implementations, the first taking the hub's
// lock) under cfg_lock, and whose poll refreshes (taking cfg_lock) under the hub's lock: an inversion each way.
function pollSource(sinks: number): string {
  const sinkOps = opsTables(
    sinks,
    'sink_ops',
    'flush',
    'struct hub *h',
    (i) => `sink${i}_flush`,
    (i) => (i > 0 ? '\th->flushed++;\n' : '\tmutex_lock(&h->lock);\n\th->flushed++;\n\tmutex_unlock(&h->lock);\n'),
  );
  return `// SPDX-License-Identifier: MIT
struct hub;

struct hub_ops {
	void (*notify)(struct hub *h);
};

struct sink_ops {
	void (*flush)(struct hub *h);
};

struct poll_ops {
	void (*refresh)(struct hub *h);
};

struct hub {
	struct mutex lock;
	struct mutex cfg_lock;
	int flushed;
	const struct hub_ops *ops;
	const struct sink_ops *sink;
	const struct poll_ops *poll;
};

${sinkOps}
static void hub_notify(struct hub *h)
{
	h->sink->flush(h);
}

static const struct hub_ops hub_default_ops = {
	.notify = hub_notify,
};

void hub_reconfig(struct hub *h)
{
	mutex_lock(&h->cfg_lock);
	h->ops->notify(h);
	mutex_unlock(&h->cfg_lock);
}

static void poll_refresh(struct hub *h)
{
	mutex_lock(&h->cfg_lock);
	h->flushed = 0;
	mutex_unlock(&h->cfg_lock);
}

static const struct poll_ops poll_default_ops = {
	.refresh = poll_refresh,
};

void hub_poll(struct hub *h)
{
	mutex_lock(&h->lock);
	h->poll->refresh(h);
	mutex_unlock(&h->lock);
}
`;
}

test('callback-under-lock: an inversion whose order stands only on a guessed route is low, and says so', async () => {
  const narrow = pollSource(2);
  assert.deepEqual(
    (await callbackFindings(narrow)).map((f) => f.at),
    [
      `hub_reconfig:${lineInText(narrow, 'h->ops->notify(h);')}:medium`,
      `hub_poll:${lineInText(narrow, 'h->poll->refresh(h);')}:medium`,
    ],
  );
  const wide = pollSource(9);
  const found = await callbackFindings(wide);
  assert.deepEqual(
    found.map((f) => f.at),
    [
      `hub_reconfig:${lineInText(wide, 'h->ops->notify(h);')}:low`,
      `hub_poll:${lineInText(wide, 'h->poll->refresh(h);')}:low`,
    ],
  );
  // hub_reconfig's own route is the guess; hub_poll's route is plain, but the order it inverts is only the guess's.
  assert.match(found[0].message, /relies on `sink_ops.flush` running `sink0_flush\(\)`, one of its 9 implementations/);
  assert.ok(
    found[1].message.endsWith(
      "which is ordered before `hub.lock`: lock inversion, possible deadlock. That order itself stands only on routes through ops calls whose implementation is picked by the field's name and type alone.",
    ),
    found[1].message,
  );
});

// A pool whose account callback (one implementation) takes stat_lock and also flushes its sink through a second
// ops table of `sinks` implementations; the first sink flush takes the pool's lock (`sinkTakes`). With `deep`,
// the account callback also reaches `sinkTakes` through three plain calls.
function poolSource(sinks: number, sinkTakes: 'lock' | 'gc_lock', deep: boolean): string {
  const sinkOps = opsTables(
    sinks,
    'pool_sink_ops',
    'flush',
    'struct pool *p',
    (i) => `psink${i}_flush`,
    (i) =>
      i > 0
        ? '\tp->flushed++;\n'
        : `\tmutex_lock(&p->${sinkTakes});\n\tp->flushed++;\n\tmutex_unlock(&p->${sinkTakes});\n`,
  );
  const chain = deep
    ? `static void pool_gc3(struct pool *p)\n{\n\tmutex_lock(&p->gc_lock);\n\tp->flushed = 0;\n\tmutex_unlock(&p->gc_lock);\n}\n\n` +
      `static void pool_gc2(struct pool *p)\n{\n\tpool_gc3(p);\n}\n\n` +
      `static void pool_gc1(struct pool *p)\n{\n\tpool_gc2(p);\n}\n\n`
    : '';
  return `// SPDX-License-Identifier: MIT
struct pool;

struct pool_ops {
	void (*account)(struct pool *p);
};

struct pool_sink_ops {
	void (*flush)(struct pool *p);
};

struct pool {
	struct mutex lock;
	struct mutex stat_lock;
	struct mutex gc_lock;
	int flushed;
	const struct pool_ops *ops;
	const struct pool_sink_ops *sink;
};

${sinkOps}
${chain}static void pool_account(struct pool *p)
{
	mutex_lock(&p->stat_lock);
	p->flushed++;
	mutex_unlock(&p->stat_lock);
	p->sink->flush(p);${deep ? '\n\tpool_gc1(p);' : ''}
}

static const struct pool_ops pool_default_ops = {
	.account = pool_account,
};

void pool_update(struct pool *p)
{
	mutex_lock(&p->lock);
	p->ops->account(p);
	mutex_unlock(&p->lock);
}

void pool_report(struct pool *p)
{
	mutex_lock(&p->stat_lock);
	mutex_lock(&p->gc_lock);
	mutex_lock(&p->lock);
	mutex_unlock(&p->lock);
	mutex_unlock(&p->gc_lock);
	mutex_unlock(&p->stat_lock);
}
`;
}

async function poolCycles(text: string) {
  const r = analyzeSources(await sharedParser(), [{ path: 'pool.c', text }], { minConfidence: 'low' });
  return ofRule(r, 'lock-order')
    .filter((f) => f.message.includes('`pool.lock`'))
    .map((f) => ({ at: `${f.function}:${f.line}:${f.confidence}`, message: f.message }));
}

test('lock-order: a guessed route back to the held lock does not make a cycle "need two instances"', async () => {
  const call = (text: string) => lineInText(text, 'p->ops->account(p);');
  // The retake runs through a sink flush with 9 implementations: a guess, so the cycle stands as is.
  const wide = poolSource(9, 'lock', false);
  const guessed = (await poolCycles(wide)).filter((f) => f.message.includes('`pool.stat_lock`'));
  assert.deepEqual(
    guessed.map((f) => f.at),
    [`pool_update:${call(wide)}:high`],
  );
  assert.doesNotMatch(guessed[0].message, /two instances/);
  // With 2 implementations the retake is believed: the route takes the held class again.
  const narrow = poolSource(2, 'lock', false);
  const believed = (await poolCycles(narrow)).filter((f) => f.message.includes('`pool.stat_lock`'));
  assert.deepEqual(
    believed.map((f) => f.at),
    [`pool_update:${call(narrow)}:low`],
  );
  assert.match(believed[0].message, /takes `pool.lock` again, so the cycle needs two instances of that class nested/);
});

test('a route that is a guess is the witness only when no other route reaches the lock, however short it is', async () => {
  // gc_lock is reached by the account callback two ways: through the 9-way sink flush (one call) and through
  // three plain calls. The plain route is the witness, and the cycle through it is believed.
  const text = poolSource(9, 'gc_lock', true);
  const [f, ...rest] = (await poolCycles(text)).filter((x) => x.message.includes('`pool.gc_lock`'));
  assert.deepEqual(rest, []);
  assert.equal(f.at, `pool_update:${lineInText(text, 'p->ops->account(p);')}:high`);
  // The message names the route's ends (`pool_gc3()`, not a sink flush).
  assert.match(f.message, /\(line \d+, through `pool_account\(\)` → `pool_gc3\(\)`\)/);
  assert.doesNotMatch(f.message, /relies on/);
});
