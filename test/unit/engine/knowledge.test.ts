import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig, mergeKnowledge } from '../../../src/engine/knowledge/config';
import { DEFAULT_KNOWLEDGE } from '../../../src/engine/knowledge/defaults';
import {
  parseDocumentedOrder,
  resolveOrderName,
  resolveOrderNames,
} from '../../../src/engine/knowledge/documented-orders';

test('defaults: the unmap callback path takes ioas_lock, then iova_rwsem for read, then the pages mutex', () => {
  const cb = DEFAULT_KNOWLEDGE.callbacks['iommufd_access_ops.unmap'];
  assert.deepEqual(cb.takes, [
    { lock: 'iommufd_access.ioas_lock', mode: 'exclusive' },
    { lock: 'io_pagetable.iova_rwsem', mode: 'read' },
    { lock: 'iopt_pages.mutex', mode: 'exclusive' },
  ]);
  assert.ok(cb.irreversible);
});

test('defaults: fallible, irreversible and reaching calls', () => {
  const f = DEFAULT_KNOWLEDGE.functions;
  assert.equal(f.iopt_add_access.fallible, true);
  assert.equal(f.iopt_add_access.irreversible, undefined);
  assert.match(f.iopt_remove_access.irreversible ?? '', /removes the access/);
  assert.deepEqual(f.vfio_unpin_pages.reaches, ['iommufd_access_unpin_pages']);
  assert.ok(f.iommufd_put_object.irreversible);
  assert.equal(f.iommufd_get_ioas.fallible, true);
  assert.equal(f.xa_store.fallible, true);
  assert.deepEqual(
    f.iopt_add_access.takes?.slice(0, 2).map((t) => `${t.lock}:${t.mode}`),
    ['io_pagetable.domains_rwsem:write', 'io_pagetable.iova_rwsem:write'],
  );
});

test('defaults: structs, lock kinds, protected fields, documented order', () => {
  assert.equal(DEFAULT_KNOWLEDGE.structs.iommufd_access.ioas_lock, 'struct mutex');
  assert.equal(DEFAULT_KNOWLEDGE.structs.iommufd_ioas.iopt, 'struct io_pagetable');
  assert.equal(DEFAULT_KNOWLEDGE.lockKinds['io_pagetable.iova_rwsem'], 'rwsem');
  assert.equal(DEFAULT_KNOWLEDGE.protectedBy['iommufd_access.iopt_access_list_id'], 'iommufd_access.ioas_lock');
  assert.deepEqual(DEFAULT_KNOWLEDGE.documentedOrders[0], [
    'io_pagetable.domains_rwsem',
    'io_pagetable.iova_rwsem',
    'iopt_pages.mutex',
  ]);
});

test('documented order: kernel-style comment with a member::field name', () => {
  const comment = `/*
 * Pagetable bookkeeping.
 *
 * The locking order is domains_rwsem -> iova_rwsem -> pages::mutex
 */`;
  const names = parseDocumentedOrder(comment);
  assert.deepEqual(names, ['domains_rwsem', 'iova_rwsem', 'pages::mutex']);
  assert.deepEqual(resolveOrderNames(names!, DEFAULT_KNOWLEDGE.structs, 'io_pagetable'), [
    'io_pagetable.domains_rwsem',
    'io_pagetable.iova_rwsem',
    'iopt_pages.mutex',
  ]);
});

test('documented order: variants and non-orders', () => {
  assert.deepEqual(parseDocumentedOrder('// lock order: drv->cache_lock -> ioas_lock'), [
    'drv->cache_lock',
    'ioas_lock',
  ]);
  assert.deepEqual(parseDocumentedOrder('/* Locking order is a_lock → b_lock, always. */'), ['a_lock', 'b_lock']);
  assert.deepEqual(parseDocumentedOrder('// lock ordering is: a_lock -> b_lock'), ['a_lock', 'b_lock']);
  assert.deepEqual(
    parseDocumentedOrder('/*\n * The locking order is\n *   domains_rwsem -> iova_rwsem\n *   -> pages::mutex\n */'),
    ['domains_rwsem', 'iova_rwsem', 'pages::mutex'],
  );
  assert.deepEqual(parseDocumentedOrder('/* Locking order: &ioas->mutex -> &igroup->lock -> iova_rwsem. */'), [
    'ioas->mutex',
    'igroup->lock',
    'iova_rwsem',
  ]);
  assert.equal(parseDocumentedOrder('/* take the lock in order to protect the list */'), undefined);
  assert.equal(parseDocumentedOrder('/* the locking order is important here */'), undefined);
  assert.equal(parseDocumentedOrder('/* locking order is only_one */'), undefined);
});

