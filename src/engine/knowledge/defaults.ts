/**
 * What the analyzer knows about iommufd when a body is not in view: the lock
 * catalog, the struct layouts lock identities are resolved through, the
 * documented and practised lock orders, and which entry points take locks,
 * can fail, cannot be undone or restore. Written from the facts in
 * docs/knowledge.md; every entry is overridable by `.iommufd-review.json`.
 */
import type { FunctionKnowledge, Knowledge, LockTake } from './types';

const IOAS_LOCK = 'iommufd_access.ioas_lock';
const DOMAINS_RWSEM = 'io_pagetable.domains_rwsem';
const IOVA_RWSEM = 'io_pagetable.iova_rwsem';
const PAGES_MUTEX = 'iopt_pages.mutex';
const ACCESS_LIST = 'io_pagetable.access_list';
/** The PCI core's global rwsem over the bus topology (bus device lists); taken for write when devices come and go. */
const PCI_BUS_SEM = 'file-scope:pci_bus_sem';
/** A bus or slot reset waits for the devices below the bridge, reading the bus lists under pci_bus_sem. */
const PCI_BUS_READ: LockTake[] = [{ lock: PCI_BUS_SEM, mode: 'read' }];
const PCI_BUS_WRITE: LockTake[] = [{ lock: PCI_BUS_SEM, mode: 'write' }];

/** iopt_add_access / iopt_remove_access: both rwsems for write (xarray lock inside). */
const IOPT_ACCESS_LIST_TAKES: LockTake[] = [
  { lock: DOMAINS_RWSEM, mode: 'write' },
  { lock: IOVA_RWSEM, mode: 'write' },
  { lock: ACCESS_LIST, mode: 'exclusive' },
];

/** The pin/unpin/rw path: ioas_lock → iova_rwsem (read) → pages mutex. */
const PIN_PATH_TAKES: LockTake[] = [
  { lock: IOAS_LOCK, mode: 'exclusive' },
  { lock: IOVA_RWSEM, mode: 'read' },
  { lock: PAGES_MUTEX, mode: 'exclusive' },
];

/** The IOAS unmap path; both rwsems are dropped before accesses are notified. */
const IOVA_UNMAP_TAKES: LockTake[] = [
  { lock: DOMAINS_RWSEM, mode: 'read' },
  { lock: IOVA_RWSEM, mode: 'write' },
];

/** attach/replace: ioas_lock, then what iopt_add_access takes. */
const ACCESS_ATTACH_TAKES: LockTake[] = [{ lock: IOAS_LOCK, mode: 'exclusive' }, ...IOPT_ACCESS_LIST_TAKES];

// Reasons are verb phrases: checks put them after the call's name in messages.
const UNPIN_IRREVERSIBLE = 'unpins the pages';
const PUT_IRREVERSIBLE = 'drops a reference to the object';
const DESTROY_IRREVERSIBLE = 'destroys the object';
// Why a path's locks are not part of its callers' lock order (see `outsideLockOrder`).
const STOPS_KERNEL = 'stops the kernel, with the other CPUs stopped first';
const WARN_FIRED = 'runs only when a WARN or BUG has fired';
const LOCKDEP_HOOK =
  "is lockdep's hook: its bookkeeping runs under lockdep's own raw lock, and it calls out only to report";

const fallible: FunctionKnowledge = { fallible: true };
const XA_RELEASE = ['xa_erase', '__xa_erase', 'xa_erase_irq', 'xa_erase_bh', 'xa_cmpxchg'];
const PUT_OBJECT = ['iommufd_put_object'];

/** iommufd's area and span iterators: their cursors point into the area trees, valid only under iova_rwsem. */
const AREA_ITERATOR = { cursors: [0, 1], validUnder: IOVA_RWSEM };

/**
 * Calls that make an object reachable by other threads (published-before-finished):
 * which argument is the object (or its embedded node) and which the container.
 * Lists, hash lists and hash tables link a node; the xarray and IDR store an entry;
 * rbtrees link a node (rb_link_node) or insert it (rb_add).
 */
