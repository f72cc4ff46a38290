/* SPDX-License-Identifier: MIT */
/* Fixture tree for iommufd-review's patch tests: written for the tests, not kernel code. */
#ifndef FIXTURE_IOMMUFD_PRIVATE_H
#define FIXTURE_IOMMUFD_PRIVATE_H

#include <linux/iommufd.h>

struct iommufd_object {
	refcount_t users;
	u32 id;
};

/*
 * The locking order is domains_rwsem -> iova_rwsem -> pages mutex.
 */
struct io_pagetable {
	struct rw_semaphore domains_rwsem;
	struct rw_semaphore iova_rwsem;
	struct xarray access_list;
	unsigned int next_access_id;
};

struct iommufd_ioas {
	struct iommufd_object obj;
	struct io_pagetable iopt;
	struct mutex mutex;
};

struct iommufd_access {
	struct iommufd_ctx *ictx;
	struct iommufd_ioas *ioas;
	struct iommufd_ioas *ioas_unpin;
	struct mutex ioas_lock;
	const struct iommufd_access_ops *ops;
	void *data;
	u32 iopt_access_list_id;
};

struct iommufd_ioas *iommufd_get_ioas(struct iommufd_ctx *ictx, u32 id);
void iommufd_put_object(struct iommufd_ctx *ictx, struct iommufd_object *obj);
int iopt_add_access(struct io_pagetable *iopt, struct iommufd_access *access);
void iopt_remove_access(struct io_pagetable *iopt, struct iommufd_access *access, u32 list_id);

#endif
