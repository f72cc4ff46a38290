/**
 * The real-bug benchmark's data: locking and rollback bugs that were fixed in
 * iommufd, vfio and the emulated-device drivers (2022 to 2025), recorded as
 * facts in our own words plus a small "put it back" edit of our own that
 * reintroduces each bug into a copy of Linux 6.12 at test time.
 *
 * No kernel code or diff is stored here: an edit's `find` is a short anchor
 * (one statement or two) that must occur exactly once in the 6.12 file, and
 * its `replace` is our own re-creation of the pre-fix logic (usually the fix
 * reversed: a line deleted or moved back).
 *
 * `expect` is what the engine does today at the default confidence, so the
 * README table stays true: `caught` (a finding of `rule` in one of
 * `functions` on the edited tree, none on 6.12) or `missed` (none, with the
 * model feature that is lacking in `reason`). Bugs whose code is gone from
 * 6.12 keep their facts and a fixture description for fix-patch tests.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The issue's shapes and the original rule classes a bug belongs to. */
export type BugClass =
  | 'out-parameter-write'
  | 'use-after-unlock'
  | 'missing-undo'
  | 'unlocked-access'
  | 'published-before-finished'
  | 'lock-order'
  | 'callback-under-lock'
  | 'unmap-before-rollback'
  | 'unrestored-state'
  | 'stale-after-relock'
  | 'lock-leak'
  | 'assert-held';

/** One anchored search-and-replace on a 6.12 file (path relative to the kernel tree). */
export interface PutBackEdit {
  file: string;
  find: string;
  /**
   * When set, the edit spans from `find` through the first occurrence of
   * `through` after it (both included), so a block is removed or replaced
   * with two short anchors instead of quoting it whole.
   */
  through?: string;
  replace: string;
}

export interface BugOrigin {
  /** The fix's subject line. */
  subject: string;
  /** Upstream commit of the fix, when known. */
  commit?: string;
  /** Message-ID of the posted fix (or of its stable copy). */
  messageId?: string;
  /** Date of the fix's posting or merge (YYYY-MM or YYYY-MM-DD). */
  date: string;
  /** The commit the fix names in its Fixes: tag, when known. */
  fixes?: string;
  /** Reported by: syzbot, lockdep, a CVE id, review. */
  reported?: string;
}

interface BugBase {
  /** Stable slug, used in test names and the README table. */
  id: string;
  origin: BugOrigin;
  /** The file the bug sits in, relative to the kernel tree. */
  file: string;
  /** Where the finding belongs: the function the bug is in (any one of these). */
  functions: string[];
  class: BugClass;
  /** The rule id that should report it. */
  rule: string;
  /** What went wrong, in our own words. */
  what: string;
}

export interface PresentBug extends BugBase {
  status: 'caught' | 'missed';
  edits: PutBackEdit[];
  /** For `missed`: what the model lacks, concretely (the engine work list). */
  reason?: string;
}

export interface GoneBug extends BugBase {
  status: 'gone-from-6.12';
  /** Why no put-back edit applies to 6.12. */
  gone: string;
  /** A fixture of our own that reproduces the bug's logic (for fix-patch cases). */
  fixture: string;
}

export type RealBug = PresentBug | GoneBug;

