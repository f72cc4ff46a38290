// SPDX-License-Identifier: MIT
/* Fixture tree for iommufd-review's patch tests: written for the tests, not kernel code. */
#include "iommufd_private.h"

/* Gives the access a slot in the table's access list. */
int iopt_add_access(struct io_pagetable *iopt, struct iommufd_access *access)
{
	u32 slot;
	int rc;

	down_write(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	rc = xa_alloc(&iopt->access_list, &slot, access, xa_limit_16b, GFP_KERNEL_ACCOUNT);
	if (rc)
		goto out_unlock;
	access->iopt_access_list_id = slot;
out_unlock:
	up_write(&iopt->iova_rwsem);
	up_write(&iopt->domains_rwsem);
	return rc;
}

void iopt_remove_access(struct io_pagetable *iopt, struct iommufd_access *access, u32 list_id)
{
	down_write(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	WARN_ON(xa_erase(&iopt->access_list, list_id) != access);
	up_write(&iopt->iova_rwsem);
	up_write(&iopt->domains_rwsem);
}
