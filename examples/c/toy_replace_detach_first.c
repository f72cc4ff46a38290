// SPDX-License-Identifier: MIT
/*
 * Toy example for iommufd-review: an access moves to another IOAS by
 * detaching from the current one first. Made up for the tool's examples.
 */
#include <linux/iommufd.h>

static void toy_detach_locked(struct iommufd_access *access)
{
	struct iommufd_ioas *cur;

	lockdep_assert_held(&access->ioas_lock);
	cur = access->ioas;
	access->ioas = NULL;
	/* The driver must not be called back with ioas_lock held. */
	mutex_unlock(&access->ioas_lock);
	access->ops->unmap(access->data, 0, ULONG_MAX);
	mutex_lock(&access->ioas_lock);
	iopt_remove_access(&cur->iopt, access, access->iopt_access_list_id);
	access->ioas_unpin = NULL;
	refcount_dec(&cur->obj.users);
}

static int toy_replace_detach_first(struct iommufd_access *access,
				    struct iommufd_ioas *new_ioas)
{
	struct iommufd_ioas *cur = access->ioas;
	int rc;

	lockdep_assert_held(&access->ioas_lock);

	toy_detach_locked(access);

	rc = iopt_add_access(&new_ioas->iopt, access);
	if (rc) {
		/* Try to go back to where we were. */
		WARN_ON(toy_replace_detach_first(access, cur));
		return rc;
	}
	refcount_inc(&new_ioas->obj.users);
	access->ioas = new_ioas;
	access->ioas_unpin = new_ioas;
	return 0;
}

int toy_access_replace(struct iommufd_access *access, struct iommufd_ioas *ioas)
{
	int rc;

	mutex_lock(&access->ioas_lock);
	if (!access->ioas) {
		mutex_unlock(&access->ioas_lock);
		return -ENOENT;
	}
	rc = toy_replace_detach_first(access, ioas);
	mutex_unlock(&access->ioas_lock);
	return rc;
}
