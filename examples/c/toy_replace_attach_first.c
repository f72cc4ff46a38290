// SPDX-License-Identifier: MIT
/*
 * Toy example for iommufd-review: an access moves to another IOAS by
 * attaching to the new one first, so a failure changes nothing. Made up for
 * the tool's examples.
 */
#include <linux/iommufd.h>

static int toy_change_attach_first(struct iommufd_access *access,
				   struct iommufd_ioas *new_ioas)
{
	u32 saved_id = access->iopt_access_list_id;
	struct iommufd_ioas *cur = access->ioas;
	int rc;

	lockdep_assert_held(&access->ioas_lock);

	if (cur != access->ioas_unpin)
		return -EBUSY;
	if (cur == new_ioas)
		return 0;

	/* New pins fail with -ENOENT until the switch below is done. */
	access->ioas = NULL;

	rc = iopt_add_access(&new_ioas->iopt, access);
	if (rc) {
		access->ioas = cur;
		return rc;
	}
	refcount_inc(&new_ioas->obj.users);

	if (cur) {
		/* The driver calls back into iommufd: never hold ioas_lock here. */
		mutex_unlock(&access->ioas_lock);
		access->ops->unmap(access->data, 0, ULONG_MAX);
		mutex_lock(&access->ioas_lock);
		iopt_remove_access(&cur->iopt, access, saved_id);
		refcount_dec(&cur->obj.users);
	}

	access->ioas = new_ioas;
	access->ioas_unpin = new_ioas;
	return 0;
}

int toy_access_move(struct iommufd_access *access, struct iommufd_ioas *ioas)
{
	int rc;

	mutex_lock(&access->ioas_lock);
	if (!access->ioas) {
		mutex_unlock(&access->ioas_lock);
		return -ENOENT;
	}
	rc = toy_change_attach_first(access, ioas);
	mutex_unlock(&access->ioas_lock);
	return rc;
}