export const REAL_BUGS: RealBug[] = [
  {
    id: 'iommufd-unpin-iter-after-unlock',
    origin: {
      subject: 'iommufd: Call iopt_area_contig_done() under the lock',
      commit: 'dbe245cdf5189e88d680379ed13901356628b650',
      messageId: '2-v2-9a03761d445d+54-iommufd_syz2_jgg@nvidia.com',
      date: '2023-06',
      fixes: '51fe6141f0f6',
      reported: 'syzbot (KASAN slab-use-after-free)',
    },
    file: 'drivers/iommu/iommufd/device.c',
    functions: ['iommufd_access_unpin_pages'],
    class: 'use-after-unlock',
    rule: 'stale-after-relock',
    what:
      'The unpin loop walks the areas with a contiguous-area iterator under iova_rwsem (read). The final ' +
      '"did the walk cover the whole range" check reads the area the iterator points at, but it ran after ' +
      'up_read(), so a concurrent unmap could already have freed that area.',
    edits: [
      {
        file: 'drivers/iommu/iommufd/device.c',
        find: '\tWARN_ON(!iopt_area_contig_done(&iter));\n\tup_read(&iopt->iova_rwsem);\n',
        replace: '\tup_read(&iopt->iova_rwsem);\n\tWARN_ON(!iopt_area_contig_done(&iter));\n',
      },
    ],
    status: 'caught',
  },
  {
    id: 'iommufd-unmap-area-after-unlock',
    origin: {
      subject: 'iommufd: Do not access the area pointer after unlocking',
      commit: '804ca14d04df09bf7924bacc5ad22a4bed80c94f',
      messageId: '1-v2-9a03761d445d+54-iommufd_syz2_jgg@nvidia.com',
      date: '2023-06',
      fixes: '51fe6141f0f6',
      reported: 'syzbot (KASAN slab-use-after-free)',
    },
    file: 'drivers/iommu/iommufd/io_pagetable.c',
    functions: ['iopt_unmap_iova_range'],
    class: 'use-after-unlock',
    rule: 'stale-after-relock',
    what:
      'When an area still has accesses, the unmap loop drops iova_rwsem and domains_rwsem to notify the ' +
      'accesses, then retries. The notification took the area length from the area itself after both locks ' +
      'were dropped, and a parallel unmap could free the area in that window.',
    edits: [
      {
        file: 'drivers/iommu/iommufd/io_pagetable.c',
        find: '\t\t\tsize_t length = iopt_area_length(area);\n\n',
        replace: '',
      },
      {
        file: 'drivers/iommu/iommufd/io_pagetable.c',
        find: 'iommufd_access_notify_unmap(iopt, area_first, length);',
        replace: 'iommufd_access_notify_unmap(iopt, area_first, iopt_area_length(area));',
      },
    ],
    status: 'caught',
  },
  {
    id: 'iommufd-access-list-id-overwrite',
    origin: {
      subject: 'iommufd: Fix iopt_access_list_id overwrite bug',
      commit: 'aeb004c0cd6958e910123a1607634401009c9539',
      messageId: '2dda7acb25b8562ec5f1310de828ef5da9ef509c.1708636627.git.nicolinc@nvidia.com',
      date: '2024-02-22',
      fixes: '9227da7816dd',
      reported: 'syzkaller (WARN_ON on a mismatched access in the access list)',
    },
    file: 'drivers/iommu/iommufd/io_pagetable.c',
    functions: ['iopt_add_access'],
    class: 'out-parameter-write',
    rule: 'unrestored-state',
    what:
      "Adding an access to an IOAS let the xarray allocator write the new slot straight into the access's " +
      'iopt_access_list_id. When the following alignment check failed, the error path erased the new slot ' +
      'but left the field overwritten, so a replace that failed here later removed the access from its old ' +
      'IOAS with the wrong id.',
    edits: [
      {
        file: 'drivers/iommu/iommufd/io_pagetable.c',
        find: 'xa_alloc(&iopt->access_list, &new_id, access,',
        replace: 'xa_alloc(&iopt->access_list, &access->iopt_access_list_id, access,',
      },
      {
        file: 'drivers/iommu/iommufd/io_pagetable.c',
        find: 'xa_erase(&iopt->access_list, new_id);',
        replace: 'xa_erase(&iopt->access_list, access->iopt_access_list_id);',
      },
      {
        file: 'drivers/iommu/iommufd/io_pagetable.c',
        find: '\taccess->iopt_access_list_id = new_id;\n',
        replace: '',
      },
    ],
    status: 'caught',
  },
  {
    id: 'iommufd-auto-domain-unlock-before-finalize',
    origin: {
      subject: 'iommufd: Fix locking around hwpt allocation',
      commit: '31422dff187b243c58f3a97d16bbe9e9ada639fe',
      messageId: '11-v6-fdb604df649a+369-iommufd_alloc_jgg@nvidia.com',
      date: '2023-04-20',
      fixes: 'e8d57210035b',
      reported: 'review (Jason Gunthorpe, in the hwpt allocation series)',
    },
    file: 'drivers/iommu/iommufd/device.c',
    functions: ['iommufd_device_auto_get_domain'],
    class: 'published-before-finished',
    rule: 'published-before-finished',
    what:
      "An automatically created hw_pagetable is put on the IOAS's hwpt list under ioas->mutex. The mutex was " +
      'released before the object was finalized, so a concurrent auto_get_domain could find and use a ' +
      'half-initialised hwpt through the list.',
    edits: [
      {
        file: 'drivers/iommu/iommufd/device.c',
        find: '\tiommufd_object_finalize(idev->ictx, &hwpt->obj);\n\tmutex_unlock(&ioas->mutex);\n',
        replace: '\tmutex_unlock(&ioas->mutex);\n\tiommufd_object_finalize(idev->ictx, &hwpt->obj);\n',
      },
    ],
    status: 'caught',
  },
  {
    id: 'vfio-pci-intx-enable-name-leak',
    origin: {
      subject: 'vfio/pci: fix potential memory leak in vfio_intx_enable()',
      commit: '82b951e6fbd31d85ae7f4feb5f00ddd4c5d256e2',
      messageId: '20240415015029.3699844-1-yebin10@huawei.com',
      date: '2024-04-15',
      fixes: '18c198c96a81',
      reported: 'code reading (Ye Bin)',
    },
    file: 'drivers/vfio/pci/vfio_pci_intrs.c',
    functions: ['vfio_intx_enable'],
    class: 'missing-undo',
    rule: 'missing-undo',
    what:
      'The INTx enable path allocates the interrupt name with kasprintf() and then the IRQ context; when the ' +
      'context allocation failed it returned -ENOMEM without freeing the name, while the later failure path ' +
      'of the same function frees it.',
    edits: [
      {
        file: 'drivers/vfio/pci/vfio_pci_intrs.c',
        find: '\tif (!ctx) {\n\t\tkfree(name);\n\t\treturn -ENOMEM;\n\t}\n',
        replace: '\tif (!ctx)\n\t\treturn -ENOMEM;\n',
      },
    ],
    status: 'caught',
  },
  {
    id: 'vfio-pci-intx-mask-without-igate',
    origin: {
      subject: 'vfio/pci: Lock external INTx masking ops',
      commit: '810cd4bb53456d0503cc4e7934e063835152c1b7',
      messageId: '20240308230557.805580-3-alex.williamson@redhat.com',
      date: '2024-03-08',
      fixes: '89e1f7d4c66d',
      reported: 'Reinette Chatre (review); CVE-2024-26810',
    },
    file: 'drivers/vfio/pci/vfio_pci_intrs.c',
    functions: ['vfio_pci_intx_mask', '__vfio_pci_intx_mask', 'vfio_pci_intx_unmask', '__vfio_pci_intx_unmask'],
    class: 'unlocked-access',
    rule: 'unlocked-access',
    what:
      "Masking and unmasking INTx from a config-space write to DisINTx tested the device's interrupt type " +
      '(irq_type, which SET_IRQS changes under igate) without holding igate, racing a concurrent change of ' +
      'the interrupt configuration. The fix wrapped the external mask/unmask entry points in igate.',
    edits: [
      {
        file: 'drivers/vfio/pci/vfio_pci_intrs.c',
        find: '\tmutex_lock(&vdev->igate);\n\tmask_changed = __vfio_pci_intx_mask(vdev);\n\tmutex_unlock(&vdev->igate);\n',
        replace: '\tmask_changed = __vfio_pci_intx_mask(vdev);\n',
      },
      {
        file: 'drivers/vfio/pci/vfio_pci_intrs.c',
        find: '\tmutex_lock(&vdev->igate);\n\t__vfio_pci_intx_unmask(vdev);\n\tmutex_unlock(&vdev->igate);\n',
        replace: '\t__vfio_pci_intx_unmask(vdev);\n',
      },
      // The assertions came with the fix: without them the bug is as it was.
      {
        file: 'drivers/vfio/pci/vfio_pci_intrs.c',
        find: '\tbool masked_changed = false;\n\n\tlockdep_assert_held(&vdev->igate);\n',
        replace: '\tbool masked_changed = false;\n',
      },
      {
        file: 'drivers/vfio/pci/vfio_pci_intrs.c',
        find: 'vfio_irq_ctx_get(vdev, 0);\n\n\tlockdep_assert_held(&vdev->igate);\n',
        replace: 'vfio_irq_ctx_get(vdev, 0);\n',
      },
    ],
    status: 'missed',
    reason:
      "unlocked-access reports it only at low confidence, below the default: vfio_pci_intx_mask() calls __vfio_pci_intx_mask() without igate and reaches the read of vdev->irq_type in is_intx(), while 21 of the field's 27 sites in view hold igate (the writers through the SET_IRQS ioctl's function-pointer dispatch); inferred protection stays low until the rule's other candidates on 6.12 are triaged.",
  },
  {
    id: 'gvt-page-track-write-unlocked-lookup',
    origin: {
      subject: 'drm/i915/gvt: Protect gfn hash table with vgpu_lock',
      messageId: '20230729013535.1070024-12-seanjc@google.com',
      date: '2023-07-29',
      reported: 'review (Sean Christopherson, KVM page-track rework series; applied as kvm-x86 49a83e190b5b)',
    },
    file: 'drivers/gpu/drm/i915/gvt/kvmgt.c',
    functions: ['kvmgt_page_track_write', 'kvmgt_gfn_is_write_protected', '__kvmgt_protect_table_find'],
    class: 'unlocked-access',
    rule: 'unlocked-access',
    what:
      "KVM's page-track write notifier looked up the gfn in the vGPU's write-protect hash table without any " +
      'lock (vgpu_lock was only taken later, inside the handler), while the remove path deleted and freed ' +
      'entries of the same table: a use-after-free. The fix takes vgpu_lock around the lookup and asserts it ' +
      'in the table helper.',
    edits: [
      {
        file: 'drivers/gpu/drm/i915/gvt/kvmgt.c',
        find: '\tmutex_lock(&info->vgpu_lock);\n\n\tif (kvmgt_gfn_is_write_protected(info, gpa >> PAGE_SHIFT))\n',
        replace: '\tif (kvmgt_gfn_is_write_protected(info, gpa >> PAGE_SHIFT)) {\n\t\tmutex_lock(&info->vgpu_lock);\n',
      },
      {
        file: 'drivers/gpu/drm/i915/gvt/kvmgt.c',
        find: '(void *)val, len);\n\n\tmutex_unlock(&info->vgpu_lock);\n',
        replace: '(void *)val, len);\n\t\tmutex_unlock(&info->vgpu_lock);\n\t}\n',
      },
      // The assertion came with the fix.
      {
        file: 'drivers/gpu/drm/i915/gvt/kvmgt.c',
        find: '\tlockdep_assert_held(&info->vgpu_lock);\n\n',
        replace: '',
      },
    ],
    status: 'missed',
    reason:
      "unlocked-access does not report it, even at low. The hash-table accessors are seen (the lookup helper reading info->ptable through hash_for_each_possible() is a read of the field, reached through kvmgt_gfn_is_write_protected()); what falls short is the lock: the field's only write in view, hash_add() in kvmgt_protect_table_add(), runs under vgpu_lock taken more than four caller levels up (intel_gvt_page_track_add() <- intel_vgpu_enable_page_track() <- the shadow page-table population in gtt.c <- the MMIO and workload emulation that takes vgpu_lock), beyond the rule's four-level caller walk, so no candidate lock is found for the field at all; of the lookup's callers only kvmgt_page_track_remove_region() holds vgpu_lock in view (one locked site, not three), and hash_del() on an entry found in the table is a removal from it that the model does not count as a write of info->ptable.",
  },
  {
    id: 'vfio-ap-probe-queue-sysfs-leak',
    origin: {
      subject: 's390/vfio-ap: fix an error handling path in vfio_ap_mdev_probe_queue()',
      commit: '08866d34c7099e981918d34aab5d6a437436628f',
      messageId: 'd0c0a35eec4fa87cb7f3910d8ac4dc0f7dc9008a.1659283738.git.christophe.jaillet@wanadoo.fr',
      date: '2022-07-31',
      fixes: '260f3ea14138',
      reported: 'code reading (Christophe JAILLET)',
    },
    file: 'drivers/s390/crypto/vfio_ap_ops.c',
    functions: ['vfio_ap_mdev_probe_queue'],
    class: 'missing-undo',
    rule: 'missing-undo',
    what:
      'Probing an AP queue creates its sysfs attribute group and then allocates the queue object. A reorder ' +
      'of those two steps dropped the kfree() that was no longer needed but did not add the removal of the ' +
      'sysfs group, so an allocation failure returned with the group still registered.',
    edits: [
      {
        file: 'drivers/s390/crypto/vfio_ap_ops.c',
        find: '\t\tret = -ENOMEM;\n\t\tgoto err_remove_group;\n',
        replace: '\t\tret = -ENOMEM;\n\t\tgoto err_release_locks;\n',
      },
    ],
    status: 'caught',
  },
  {
    id: 'vfio-group-set-kvm-under-group-lock',
    origin: {
      subject: 'vfio: fix deadlock between group lock and kvm lock',
      commit: '2b48f52f2bff',
      date: '2023-02-01',
      fixes: '51cdc8bc120e',
      reported: 'lockdep (Anthony Krowiak, vfio-ap)',
    },
    file: 'drivers/vfio/group.c',
    functions: ['vfio_group_set_kvm', 'vfio_df_group_open'],
    class: 'lock-order',
    rule: 'lock-order',
    what:
      "Setting a group's KVM pointer took the group's group_lock, and KVM calls it with kvm->lock held when " +
      'the kvm-vfio device goes away (kvm->lock -> group_lock); opening a device holds group_lock while the ' +
      "driver's open_device runs, and vfio-ap's open_device takes kvm->lock (group_lock -> kvm->lock): ABBA. " +
      'The fix protects the pointer with its own spinlock and takes a kvm reference instead.',
    edits: [
      {
        file: 'drivers/vfio/group.c',
        find: '\tspin_lock(&group->kvm_ref_lock);\n\tgroup->kvm = kvm;\n\tspin_unlock(&group->kvm_ref_lock);\n',
        replace: '\tmutex_lock(&group->group_lock);\n\tgroup->kvm = kvm;\n\tmutex_unlock(&group->group_lock);\n',
      },
    ],
    status: 'missed',
    reason:
      'lock-order needs both edges and sees neither. group_lock -> kvm->lock goes through an ops callback and an ' +
      'acquire wrapper: vfio_df_group_open() holds group_lock, vfio_df_open() -> vfio_df_device_first_open() calls ' +
      "device->ops->open_device, vfio-ap's vfio_ap_mdev_open_device() -> vfio_ap_mdev_set_kvm() -> " +
      'get_update_locks_for_kvm(), which takes guests_lock, then kvm->lock (only when kvm is not NULL), then ' +
      'mdevs_lock and returns with them held. kvm->lock -> group_lock comes from KVM: the kvm-vfio device calls ' +
      'vfio_file_set_kvm() with kvm->lock held (virt/kvm/vfio.c, outside the checked files and not a knowledge default).',
  },
  {
    id: 'iommufd-replace-unreserve-wrong-hwpt',
    origin: {
      subject: 'iommufd/device: Fix hwpt at err_unresv in iommufd_device_do_replace()',
      commit: '950aeefb34923fe3c28ade35fe05f24e2c5b1d55',
      messageId: '20240718050130.1956804-1-nicolinc@nvidia.com',
      date: '2024-07-18',
      fixes: '89db31635c87',
      reported: 'code reading (Nicolin Chen)',
    },
    file: 'drivers/iommu/iommufd/device.c',
    functions: ['iommufd_device_do_replace'],
    class: 'missing-undo',
    rule: 'missing-undo',
    what:
      "Replacing a device's hw_pagetable first adds the group's reserved IOVAs to the new paging hwpt's IOAS, " +
      'then replaces the domain. When the replace failed, the unwind removed the reserved IOVAs from the old ' +
      'hwpt instead of the new one: the new reservation leaked and the old IOAS, still in use, lost its ' +
      'reservations.',
    edits: [
      {
        file: 'drivers/iommu/iommufd/device.c',
        find: '\t\tiommufd_group_remove_reserved_iova(igroup, hwpt_paging);\nerr_unlock:',
        replace: '\t\tiommufd_group_remove_reserved_iova(igroup, find_hwpt_paging(old_hwpt));\nerr_unlock:',
      },
    ],
    status: 'caught',
  },
  {
    id: 'vfio-pci-pm-save-overwrite-leak',
    origin: {
      subject: 'vfio/pci: fix memory leak during D3hot to D0 transition',
      commit: 'eadf88ecf6ac7d6a9f47a76c6055d9a1987a8991',
      messageId: '20220217122107.22434-2-abhsahu@nvidia.com',
      date: '2022-02-17',
      fixes: '51ef3a004b1e',
      reported: 'code reading (Abhishek Sahu)',
    },
    file: 'drivers/vfio/pci/vfio_pci_core.c',
    functions: ['vfio_pci_set_power_state'],
    class: 'missing-undo',
    rule: 'missing-undo',
    what:
      'Entering D3hot saves the PCI state into vdev->pm_save (an allocation) and leaving it restores and frees ' +
      'it; a reset ioctl can bring the device back to D0 behind the driver, so the next D3hot transition ' +
      'overwrote pm_save without freeing the earlier copy. A user looping D3hot and reset could exhaust memory.',
    edits: [
      {
        file: 'drivers/vfio/pci/vfio_pci_core.c',
        find: '\t\t\tkfree(vdev->pm_save);\n\t\t\tvdev->pm_save = ',
        replace: '\t\t\tvdev->pm_save = ',
      },
    ],
    status: 'caught',
  },
  {
    id: 'vfio-pci-aer-trigger-under-igate',
    origin: {
      subject: 'vfio/pci: Use RCU for error/request triggers to avoid circular locking',
      commit: '98693e0897f754e3f51ce6626ed5f785f625ba2b',
      messageId: '20251124223623.2770706-1-alex@shazbot.org',
      date: '2025-11-24',
      fixes: '3be3a074cf5b',
      reported: 'lockdep (a device raising an ACS violation during a bus reset)',
    },
    file: 'drivers/vfio/pci/vfio_pci_core.c',
    functions: ['vfio_pci_core_aer_err_detected', 'vfio_pci_core_request'],
    class: 'lock-order',
    rule: 'lock-order',
    what:
      "The AER error_detected callback took the device's igate to signal the error eventfd. Three paths " +
      'formed a cycle: SET_IRQS for MSI/MSI-X holds igate and takes memory_lock; a hot reset holds memory_lock ' +
      'and takes the PCI bus semaphore inside pci_reset_bus(); the AER core holds that semaphore while it ' +
      'calls error_detected, which waits for igate. The fix reads the error and request eventfds under RCU ' +
      'instead of igate.',
    edits: [
      {
        file: 'drivers/vfio/pci/vfio_pci_core.c',
        find: '\trcu_read_lock();\n\teventfd = rcu_dereference(vdev->err_trigger);\n',
        replace: '\tmutex_lock(&vdev->igate);\n\teventfd = rcu_dereference(vdev->err_trigger);\n',
      },
      {
        file: 'drivers/vfio/pci/vfio_pci_core.c',
        find: '\t\teventfd_signal(eventfd->ctx);\n\trcu_read_unlock();\n\n\treturn PCI_ERS_RESULT_CAN_RECOVER;',
        replace:
          '\t\teventfd_signal(eventfd->ctx);\n\tmutex_unlock(&vdev->igate);\n\n\treturn PCI_ERS_RESULT_CAN_RECOVER;',
      },
      {
        file: 'drivers/vfio/pci/vfio_pci_core.c',
        find: '\trcu_read_lock();\n\teventfd = rcu_dereference(vdev->req_trigger);\n',
        replace: '\tmutex_lock(&vdev->igate);\n\teventfd = rcu_dereference(vdev->req_trigger);\n',
      },
      {
        file: 'drivers/vfio/pci/vfio_pci_core.c',
        find: '\t}\n\trcu_read_unlock();\n}\nEXPORT_SYMBOL_GPL(vfio_pci_core_request);',
        replace: '\t}\n\tmutex_unlock(&vdev->igate);\n}\nEXPORT_SYMBOL_GPL(vfio_pci_core_request);',
      },
    ],
    status: 'caught',
  },
  {
    id: 'vfio-pds-dirty-enable-region-leak',
    origin: {
      subject: 'vfio/pds: Fix memory leak in pds_vfio_dirty_enable()',
      messageId: '20251225143150.1117366-1-zilin@seu.edu.cn',
      date: '2025-12-25',
      fixes: '2e7c6feb4ef5',
      reported: 'code reading (Zilin Guan)',
    },
    file: 'drivers/vfio/pci/pds/dirty.c',
    functions: ['pds_vfio_dirty_enable'],
    class: 'missing-undo',
    rule: 'missing-undo',
    what:
      'Enabling dirty tracking allocates the region_info array, then takes the first node of the IOVA range ' +
      'tree; when the tree was empty it returned -EINVAL directly, leaking the array, while every later failure ' +
      'jumps to the label that frees it.',
    edits: [
      {
        file: 'drivers/vfio/pci/pds/dirty.c',
        find: '\tif (!node) {\n\t\terr = -EINVAL;\n\t\tgoto out_free_region_info;\n\t}\n',
        replace: '\tif (!node)\n\t\treturn -EINVAL;\n',
      },
    ],
    status: 'caught',
  },
  {
    id: 'iommufd-fault-destroy-pending-responses',
    origin: {
      subject: 'iommufd/fault: Destroy response and mutex in iommufd_fault_destroy()',
      commit: '3f4818ec139030f425476bf8a10b616bab53a7b5',
      messageId: 'bc8bb13e215af27e62ee51bdba3648dd4ed2dce3.1736923732.git.nicolinc@nvidia.com',
      date: '2025-01-15',
      fixes: '07838f7fd529',
      reported: 'code reading (Nicolin Chen)',
    },
    file: 'drivers/iommu/iommufd/fault.c',
    functions: ['iommufd_fault_destroy'],
    class: 'missing-undo',
    rule: 'missing-undo',
    what:
      'Destroying a fault object answered and freed the fault groups still on the deliver list but forgot the ' +
      'groups already read by userspace and parked in the response xarray waiting for an answer: they were ' +
      'never answered (the device kept waiting) nor freed, and the xarray and the mutex set up at allocation ' +
      'were not destroyed.',
    edits: [
      {
        file: 'drivers/iommu/iommufd/fault.c',
        find: '\t}\n\txa_for_each(&fault->response, index, group) {\n',
        through: '\tmutex_destroy(&fault->mutex);\n',
        replace: '\t}\n',
      },
    ],
    status: 'caught',
  },
  {
    id: 'vfio-ccw-probe-error-state',
    origin: {
      subject: 'vfio/ccw: Fix FSM state if mdev probe fails',
      commit: 'f6c876d67e956de8d69349b0ee43bc7277c09e5c',
      messageId: '20220707135737.720765-3-farman@linux.ibm.com',
      date: '2022-07-07',
      fixes: '3bf1311f351e',
      reported: 'code reading (Eric Farman)',
    },
    file: 'drivers/s390/cio/vfio_ccw_ops.c',
    functions: ['vfio_ccw_mdev_probe'],
    class: 'unrestored-state',
    rule: 'unrestored-state',
    what:
      "The mdev probe found the subchannel's private state machine in STANDBY and moved it to IDLE before " +
      'registering the vfio device; when the registration failed, the error path cleared the mdev pointer but ' +
      'left the state IDLE (it even set IDLE again) instead of putting STANDBY back.',
    status: 'gone-from-6.12',
    gone:
      'vfio-ccw was reworked (2022) so the private structure is allocated per mdev probe and freed on its ' +
      'error path; 6.12 has no shared state field set before the registration.',
    fixture:
      'A probe function that takes a per-parent object whose state field is STANDBY, sets it to IDLE, then ' +
      'calls a fallible register; on failure it clears the object pointer and assigns IDLE again before ' +
      'returning the error. The fix assigns STANDBY (the saved value) on that path. Expect unrestored-state ' +
      'on the pre-image, none on the post-image.',
  },
  {
    id: 'gvt-2mb-check-page-ref-leak',
    origin: {
      subject: "drm/i915/gvt: Put the page reference obtained by KVM's gfn_to_pfn()",
      commit: '708e49583d7da863898b25dafe4bcd799c414278',
      messageId: '20230729013535.1070024-6-seanjc@google.com',
      date: '2023-07-29',
      fixes: 'b901b252b6cf',
      reported: 'review (Sean Christopherson)',
    },
    file: 'drivers/gpu/drm/i915/gvt/gtt.c',
    functions: ['is_2MB_gtt_possible'],
    class: 'missing-undo',
    rule: 'missing-undo',
    what:
      "The check whether a guest 2M GTT entry can be shadowed with a huge page looked the gfn up with KVM's " +
      'gfn_to_pfn(), which returns a referenced page, tested whether the page is a transparent huge page and ' +
      'returned without dropping the reference.',
    status: 'gone-from-6.12',
    gone:
      'A later patch of the same series stopped using gfn_to_pfn() there (the check now asks the pinned ' +
      'pages), so 6.12 has no such lookup.',
    fixture:
      'A helper that obtains a referenced pfn from a lookup API (returns a page reference the caller must ' +
      'release with a paired release call), returns early with an error when the pfn is invalid, and ' +
      'otherwise returns a property of the page without the release. The fix stores the result, releases ' +
      'the pfn, then returns. Expect missing-undo on the pre-image (the acquire/release pair from knowledge), ' +
      'none on the post-image.',
  },
  {
    id: 'vfio-kvm-put-under-group-lock',
    origin: {
      subject: 'vfio: fix potential deadlock on vfio group_lock',
      messageId: '20230112203844.41179-1-mjrosato@linux.ibm.com',
      date: '2023-01-12',
      fixes: '421cfe6596f6',
      reported: 'Alex Williamson (review)',
    },
    file: 'drivers/vfio/vfio_main.c',
    functions: ['vfio_device_group_close', 'vfio_device_last_close'],
    class: 'lock-order',
    rule: 'lock-order',
    what:
      "Closing a device ran the driver's close_device with the group lock held, and a driver could drop the " +
      'last reference to the KVM there; destroying the VM tears down the kvm-vfio device, which calls ' +
      'vfio_file_set_kvm() and takes the same group lock: a self-deadlock through KVM.',
    status: 'gone-from-6.12',
    gone:
      'vfio core now holds the KVM reference itself from first open to last close, and the group KVM pointer ' +
      'has its own spinlock (2b48f52f2bff), so neither the driver-side put nor the group-lock-taking setter ' +
      'exists in 6.12 (the setter put back alone is the bug vfio-group-set-kvm-under-group-lock).',
    fixture:
      'A close path that holds a group mutex and calls a put function whose release callback (reached through ' +
      'an ops pointer, as KVM device destruction is) calls a setter that takes the same group mutex. The fix ' +
      'moves the put after the unlock. Expect lock-order (a self-cycle through the callback) on the pre-image, ' +
      'none on the post-image.',
  },
];

