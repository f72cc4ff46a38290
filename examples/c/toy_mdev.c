// SPDX-License-Identifier: MIT
/*
 * Toy emulated device for iommufd-review's examples: it pins guest pages
 * through vfio and unpins them from its iommufd_access_ops.unmap callback.
 * Made up; not a real driver.
 */
#include <linux/vfio.h>
#include <linux/iommufd.h>

struct toy_mdev {
	struct vfio_device vdev;
	struct mutex pin_lock;
	dma_addr_t ring_iova;
	struct page *ring_page;
	bool ring_pinned;
};

static void toy_mdev_dma_unmap(void *data, unsigned long iova,
			       unsigned long length)
{
	struct toy_mdev *tm = data;

	mutex_lock(&tm->pin_lock);
	if (tm->ring_pinned && tm->ring_iova >= iova &&
	    tm->ring_iova < iova + length) {
		vfio_unpin_pages(&tm->vdev, tm->ring_iova, 1);
		tm->ring_pinned = false;
	}
	mutex_unlock(&tm->pin_lock);
}

static const struct iommufd_access_ops toy_mdev_access_ops = {
	.needs_pin_pages = 1,
	.unmap = toy_mdev_dma_unmap,
};

int toy_mdev_pin_ring(struct toy_mdev *tm, dma_addr_t iova)
{
	int ret;

	mutex_lock(&tm->pin_lock);
	if (tm->ring_pinned)
		return -EBUSY;

	ret = vfio_pin_pages(&tm->vdev, iova, 1, IOMMU_READ | IOMMU_WRITE,
			     &tm->ring_page);
	if (ret != 1) {
		mutex_unlock(&tm->pin_lock);
		return ret < 0 ? ret : -EFAULT;
	}
	tm->ring_iova = iova;
	tm->ring_pinned = true;
	mutex_unlock(&tm->pin_lock);
	return 0;
}

/* Tell the access that a range went away, the wrong way: with ioas_lock held. */
void toy_notify_range_gone(struct iommufd_access *access, unsigned long iova,
			   unsigned long length)
{
	mutex_lock(&access->ioas_lock);
	if (access->ioas)
		access->ops->unmap(access->data, iova, length);
	mutex_unlock(&access->ioas_lock);
}
