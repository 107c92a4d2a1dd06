#ifndef CLINUXBLOCK_H
#define CLINUXBLOCK_H
#include <stdint.h>

/// Thin wrappers around block-device ioctls whose argument structs Swift cannot build
/// portably. Each returns 0 on success or -errno.
int clb_device_size(int fd, uint64_t *bytes);
int clb_logical_sector_size(int fd, int *bytes);
int clb_add_partition(int fd, int number, int64_t start_bytes, int64_t length_bytes);
int clb_delete_partition(int fd, int number);
int clb_flush_buffers(int fd);

#endif