test('documented order: names resolve through the struct itself, a member, or a unique field', () => {
  const structs = {
    ...DEFAULT_KNOWLEDGE.structs,
    mydrv_state: { cache_lock: 'struct mutex', pages: 'struct iopt_pages *' },
  };
  assert.equal(resolveOrderName('iopt_pages::mutex', structs), 'iopt_pages.mutex');
  assert.equal(resolveOrderName('ioas_lock', structs), 'iommufd_access.ioas_lock');
  assert.equal(resolveOrderName('cache_lock', structs), 'mydrv_state.cache_lock');
  // `ioas->mutex`: through a member named `ioas` whose type has the lock.
  assert.equal(resolveOrderName('ioas->mutex', structs), 'iommufd_ioas.mutex');
  // `mutex` alone is a field of several structs: ambiguous without context.
  assert.equal(resolveOrderName('mutex', structs), undefined);
  assert.equal(resolveOrderName('mutex', structs, 'iommufd_ioas'), 'iommufd_ioas.mutex');
  // Unresolvable names are dropped, the documented direction of the rest kept.
  assert.deepEqual(resolveOrderNames(['nosuch_lock', 'ioas_lock', 'iova_rwsem'], structs), [
    'iommufd_access.ioas_lock',
    'io_pagetable.iova_rwsem',
  ]);
});

test("documented order: `owner::field` resolves through a `*_owner` struct only when one has the lock, and a context struct's member wins", () => {
  const structs = {
    blk_queue: { lock: 'spinlock_t', depth: 'int' },
    net_queue: { depth: 'int' },
    tx_ring: { queue: 'struct blk_queue *', lock: 'struct mutex' },
    rx_ring: { queue: 'struct net_queue *' },
  };
  // `queue::lock`, no context: two structs have a member `queue`, only one of their types has the lock.
  assert.equal(resolveOrderName('queue::lock', structs), 'blk_queue.lock');
  // With the documented struct as context, its own member decides (here: no lock there, so the suffix rule answers).
  assert.equal(resolveOrderName('queue::lock', structs, 'rx_ring'), 'blk_queue.lock');
  // `ring::lock` has no member named `ring`: the one struct named `*_ring` with the lock.
  assert.equal(resolveOrderName('ring::lock', structs), 'tx_ring.lock');
  const two = { ...structs, rx_ring: { queue: 'struct net_queue *', lock: 'spinlock_t' } };
  assert.equal(resolveOrderName('ring::lock', two), undefined);
  // A bare field that is a lock in two structs is ambiguous; names of Object's own properties resolve to nothing.
  assert.equal(resolveOrderName('lock', structs), undefined);
  assert.equal(resolveOrderName('constructor', structs), undefined);
  assert.equal(resolveOrderName('constructor::lock', structs), undefined);
});

test('config: a valid file overrides a function and adds a driver callback', () => {
  const text = JSON.stringify({
    functions: {
      mydrv_rebind: { fallible: true },
      iopt_remove_access: { irreversible: false },
      mydrv_flush: { irreversible: 'flushes the device TLB', takes: ['mydrv_state.cache_lock'] },
    },
    callbacks: {
      'mydrv_ops.unmap': {
        takes: [{ lock: 'mydrv_state.cache_lock', mode: 'exclusive' }],
        reaches: ['vfio_unpin_pages'],
      },
    },
    documentedOrders: [['mydrv_state.cache_lock', 'iommufd_access.ioas_lock']],
    disabledRules: ['stale-after-relock'],
    minConfidence: 'medium',
  });
  const { config, problems } = parseConfig(text, '.iommufd-review.json');
  assert.deepEqual(problems, []);
  const k = mergeKnowledge(DEFAULT_KNOWLEDGE, config);
  assert.equal(k.functions.mydrv_rebind.fallible, true);
  assert.equal(k.functions.iopt_remove_access.irreversible, undefined);
  // Keys the config does not mention are kept.
  assert.equal(k.functions.iopt_remove_access.takes?.length, 3);
  assert.deepEqual(k.functions.mydrv_flush.takes, [{ lock: 'mydrv_state.cache_lock', mode: 'exclusive' }]);
  assert.deepEqual(k.callbacks['mydrv_ops.unmap'].reaches, ['vfio_unpin_pages']);
  assert.equal(k.documentedOrders.length, DEFAULT_KNOWLEDGE.documentedOrders.length + 1);
  assert.deepEqual(config?.disabledRules, ['stale-after-relock']);
  // The defaults are untouched.
  assert.ok(DEFAULT_KNOWLEDGE.functions.iopt_remove_access.irreversible);
  assert.equal(DEFAULT_KNOWLEDGE.functions.mydrv_rebind, undefined);
});

