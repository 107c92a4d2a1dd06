#include "CLinuxBlock.h"
#include <errno.h>
#include <string.h>
#ifdef __linux__
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <linux/blkpg.h>

int clb_device_size(int fd, uint64_t *bytes) {
    return ioctl(fd, BLKGETSIZE64, bytes) == 0 ? 0 : -errno;
}

int clb_logical_sector_size(int fd, int *bytes) {
    return ioctl(fd, BLKSSZGET, bytes) == 0 ? 0 : -errno;
}

static int clb_blkpg(int fd, int op, int number, int64_t start, int64_t length) {
    struct blkpg_partition part;
    struct blkpg_ioctl_arg arg;
    memset(&part, 0, sizeof part);
    memset(&arg, 0, sizeof arg);
    part.pno = number;
    part.start = start;
    part.length = length;
    arg.op = op;
    arg.datalen = sizeof part;
    arg.data = &part;
    return ioctl(fd, BLKPG, &arg) == 0 ? 0 : -errno;
}

int clb_add_partition(int fd, int number, int64_t start_bytes, int64_t length_bytes) {
    return clb_blkpg(fd, BLKPG_ADD_PARTITION, number, start_bytes, length_bytes);
}

int clb_delete_partition(int fd, int number) {
    return clb_blkpg(fd, BLKPG_DEL_PARTITION, number, 0, 0);
}

int clb_flush_buffers(int fd) {
    return ioctl(fd, BLKFLSBUF, 0) == 0 ? 0 : -errno;
}
#else
int clb_device_size(int fd, uint64_t *bytes) { (void)fd; (void)bytes; return -ENOTSUP; }
int clb_logical_sector_size(int fd, int *bytes) { (void)fd; (void)bytes; return -ENOTSUP; }
int clb_add_partition(int fd, int n, int64_t s, int64_t l) { (void)fd; (void)n; (void)s; (void)l; return -ENOTSUP; }
int clb_delete_partition(int fd, int n) { (void)fd; (void)n; return -ENOTSUP; }
int clb_flush_buffers(int fd) { (void)fd; return -ENOTSUP; }
#endif