const PUBLISHES: Record<string, { object: number; into: number }> = {
  list_add: { object: 0, into: 1 },
  list_add_tail: { object: 0, into: 1 },
  list_add_rcu: { object: 0, into: 1 },
  list_add_tail_rcu: { object: 0, into: 1 },
  hlist_add_head: { object: 0, into: 1 },
  hlist_add_head_rcu: { object: 0, into: 1 },
  hlist_add_behind: { object: 0, into: 1 },
  hlist_add_before: { object: 0, into: 1 },
  hash_add: { object: 1, into: 0 },
  hash_add_rcu: { object: 1, into: 0 },
  xa_store: { object: 2, into: 0 },
  __xa_store: { object: 2, into: 0 },
  xa_insert: { object: 2, into: 0 },
  __xa_insert: { object: 2, into: 0 },
  xa_alloc: { object: 2, into: 0 },
  __xa_alloc: { object: 2, into: 0 },
  xa_alloc_cyclic: { object: 2, into: 0 },
  __xa_alloc_cyclic: { object: 2, into: 0 },
  idr_alloc: { object: 1, into: 0 },
  idr_alloc_u32: { object: 1, into: 0 },
  idr_alloc_cyclic: { object: 1, into: 0 },
  idr_replace: { object: 1, into: 0 },
  rb_link_node: { object: 0, into: 2 },
  rb_add: { object: 0, into: 1 },
  rb_add_cached: { object: 0, into: 1 },
};

/**
 * Calls that end an object's construction: iommufd objects are allocated
 * unreachable by ID and made visible by finalize, or torn down by abort.
 */
const FINISHES: Record<string, { object: number; aborts?: boolean }> = {
  iommufd_object_finalize: { object: 1 },
  iommufd_object_abort: { object: 1, aborts: true },
  iommufd_object_abort_and_destroy: { object: 1, aborts: true },
};

function functions(): Record<string, FunctionKnowledge> {
  const out = ownFunctions();
  for (const [name, publishes] of Object.entries(PUBLISHES)) out[name] = { ...out[name], publishes };
  for (const [name, finishes] of Object.entries(FINISHES)) out[name] = { ...out[name], finishes };
  return out;
}

