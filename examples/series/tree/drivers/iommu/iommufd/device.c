// SPDX-License-Identifier: MIT
/* Fixture tree for iommufd-review's patch tests: written for the tests, not kernel code. */
#include "iommufd_private.h"

struct iommufd_access *iommufd_access_create(struct iommufd_ctx *ictx,
					     const struct iommufd_access_ops *ops,
					     void *data)
{
	struct iommufd_access *access;

	access = kzalloc(sizeof(*access), GFP_KERNEL);
	if (!access)
		return ERR_PTR(-ENOMEM);
	access->ictx = ictx;
	access->ops = ops;
	access->data = data;
	mutex_init(&access->ioas_lock);
	return access;
}

int iommufd_access_attach(struct iommufd_access *access, u32 ioas_id)
{
	struct iommufd_ioas *new_ioas;
	int rc;

	mutex_lock(&access->ioas_lock);
	if (access->ioas) {
		mutex_unlock(&access->ioas_lock);
		return -EINVAL;
	}
	new_ioas = iommufd_get_ioas(access->ictx, ioas_id);
	if (IS_ERR(new_ioas)) {
		mutex_unlock(&access->ioas_lock);
		return PTR_ERR(new_ioas);
	}
	rc = iopt_add_access(&new_ioas->iopt, access);
	if (rc) {
		iommufd_put_object(access->ictx, &new_ioas->obj);
		mutex_unlock(&access->ioas_lock);
		return rc;
	}
	refcount_inc(&new_ioas->obj.users);
	iommufd_put_object(access->ictx, &new_ioas->obj);
	access->ioas = new_ioas;
	access->ioas_unpin = new_ioas;
	mutex_unlock(&access->ioas_lock);
	return 0;
}

void iommufd_access_detach(struct iommufd_access *access)
{
	struct iommufd_ioas *cur_ioas;

	mutex_lock(&access->ioas_lock);
	cur_ioas = access->ioas;
	if (!cur_ioas)
		goto out;
	access->ioas = NULL;
	/* The driver's unmap callback unpins through iommufd: not under ioas_lock. */
	mutex_unlock(&access->ioas_lock);
	if (access->ops->unmap)
		access->ops->unmap(access->data, 0, ULONG_MAX);
	mutex_lock(&access->ioas_lock);
	iopt_remove_access(&cur_ioas->iopt, access, access->iopt_access_list_id);
	access->ioas_unpin = NULL;
	refcount_dec(&cur_ioas->obj.users);
out:
	mutex_unlock(&access->ioas_lock);
}

int iommufd_access_pin_pages(struct iommufd_access *access, unsigned long iova,
			     unsigned long length, struct page **out_pages)
{
	struct iommufd_ioas *ioas;
	int rc = 0;

	mutex_lock(&access->ioas_lock);
	ioas = access->ioas;
	if (!ioas) {
		mutex_unlock(&access->ioas_lock);
		return -ENOENT;
	}
	down_read(&ioas->iopt.iova_rwsem);
	if (!length)
		rc = -EINVAL;
	up_read(&ioas->iopt.iova_rwsem);
	mutex_unlock(&access->ioas_lock);
	return rc;
}