/** A put-back edit that did not apply: its anchor is missing or ambiguous in this tree. */
export class AnchorError extends Error {}

function countOccurrences(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) n++;
  return n;
}

/** Applies edits to one file's text; each anchor must occur exactly once (in the text as edited so far). */
export function applyEdits(file: string, text: string, edits: readonly PutBackEdit[]): string {
  let out = text;
  for (const e of edits) {
    if (e.file !== file) continue;
    const n = countOccurrences(out, e.find);
    if (n !== 1)
      throw new AnchorError(`${file}: anchor ${JSON.stringify(e.find)} occurs ${n} times (must be exactly once)`);
    const at = out.indexOf(e.find);
    let end = at + e.find.length;
    if (e.through !== undefined) {
      const to = out.indexOf(e.through, end);
      if (to < 0)
        throw new AnchorError(
          `${file}: end anchor ${JSON.stringify(e.through)} not found after ${JSON.stringify(e.find)}`,
        );
      end = to + e.through.length;
    }
    out = out.slice(0, at) + e.replace + out.slice(end);
  }
  return out;
}

/** One file of one bug: the pre-fix text (6.12 with the bug put back) and the post-fix text (6.12 as released). */
export interface BugFileImage {
  /** Relative to the kernel tree. */
  path: string;
  pre: string;
  post: string;
}