function ownFunctions(): Record<string, FunctionKnowledge> {
  return {
    // The access list of an IOAS.
    // It stores the new IOAS's slot in the access, overwriting the old one.
    iopt_add_access: {
      takes: IOPT_ACCESS_LIST_TAKES,
      fallible: true,
      writes: ['iommufd_access.iopt_access_list_id'],
      releasedBy: ['iopt_remove_access'],
    },
    iopt_remove_access: {
      takes: IOPT_ACCESS_LIST_TAKES,
      irreversible: 'removes the access from the IOAS',
      // Before 6.6 it took no slot argument and used the one stored in the access.
      implicitReads: [{ field: 'iommufd_access.iopt_access_list_id', whenArgs: 2 }],
    },

    // In-kernel access users (emulated devices). Pins are given back by the unpin calls.
    iommufd_access_pin_pages: { takes: PIN_PATH_TAKES, fallible: true, releasedBy: ['iommufd_access_unpin_pages'] },
    iommufd_access_unpin_pages: { takes: PIN_PATH_TAKES, irreversible: UNPIN_IRREVERSIBLE },
    iommufd_access_rw: { takes: PIN_PATH_TAKES, fallible: true },
    vfio_pin_pages: { reaches: ['iommufd_access_pin_pages'], fallible: true, releasedBy: ['vfio_unpin_pages'] },
    vfio_unpin_pages: { reaches: ['iommufd_access_unpin_pages'], irreversible: UNPIN_IRREVERSIBLE },
    vfio_dma_rw: { reaches: ['iommufd_access_rw'], fallible: true },
    iommufd_access_attach: { takes: ACCESS_ATTACH_TAKES, fallible: true, releasedBy: ['iommufd_access_detach'] },
    iommufd_access_replace: { takes: ACCESS_ATTACH_TAKES, fallible: true },
    iommufd_access_detach: {
      takes: ACCESS_ATTACH_TAKES,
      irreversible: "unmaps the driver's pages and removes the access from its IOAS",
    },
    // v8's detach helper, for when a patch calls it without its body in view.
    __iommufd_access_detach: {
      requires: [{ lock: IOAS_LOCK, mode: 'exclusive' }],
      irreversible: "unmaps the driver's pages and removes the access from its IOAS",
    },
    iommufd_access_change_ioas: {
      takes: IOPT_ACCESS_LIST_TAKES,
      requires: [{ lock: IOAS_LOCK, mode: 'exclusive' }],
      fallible: true,
    },

    // Unmapping IOVA ranges notifies accesses: the driver drops its pins.
    iopt_unmap_iova_range: { takes: IOVA_UNMAP_TAKES, irreversible: 'unmaps the IOVA range' },
    iopt_unmap_iova: { takes: IOVA_UNMAP_TAKES, irreversible: 'unmaps the IOVA range' },
    iopt_unmap_all: { takes: IOVA_UNMAP_TAKES, irreversible: 'unmaps every IOVA range' },
    iommufd_access_notify_unmap: {
      takes: [{ lock: ACCESS_LIST, mode: 'exclusive' }],
      irreversible: "makes every access's driver unmap the range",
    },

    // iommufd's area and span iterators: what they return and the cursors they move
    // point into the IOAS's area trees and are valid only while iova_rwsem is held.
    iopt_for_each_contig_area: { iterator: AREA_ITERATOR },
    interval_tree_for_each_double_span: { iterator: { cursors: [0], validUnder: IOVA_RWSEM } },
    interval_tree_for_each_span: { iterator: { cursors: [0], validUnder: IOVA_RWSEM } },
    iopt_area_contig_init: { iterator: { cursors: [0], validUnder: IOVA_RWSEM } },
    iopt_area_contig_next: { iterator: { cursors: [0], validUnder: IOVA_RWSEM } },
    iopt_area_iter_first: { iterator: { cursors: [], validUnder: IOVA_RWSEM } },
    iopt_area_iter_next: { iterator: { cursors: [], validUnder: IOVA_RWSEM } },
    iopt_allowed_iter_first: { iterator: { cursors: [], validUnder: IOVA_RWSEM } },
    iopt_allowed_iter_next: { iterator: { cursors: [], validUnder: IOVA_RWSEM } },
    iopt_reserved_iter_first: { iterator: { cursors: [], validUnder: IOVA_RWSEM } },
    iopt_reserved_iter_next: { iterator: { cursors: [], validUnder: IOVA_RWSEM } },
    // Generic kernel iterators: which arguments they move.
    xa_for_each: { iterator: { cursors: [1, 2] } },
    xa_for_each_start: { iterator: { cursors: [1, 2] } },
    xa_for_each_range: { iterator: { cursors: [1, 2] } },
    xa_for_each_marked: { iterator: { cursors: [1, 2] } },
    idr_for_each_entry: { iterator: { cursors: [1, 2] } },
    idr_for_each_entry_ul: { iterator: { cursors: [1, 3] } },
    list_for_each_entry_safe: { iterator: { cursors: [0, 1] } },
    list_for_each_entry_safe_reverse: { iterator: { cursors: [0, 1] } },
    hlist_for_each_entry_safe: { iterator: { cursors: [0, 1] } },

    // Paths that run only once the kernel has found a bug, and lockdep's own hooks: what they take is not part
    // of their callers' lock order (lockdep turns itself off at its first report and does not record it either).
    panic: { outsideLockOrder: STOPS_KERNEL },
    vpanic: { outsideLockOrder: STOPS_KERNEL },
    nmi_panic: { outsideLockOrder: STOPS_KERNEL },
    __warn: { outsideLockOrder: WARN_FIRED },
    warn_slowpath_fmt: { outsideLockOrder: WARN_FIRED },
    report_bug: { outsideLockOrder: WARN_FIRED },
    kasan_report: { outsideLockOrder: 'runs only when KASAN has found a bad access' },
    kasan_report_invalid_free: { outsideLockOrder: 'runs only when KASAN has found a bad free' },
    kfence_report_error: { outsideLockOrder: 'runs only when KFENCE has found a bad access' },
    kmsan_report: { outsideLockOrder: 'runs only when KMSAN has found a use of uninitialised memory' },
    bad_page: { outsideLockOrder: 'runs only when mm has found a corrupt page' },
    debug_locks_off: { outsideLockOrder: 'turns lockdep off after its report' },
    lock_acquire: { outsideLockOrder: LOCKDEP_HOOK },
    lock_release: { outsideLockOrder: LOCKDEP_HOOK },
    lock_acquired: { outsideLockOrder: LOCKDEP_HOOK },
    lock_contended: { outsideLockOrder: LOCKDEP_HOOK },
    lock_sync: { outsideLockOrder: LOCKDEP_HOOK },

    // Object lookups and lifetime.
    // A lookup returns the object with a short-term reference the caller must put.
    iommufd_get_ioas: { fallible: true, releasedBy: PUT_OBJECT },
    iommufd_get_object: { fallible: true, releasedBy: PUT_OBJECT },
    iommufd_get_hwpt_paging: { fallible: true, releasedBy: PUT_OBJECT },
    iommufd_get_device: { fallible: true, releasedBy: PUT_OBJECT },
    iommufd_object_alloc: fallible,
    iommufd_access_create: { fallible: true, releasedBy: ['iommufd_access_destroy'] },
    iommufd_device_bind: { fallible: true, releasedBy: ['iommufd_device_unbind'] },
    iommufd_device_attach: { fallible: true, releasedBy: ['iommufd_device_detach'] },
    iommufd_put_object: { irreversible: PUT_IRREVERSIBLE },
    refcount_dec: { irreversible: PUT_IRREVERSIBLE },
    refcount_dec_and_test: { irreversible: PUT_IRREVERSIBLE },
    kref_put: { irreversible: PUT_IRREVERSIBLE },
    iommufd_object_destroy_user: { irreversible: DESTROY_IRREVERSIBLE },
    iommufd_object_remove: { irreversible: DESTROY_IRREVERSIBLE },
    // iommufd_object_abort*() are not listed: they tear down a half-built object on its own error path.

    // xarray slots (xa_store is checked with xa_err()). The allocators store the new
    // index through their second argument; a slot taken is given back with xa_erase().
    xa_alloc: { fallible: true, outParams: [1], releasedBy: XA_RELEASE },
    xa_alloc_cyclic: { fallible: true, outParams: [1], releasedBy: XA_RELEASE },
    xa_alloc_irq: { fallible: true, outParams: [1], releasedBy: XA_RELEASE },
    xa_alloc_bh: { fallible: true, outParams: [1], releasedBy: XA_RELEASE },
    xa_insert: { fallible: true, releasedBy: XA_RELEASE },
    xa_store: fallible,
    xa_reserve: { fallible: true, releasedBy: ['xa_release', ...XA_RELEASE] },
    // IDR: idr_alloc_u32() stores the id through its third argument.
    idr_alloc_u32: { fallible: true, outParams: [2], releasedBy: ['idr_remove'] },
    idr_alloc: { fallible: true, releasedBy: ['idr_remove'] },
    idr_alloc_cyclic: { fallible: true, releasedBy: ['idr_remove'] },
    ida_alloc: { fallible: true, releasedBy: ['ida_free'] },
    ida_alloc_range: { fallible: true, releasedBy: ['ida_free'] },
    ida_alloc_min: { fallible: true, releasedBy: ['ida_free'] },
    ida_alloc_max: { fallible: true, releasedBy: ['ida_free'] },
    // Copies into their first argument.
    copy_from_user: { outParams: [0] },
    __copy_from_user: { outParams: [0] },
    memcpy: { outParams: [0] },
    get_user: { outParams: [0] },

    // Acquire/release pairs: what an error path after a successful acquire must undo.
    pin_user_pages: { fallible: true, releasedBy: ['unpin_user_pages', 'unpin_user_page'] },
    pin_user_pages_fast: { fallible: true, releasedBy: ['unpin_user_pages', 'unpin_user_page'] },
    pin_user_pages_remote: { fallible: true, releasedBy: ['unpin_user_pages', 'unpin_user_page'] },
    iommu_attach_group: { fallible: true, releasedBy: ['iommu_detach_group'] },
    iommu_attach_device: { fallible: true, releasedBy: ['iommu_detach_device'] },
    iommu_device_claim_dma_owner: { fallible: true, releasedBy: ['iommu_device_release_dma_owner'] },
    iommu_group_claim_dma_owner: { fallible: true, releasedBy: ['iommu_group_release_dma_owner'] },
    try_module_get: { releasedBy: ['module_put'] },
    request_irq: { fallible: true, releasedBy: ['free_irq'] },
    request_threaded_irq: { fallible: true, releasedBy: ['free_irq'] },
    pci_enable_device: { fallible: true, releasedBy: ['pci_disable_device'] },
    vfio_register_group_dev: { fallible: true, releasedBy: ['vfio_unregister_group_dev'] },
    vfio_register_emulated_iommu_dev: { fallible: true, releasedBy: ['vfio_unregister_group_dev'] },

    // Allocations checked for NULL.
    kmalloc: fallible,
    kzalloc: fallible,
    kcalloc: fallible,
    kmalloc_array: fallible,
    kvzalloc: fallible,
    kvcalloc: fallible,
    kmemdup: fallible,

    // PCI core (drivers/pci): a secondary bus reset waits for the bus below the bridge to come
    // back, reading its device list under pci_bus_sem; the bus walk holds it around its callback.
    pci_reset_bus: { takes: PCI_BUS_READ },
    pci_bridge_secondary_bus_reset: { takes: PCI_BUS_READ },
    pci_bridge_wait_for_secondary_bus: { takes: PCI_BUS_READ },
    pci_walk_bus: { takes: PCI_BUS_READ },
    // A copy of the saved config space, allocated; given back with kfree() or by loading it.
    pci_store_saved_state: { releasedBy: ['kfree', 'pci_load_and_free_saved_state'] },
    // Devices and buses join and leave the topology with pci_bus_sem held for write.
    pci_device_add: { takes: PCI_BUS_WRITE },
    pci_add_new_bus: { takes: PCI_BUS_WRITE },
    pci_remove_bus: { takes: PCI_BUS_WRITE },
    pci_stop_and_remove_bus_device: { takes: PCI_BUS_WRITE },

    // Domains and attach helpers.
    iopt_table_add_domain: fallible,
    iommu_group_replace_domain: fallible,
    iommufd_device_replace: fallible,
    iommufd_hw_pagetable_attach: fallible,
    iommufd_hwpt_attach_device: fallible,
    iommufd_hwpt_replace_device: fallible,
  };
}

