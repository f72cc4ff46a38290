/**
 * missing-undo: an acquired resource not released on an error return where
 * the function's other error paths (or the knowledge's pair) release it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeFixtures, lineOf, ofRule, relatedLines } from './engine-fixtures';
import { analyze, lineOf as lineIn } from './engine-helpers';

const LEAK = 'missing-undo/pin-leak.c';
const RELEASED = 'missing-undo/pin-released.c';

test('missing-undo: pins (a knowledge pair) and a kasprintf() name (inferred) left on one error path', async () => {
  const found = ofRule(await analyzeFixtures([LEAK]), 'missing-undo');
  assert.deepEqual(
    found.map((f) => `${f.function}:${f.line}:${f.confidence}`),
    [`ring_start:${lineOf(LEAK, 'return rc;') - 1}:high`, `ring_set_label:${lineOf(LEAK, 'return -EIO;') - 1}:medium`],
  );
  // Reported where the path turns away from the release (the `if` whose branch returns): the line a fix changes.
  const [pins, name] = found;
  assert.equal(
    pins.message,
    'what `vfio_pin_pages()` acquired on `&rd->vdev` (line 22) is not released when the function returns `rc` at line 28: ' +
      'the error path returning at line 37 calls `vfio_unpin_pages()`, this path does not, so it leaks.',
  );
  // The acquire, the step that fails, the return that leaks, the release the other path makes.
  assert.deepEqual(relatedLines(pins), [22, 26, 28, 36]);
  assert.deepEqual(
    pins.related.map((r) => r.role),
    ['irreversible', 'fallible', 'return', undefined],
  );
  assert.equal(pins.related[2].message, 'returns without `vfio_unpin_pages()`');
  assert.equal(pins.fingerprint, 'missing-undo:ring_start:vfio_pin_pages,vfio_unpin_pages');
  assert.equal(
    name.message,
    '`label` from `kasprintf()` (line 45) is not released when the function returns `-EIO` at line 50: ' +
      'the error path returning at line 54 calls `kfree()`, this path does not, so it leaks.',
  );
  assert.deepEqual(relatedLines(name), [45, 48, 50, 53]);
});

test('missing-undo: pins released on every error path, a name handed to the device, a sysfs group removed: nothing', async () => {
  const r = await analyzeFixtures([RELEASED], { minConfidence: 'low' });
  assert.deepEqual(ofRule(r, 'missing-undo'), []);
});

test('missing-undo: an error path that jumps past the unwind label to a return shared with the acquire failure', async () => {
  const { fixtureSource, sharedParser } = await import('./engine-fixtures');
  const { analyzeSources } = await import('../../../src/engine/engine');
  const src = fixtureSource(RELEASED);
  // ring_register(): the second failure returns directly instead of removing the group.
  const text = src.text.replace('\tif (rc)\n\t\tgoto err_group;', '\tif (rc)\n\t\treturn rc;');
  assert.notEqual(text, src.text);
  const found = ofRule(analyzeSources(await sharedParser(), [{ path: src.path, text }]), 'missing-undo');
  assert.deepEqual(
    found.map((f) => `${f.function}:${f.line}:${f.confidence}`),
    ['ring_register:70:medium'],
  );
  assert.match(
    found[0].message,
    /^what `sysfs_create_group\(\)` acquired on `&parent->kobj` \(line 66\) is not released when the function returns `rc` at line 71: the function calls `sysfs_remove_group\(\)` on it at line 75/,
  );
});

const WRONG = 'missing-undo/wrong-object.c';

test('missing-undo: an unwind that releases another object than the one acquired on (pair from the acquire own rollback)', async () => {
  const found = ofRule(await analyzeFixtures([WRONG], { minConfidence: 'low' }), 'missing-undo');
  // The pair comes from win_group_reserve()'s own rollback on its parameters.
  assert.deepEqual(
    found.map((f) => `${f.function}:${f.line}:${f.confidence}`),
    [`win_group_move:${lineOf(WRONG, 'win_group_unreserve(grp, old_tbl);', 2)}:medium`],
  );
  const [f] = found;
  const reserve = lineOf(WRONG, 'rc = win_group_reserve(grp, new_tbl);');
  const fails = lineOf(WRONG, 'rc = win_hw_switch(grp, new_tbl);');
  const wrong = lineOf(WRONG, 'win_group_unreserve(grp, old_tbl);', 2);
  const ret = lineOf(WRONG, 'return rc;', 2);
  assert.equal(
    f.message,
    `\`win_group_reserve(grp, new_tbl)\` (line ${reserve}) is undone on the error path after \`win_hw_switch()\` fails ` +
      `(line ${fails}) by \`win_group_unreserve(grp, old_tbl)\` at line ${wrong}, on \`old_tbl\` instead of \`new_tbl\`: ` +
      `what was acquired stays when the function returns \`rc\` at line ${ret}, and the release undoes something this ` +
      'function did not acquire.',
  );
  // The acquire, the failing step, the wrong release, the return.
  assert.deepEqual(relatedLines(f), [reserve, fails, wrong, ret]);
  assert.deepEqual(
    f.related.map((r) => r.role),
    ['irreversible', 'fallible', undefined, 'return'],
  );
  assert.equal(f.related[2].message, '`win_group_unreserve()` releases `grp, old_tbl`, not what was acquired');
  assert.equal(f.fingerprint, 'missing-undo:win_group_move:win_group_reserve,win_group_unreserve');
});

test('missing-undo: the same unwind on the object it acquired on gives nothing', async () => {
  const { fixtureSource, sharedParser } = await import('./engine-fixtures');
  const { analyzeSources } = await import('../../../src/engine/engine');
  const src = fixtureSource(WRONG);
  const text = src.text.replace(
    '\t\twin_group_unreserve(grp, old_tbl);\nerr_unlock:',
    '\t\twin_group_unreserve(grp, new_tbl);\nerr_unlock:',
  );
  assert.notEqual(text, src.text);
  const r = analyzeSources(await sharedParser(), [{ path: src.path, text }], { minConfidence: 'low' });
  assert.deepEqual(ofRule(r, 'missing-undo'), []);
});

test('missing-undo: an id freed by the value it returned (the flags are no part of it), an object whose embedded entry was handed on: nothing', async () => {
  const src = `struct slot_dev {
	int index;
	struct mutex lock;
	struct mmap_entry entry;
	struct device dev;
};

static DEFINE_IDA(slot_ida);

int slot_dev_register(struct slot_dev *sd)
{
	int err;

	err = ida_alloc(&slot_ida, GFP_KERNEL);
	if (err < 0)
		return err;
	sd->index = err;
	err = dev_set_name(&sd->dev, "slot%d", sd->index);
	if (err)
		goto out_ida;
	return 0;

out_ida:
	ida_free(&slot_ida, sd->index);
	return err;
}

struct slot_dev *slot_dev_map(struct slot_ctx *ctx)
{
	struct slot_dev *sd;
	int err;

	sd = kzalloc(sizeof(*sd), GFP_KERNEL);
	if (!sd)
		return ERR_PTR(-ENOMEM);
	mutex_init(&sd->lock);
	err = slot_add_mmap_entry(ctx, &sd->entry);
	if (err) {
		kfree(sd);
		return ERR_PTR(err);
	}
	err = slot_copy_to_user(ctx, sd->index);
	if (err)
		goto err_entry;
	return sd;

err_entry:
	slot_remove_mmap_entry(&sd->entry);
	return ERR_PTR(err);
}
`;
  const r = await analyze({ 'slot.c': src }, 'low');
  assert.deepEqual(
    r.findings.filter((f) => f.ruleId === 'missing-undo').map((f) => [f.function, f.line, f.message]),
    [],
  );
  // Set up in place only (its lock initialised, no entry handed on or removed), the object
  // is leaked on the later failure: reported.
  const kept = src
    .replace(
      '\terr = slot_add_mmap_entry(ctx, &sd->entry);\n\tif (err) {\n\t\tkfree(sd);\n\t\treturn ERR_PTR(err);\n\t}\n',
      '\tif (!slot_ctx_live(ctx)) {\n\t\tkfree(sd);\n\t\treturn ERR_PTR(-ENODEV);\n\t}\n',
    )
    .replace('\tslot_remove_mmap_entry(&sd->entry);\n', '');
  assert.notEqual(kept, src);
  const loud = await analyze({ 'slot.c': kept }, 'low');
  assert.deepEqual(
    loud.findings.filter((f) => f.ruleId === 'missing-undo').map((f) => [f.function, f.line]),
    [['slot_dev_map', lineIn(kept, 'goto err_entry;')]],
  );
});

test('missing-undo: a device embedded in the allocation, put through a local alias of its address: nothing; no put at all: reported', async () => {
  // Once the embedded device is set up, its release callback frees the container: the
  // error path puts the device (`dev = &pd->dev`) instead of freeing the object.
  const src = `struct probe_dev {
	const char *label;
	struct device dev;
};

struct probe_dev *probe_dev_create(const char *label)
{
	struct probe_dev *pd;
	struct device *dev;
	int ret;

	pd = kzalloc(sizeof(*pd), GFP_KERNEL);
	if (!pd)
		return ERR_PTR(-ENOMEM);
	pd->label = kstrdup(label, GFP_KERNEL);
	if (!pd->label) {
		kfree(pd);
		return ERR_PTR(-ENOMEM);
	}
	dev = &pd->dev;
	device_initialize(dev);
	ret = probe_dev_name(dev, label);
	if (ret) {
		put_device(dev);
		return ERR_PTR(ret);
	}
	return pd;
}
`;
  const r = await analyze({ 'probe.c': src }, 'low');
  assert.deepEqual(
    r.findings.filter((f) => f.ruleId === 'missing-undo').map((f) => [f.function, f.line, f.message]),
    [],
  );
  // The alias is never handed to a call (the device is neither set up nor put): the object leaks.
  const leaky = src
    .replace('\tdevice_initialize(dev);\n', '')
    .replace('\tret = probe_dev_name(dev, label);\n', '\tret = probe_dev_check(label);\n')
    .replace('\t\tput_device(dev);\n', '');
  assert.notEqual(leaky, src);
  const loud = await analyze({ 'probe.c': leaky }, 'low');
  assert.deepEqual(
    loud.findings.filter((f) => f.ruleId === 'missing-undo').map((f) => [f.function, f.line, f.confidence]),
    // Reported at the `if` whose branch returns: the line a fix changes.
    [['probe_dev_create', lineIn(leaky, 'if (ret)'), 'medium']],
  );
});

const OWNED = 'missing-undo/owned-field.c';

test('missing-undo: a field that owns an allocation across calls overwritten without a release', async () => {
  const found = ofRule(await analyzeFixtures([OWNED], { minConfidence: 'low' }), 'missing-undo');
  const store = lineOf(OWNED, 's->saved = kmemdup(');
  const release = lineOf(OWNED, 'sensor_load_and_free(s->dev, &s->saved);');
  // sensor_init() fills a fresh object; sensor_rename() tests the old label first: nothing there.
  assert.deepEqual(
    found.map((f) => `${f.function}:${f.line}:${f.confidence}`),
    [`sensor_set_state:${store}:medium`],
  );
  const [f] = found;
  assert.equal(
    f.message,
    `\`s->saved\` is given a new allocation from \`kmemdup()\` at line ${store} without releasing what it holds: ` +
      `the function releases it on another path (\`sensor_load_and_free()\` at line ${release}), so it owns an ` +
      'allocation across calls, and a call that reaches this store while it is still set leaks it.',
  );
  assert.deepEqual(relatedLines(f), [store, release]);
  assert.deepEqual(
    f.related.map((r) => r.role),
    ['store', undefined],
  );
});

test('missing-undo: the old value released before the new allocation is stored gives nothing', async () => {
  const { fixtureSource, sharedParser } = await import('./engine-fixtures');
  const { analyzeSources } = await import('../../../src/engine/engine');
  const src = fixtureSource(OWNED);
  const text = src.text
    .replace(
      '\tif (state == SENSOR_SLEEP)\n\t\ts->saved = kmemdup(',
      '\tif (state == SENSOR_SLEEP) {\n\t\tkfree(s->saved);\n\t\ts->saved = kmemdup(',
    )
    .replace('CAL_SIZE, GFP_KERNEL);\n\telse if', 'CAL_SIZE, GFP_KERNEL);\n\t} else if');
  assert.notEqual(text, src.text);
  const r = analyzeSources(await sharedParser(), [{ path: src.path, text }], { minConfidence: 'low' });
  assert.deepEqual(ofRule(r, 'missing-undo'), []);
});

const TEARDOWN = 'missing-undo/teardown-entries.c';

test('missing-undo: a teardown frees the entries of one container, not of the one they are moved into', async () => {
  const found = ofRule(await analyzeFixtures([TEARDOWN], { minConfidence: 'low' }), 'missing-undo');
  const drain = lineOf(TEARDOWN, 'list_for_each_entry_safe(req, next, &mb->queue, node)');
  const move = lineOf(TEARDOWN, 'rc = xa_alloc(&mb->parked');
  const init = lineOf(TEARDOWN, 'xa_init_flags(&mb->parked');
  const end = lineOf(TEARDOWN, 'mutex_destroy(&mb->mutex);') + 1;
  assert.deepEqual(
    found.map((f) => `${f.function}:${f.line}:${f.confidence}`),
    [`mbox_destroy:${end}:medium`],
  );
  const [f] = found;
  assert.equal(
    f.message,
    `\`mbox_destroy()\` frees the entries left on \`mb->queue\` (line ${drain}) but never empties \`mb->parked\`, ` +
      `where \`mbox_read()\` moves them (\`xa_alloc()\` at line ${move}): entries parked there when the object is ` +
      'destroyed are never freed, and the xarray is never destroyed (`xa_destroy()`).',
  );
  assert.deepEqual(relatedLines(f), [drain, end, move, init]);
  assert.deepEqual(
    f.related.map((r) => [r.role, r.path]),
    [
      ['call', undefined],
      ['drop', undefined],
      ['store', 1],
      [undefined, undefined],
    ],
  );
  assert.equal(f.scenario.invariant, 'no-leak');
});

test('missing-undo: a teardown that empties, checks or hands on the other container, or entries only indexed there: nothing', async () => {
  const { fixtureSource } = await import('./engine-fixtures');
  const src = fixtureSource(TEARDOWN).text;
  const quiet = async (text: string, why: string) => {
    assert.notEqual(text, src, why);
    const r = await analyze({ 'mbox.c': text }, 'low');
    assert.deepEqual(
      r.findings.filter((x) => x.ruleId === 'missing-undo').map((x) => [x.function, x.line, x.message]),
      [],
      why,
    );
  };
  const tail = '\tmutex_destroy(&mb->mutex);\n}';
  // the fix: the parked entries freed too, and the xarray destroyed
  await quiet(
    src.replace(
      tail,
      '\txa_for_each(&mb->parked, index, req) {\n\t\txa_erase(&mb->parked, index);\n\t\tmbox_req_free(req);\n\t}\n' +
        '\txa_destroy(&mb->parked);\n' +
        tail,
    ),
    'drained',
  );
  // the protocol empties it first, and the teardown says so
  await quiet(src.replace(tail, '\tWARN_ON(!xa_empty(&mb->parked));\n' + tail), 'asserted empty');
  // handed to a helper in the file that drains it
  await quiet(
    src
      .replace(tail, '\tmbox_drop_parked(mb);\n' + tail)
      .replace(
        'void mbox_destroy(',
        'static void mbox_drop_parked(struct mbox *m)\n{\n\tstruct mbox_req *req;\n\tunsigned long index;\n\n' +
          '\txa_for_each(&m->parked, index, req)\n\t\tmbox_req_free(xa_erase(&m->parked, index));\n}\n\nvoid mbox_destroy(',
      ),
    'helper drains',
  );
  // handed whole to a function not in view: it may empty it
  await quiet(src.replace(tail, '\tmbox_ctx_forget(mb);\n' + tail), 'unknown helper');
  // the same entries indexed in the xarray while they stay on the queue: one drain frees them all
  await quiet(src.replace('\t\tlist_del(&req->node);\n\t\tdone +=', '\t\tdone +='), 'indexed, not moved');
});

test('missing-undo: the entry taken off by a helper that returns it unlinked (through a local alias of the list) is a move', async () => {
  const { fixtureSource } = await import('./engine-fixtures');
  const src = fixtureSource(TEARDOWN).text;
  const text = src
    .replace('\t\treq = list_first_entry(&mb->queue, struct mbox_req, node);\n', '\t\treq = mbox_fetch(mb);\n')
    .replace('\t\tlist_del(&req->node);\n\t\tdone +=', '\t\tdone +=')
    .replace(
      'static ssize_t mbox_read(',
      'static struct mbox_req *mbox_fetch(struct mbox *mb)\n{\n\tstruct list_head *list = &mb->queue;\n' +
        '\tstruct mbox_req *req;\n\n\treq = list_first_entry(list, struct mbox_req, node);\n' +
        '\tlist_del(&req->node);\n\treturn req;\n}\n\nstatic ssize_t mbox_read(',
    );
  assert.notEqual(text, src);
  const r = await analyze({ 'mbox.c': text }, 'low');
  assert.deepEqual(
    r.findings.filter((x) => x.ruleId === 'missing-undo').map((x) => [x.function, x.line]),
    [['mbox_destroy', lineIn(text, 'mutex_destroy(&mb->mutex);') + 1]],
  );
  // the helper that only peeks (no unlink) moves nothing: the entry stays on the queue
  const peek = text.replace('\tlist_del(&req->node);\n\treturn req;', '\treturn req;');
  assert.notEqual(peek, text);
  const quiet = await analyze({ 'mbox.c': peek }, 'low');
  assert.deepEqual(
    quiet.findings.filter((x) => x.ruleId === 'missing-undo').map((x) => [x.function, x.line]),
    [],
  );
});