/**
 * Per bug still present in 6.12: each edited file's pre-fix and post-fix
 * text, read from `kernel` (an unpacked 6.12 tree). A fix diff is
 * `git diff` from pre to post; issue 11's pre-image tests build it so.
 */
export function bugImages(kernel: string, bug: PresentBug): BugFileImage[] {
  const files = [...new Set(bug.edits.map((e) => e.file))];
  return files.map((rel) => {
    const post = readFileSync(path.join(kernel, rel), 'utf8');
    return { path: rel, pre: applyEdits(rel, post, bug.edits), post };
  });
}

export function presentBugs(): PresentBug[] {
  return REAL_BUGS.filter((b): b is PresentBug => b.status !== 'gone-from-6.12');
}

export function goneBugs(): GoneBug[] {
  return REAL_BUGS.filter((b): b is GoneBug => b.status === 'gone-from-6.12');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/**
 * README's tables, generated from the data (the test requires README to
 * contain exactly this text, so a status flip is one regeneration:
 * `node -e "console.log(require('./out/test/corpus/real-bugs').realBugsTable())"`).
 */
export function realBugsTable(): string {
  const present = presentBugs();
  const groups = new Map<string, PresentBug[]>();
  for (const b of present) {
    const k = `${b.class}\u0000${b.rule}`;
    groups.set(k, [...(groups.get(k) ?? []), b]);
  }
  const summary = ['| class | rule | bugs | caught | missed |', '|---|---|---|---|---|'];
  for (const [k, bugs] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const [cls, rule] = k.split('\u0000');
    const caught = bugs.filter((b) => b.status === 'caught').length;
    summary.push(`| ${cls} | \`${rule}\` | ${bugs.length} | ${caught} | ${bugs.length - caught} |`);
  }
  const caughtAll = present.filter((b) => b.status === 'caught').length;
  summary.push(`| all | | ${present.length} | ${caughtAll} | ${present.length - caughtAll} |`);

  const rows = [
    '| bug | fix | where | class | rule | status | what the model lacks (for a miss) |',
    '|---|---|---|---|---|---|---|',
  ];
  const sorted = [...present].sort((a, b) => a.class.localeCompare(b.class) || a.id.localeCompare(b.id));
  for (const b of sorted) {
    const fix = `${b.origin.subject} (${b.origin.commit ? b.origin.commit.slice(0, 12) + ', ' : ''}${b.origin.date})`;
    const where = `\`${b.file}\` \`${b.functions[0]}()\``;
    rows.push(
      `| \`${b.id}\` | ${cell(fix)} | ${where} | ${b.class} | \`${b.rule}\` | ${b.status} | ${cell(b.status === 'missed' ? (b.reason ?? '') : '')} |`,
    );
  }
  const gone = goneBugs();
  const goneRows = gone.length
    ? [
        '',
        'Bugs whose code is gone from 6.12 (kept as facts and fixture descriptions for fix-patch cases):',
        '',
        '| bug | fix | class | rule | status | why no put-back |',
        '|---|---|---|---|---|---|',
        ...gone.map(
          (b) =>
            `| \`${b.id}\` | ${cell(`${b.origin.subject} (${b.origin.date})`)} | ${b.class} | \`${b.rule}\` | ${b.status} | ${cell(b.gone)} |`,
        ),
      ]
    : [];
  return [...summary, '', ...rows, ...goneRows].join('\n');
}