export const DEFAULT_KNOWLEDGE: Knowledge = {
  functions: functions(),
  callbacks: {
    // A driver's unmap calls vfio_unpin_pages(), which reaches the unpin path.
    'iommufd_access_ops.unmap': {
      takes: PIN_PATH_TAKES,
      reaches: ['vfio_unpin_pages', 'iommufd_access_unpin_pages'],
      irreversible: "unmaps the driver's pages",
    },
    // PCI error recovery (drivers/pci/pcie/err.c) walks the devices below the failing bridge
    // with pci_walk_bus(), so a driver's error handlers run with pci_bus_sem held for read.
    'pci_error_handlers.error_detected': { calledWith: PCI_BUS_READ },
    'pci_error_handlers.mmio_enabled': { calledWith: PCI_BUS_READ },
    'pci_error_handlers.slot_reset': { calledWith: PCI_BUS_READ },
    'pci_error_handlers.resume': { calledWith: PCI_BUS_READ },
  },
  structs: {
    iommufd_object: {
      shortterm_users: 'refcount_t',
      users: 'refcount_t',
      type: 'enum iommufd_object_type',
      id: 'unsigned int',
    },
    iommufd_access: {
      obj: 'struct iommufd_object',
      ictx: 'struct iommufd_ctx *',
      ioas: 'struct iommufd_ioas *',
      ioas_unpin: 'struct iommufd_ioas *',
      ioas_lock: 'struct mutex',
      ops: 'const struct iommufd_access_ops *',
      data: 'void *',
      iova_alignment: 'unsigned long',
      iopt_access_list_id: 'u32',
    },
    iommufd_access_ops: {
      needs_pin_pages: 'u8',
      unmap: 'void (*)(void *data, unsigned long iova, unsigned long length)',
    },
    iommufd_ioas: {
      obj: 'struct iommufd_object',
      iopt: 'struct io_pagetable',
      mutex: 'struct mutex',
      hwpt_list: 'struct list_head',
    },
    io_pagetable: {
      domains_rwsem: 'struct rw_semaphore',
      domains: 'struct xarray',
      access_list: 'struct xarray',
      next_domain_id: 'unsigned int',
      iova_rwsem: 'struct rw_semaphore',
      area_itree: 'struct rb_root_cached',
      allowed_itree: 'struct rb_root_cached',
      reserved_itree: 'struct rb_root_cached',
      iova_alignment: 'unsigned long',
    },
    iopt_area: {
      iopt: 'struct io_pagetable *',
      pages: 'struct iopt_pages *',
      num_accesses: 'unsigned int',
    },
    iopt_pages: {
      kref: 'struct kref',
      mutex: 'struct mutex',
      npinned: 'size_t',
      pinned_pfns: 'struct xarray',
      access_itree: 'struct rb_root_cached',
      domains_itree: 'struct rb_root_cached',
    },
    iommufd_ctx: {
      file: 'struct file *',
      objects: 'struct xarray',
      groups: 'struct xarray',
      ioas_creation_lock: 'struct rw_semaphore',
      vfio_ioas: 'struct iommufd_ioas *',
    },
    iommufd_group: {
      ref: 'struct kref',
      lock: 'struct mutex',
      ictx: 'struct iommufd_ctx *',
      hwpt: 'struct iommufd_hw_pagetable *',
      device_list: 'struct list_head',
    },
    iommufd_device: {
      obj: 'struct iommufd_object',
      ictx: 'struct iommufd_ctx *',
      igroup: 'struct iommufd_group *',
    },
    vfio_device_set: {
      lock: 'struct mutex',
    },
  },
  lockKinds: {
    [IOAS_LOCK]: 'mutex',
    [DOMAINS_RWSEM]: 'rwsem',
    [IOVA_RWSEM]: 'rwsem',
    [PAGES_MUTEX]: 'mutex',
    [ACCESS_LIST]: 'xa_lock',
    'io_pagetable.domains': 'xa_lock',
    'iommufd_ioas.mutex': 'mutex',
    'iommufd_group.lock': 'mutex',
    'iommufd_ctx.ioas_creation_lock': 'rwsem',
    'iommufd_ctx.objects': 'xa_lock',
    'iommufd_ctx.groups': 'xa_lock',
    'vfio_device_set.lock': 'mutex',
    [PCI_BUS_SEM]: 'rwsem',
  },
  documentedOrders: [
    // The comment above struct io_pagetable.
    [DOMAINS_RWSEM, IOVA_RWSEM, PAGES_MUTEX],
    // What the code follows: the access lock outside the IOAS locks.
    [IOAS_LOCK, DOMAINS_RWSEM, IOVA_RWSEM, PAGES_MUTEX],
    ['iommufd_ioas.mutex', 'iommufd_group.lock', IOVA_RWSEM],
    ['iommufd_ctx.ioas_creation_lock', IOVA_RWSEM],
  ],
  protectedBy: {
    'iommufd_access.ioas': IOAS_LOCK,
    'iommufd_access.ioas_unpin': IOAS_LOCK,
    'iommufd_access.iopt_access_list_id': IOAS_LOCK,
  },
};