test('config: problems name the bad key', () => {
  const text = JSON.stringify({
    fucntions: {},
    functions: { foo: { fallible: 'yes', takes: [{ lock: 'ioas_lock' }] } },
    lockKinds: { 'a.b': 'semaphore' },
    disabledRules: ['lock-ordr'],
    minConfidence: 'certain',
  });
  const { problems } = parseConfig(text, 'cfg.json');
  assert.deepEqual(problems, [
    'cfg.json: fucntions: unknown key (allowed: functions, callbacks, structs, lockKinds, documentedOrders, protectedBy, disabledRules, minConfidence, $schema, //)',
    'cfg.json: functions.foo.takes[0].lock: "ioas_lock" is not of the form "struct.field" (e.g. "iommufd_access.ioas_lock")',
    'cfg.json: functions.foo.fallible: expected true or false, got a string',
    'cfg.json: lockKinds.a.b: expected one of mutex, rwsem, spinlock, xa_lock, unknown, got "semaphore"',
    'cfg.json: disabledRules: unknown rule id "lock-ordr" (known: lock-order, callback-under-lock, unmap-before-rollback, unrestored-state, stale-after-relock, lock-leak, assert-held, missing-undo, published-before-finished, unlocked-access)',
    'cfg.json: minConfidence: expected one of low, medium, high, got "certain"',
  ]);
  assert.deepEqual(
    parseConfig(JSON.stringify({ functions: { f: { implicitReads: [{ field: 'a.b', whenArgs: 'two' }] } } }), 'c.json')
      .problems,
    ['c.json: functions.f.implicitReads[0].whenArgs: expected a whole number of arguments, got "two"'],
  );
  assert.deepEqual(
    parseConfig(
      JSON.stringify({ functions: { f: { implicitReads: [{ field: 'a.b', whenArgs: 2 }], writes: ['a.b'] } } }),
      'c.json',
    ),
    {
      config: { functions: { f: { implicitReads: [{ field: 'a.b', whenArgs: 2 }], writes: ['a.b'] } } },
      problems: [],
    },
  );
  assert.match(parseConfig('{ nope', 'x.json').problems[0], /^x\.json: not valid JSON/);
  assert.deepEqual(parseConfig('[]', 'x.json').problems, ['x.json: (top level): expected an object, got an array']);
  assert.deepEqual(mergeKnowledge(DEFAULT_KNOWLEDGE), mergeKnowledge(DEFAULT_KNOWLEDGE, {}));
});

test('lookups by a name from analysed code never find Object.prototype members', async () => {
  const { functionKnowledge, callbackKnowledge, protectingLock } = await import('../../../src/engine/knowledge/lookup');
  assert.equal(functionKnowledge(DEFAULT_KNOWLEDGE, 'constructor'), undefined);
  assert.equal(functionKnowledge(DEFAULT_KNOWLEDGE, 'toString'), undefined);
  assert.equal(callbackKnowledge(DEFAULT_KNOWLEDGE, '__proto__'), undefined);
  assert.equal(protectingLock(DEFAULT_KNOWLEDGE, 'hasOwnProperty'), undefined);
  assert.equal(functionKnowledge(DEFAULT_KNOWLEDGE, 'iopt_add_access')?.fallible, true);
  assert.equal(protectingLock(DEFAULT_KNOWLEDGE, 'iommufd_access.ioas'), 'iommufd_access.ioas_lock');
});

test('defaults: the PCI core takes pci_bus_sem for a bus reset (read) and for topology changes (write); error handlers run under it', () => {
  const bus = 'file-scope:pci_bus_sem';
  assert.deepEqual(DEFAULT_KNOWLEDGE.functions.pci_reset_bus.takes, [{ lock: bus, mode: 'read' }]);
  assert.deepEqual(DEFAULT_KNOWLEDGE.functions.pci_device_add.takes, [{ lock: bus, mode: 'write' }]);
  assert.equal(DEFAULT_KNOWLEDGE.lockKinds[bus], 'rwsem');
  for (const f of ['error_detected', 'mmio_enabled', 'slot_reset', 'resume'])
    assert.deepEqual(DEFAULT_KNOWLEDGE.callbacks[`pci_error_handlers.${f}`].calledWith, [{ lock: bus, mode: 'read' }]);
});

test('config: a callback called with a framework lock held (calledWith)', () => {
  const text = JSON.stringify({
    callbacks: { 'mybus_driver_ops.notify': { calledWith: [{ lock: 'mybus.topology_rwsem', mode: 'read' }] } },
  });
  const { config, problems } = parseConfig(text, '.iommufd-review.json');
  assert.deepEqual(problems, []);
  const k = mergeKnowledge(DEFAULT_KNOWLEDGE, config);
  assert.deepEqual(k.callbacks['mybus_driver_ops.notify'].calledWith, [{ lock: 'mybus.topology_rwsem', mode: 'read' }]);
  assert.match(
    parseConfig(JSON.stringify({ callbacks: { 'a_ops.f': { calledWith: 'x' } } }), 'c.json').problems[0],
    /^c\.json: callbacks\.a_ops\.f\.calledWith: expected an array/,
  );
});
