/* SPDX-License-Identifier: MIT */
/* Fixture tree for iommufd-review's patch tests: written for the tests, not kernel code. */
#ifndef FIXTURE_LINUX_IOMMUFD_H
#define FIXTURE_LINUX_IOMMUFD_H

struct iommufd_ctx;
struct iommufd_access;

struct iommufd_access_ops {
	void (*unmap)(void *data, unsigned long iova, unsigned long length);
};

struct iommufd_access *iommufd_access_create(struct iommufd_ctx *ictx,
					     const struct iommufd_access_ops *ops,
					     void *data);
int iommufd_access_attach(struct iommufd_access *access, u32 ioas_id);
void iommufd_access_detach(struct iommufd_access *access);

#endif
