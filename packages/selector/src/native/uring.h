/* A minimal io_uring ring on raw system calls (io_uring_setup/enter/register and mmap of the
 * rings), with the kernel's own UAPI header <linux/io_uring.h>: no liburing, so the prebuilt
 * binary loads on any Linux. Used by the io_uring selector (backend.c) and the completion-based
 * server loop (loop_uring.c). */
#ifndef ECHO_URING_H
#define ECHO_URING_H
#include <stddef.h>
#include <stdint.h>
#include <linux/io_uring.h>

typedef struct uring {
  int fd;
  unsigned flags, features;
  unsigned *sq_head, *sq_tail, *sq_mask, *sq_flags;
  unsigned *cq_head, *cq_tail, *cq_mask;
  struct io_uring_sqe *sqes;
  struct io_uring_cqe *cqes;
  unsigned sq_entries, cq_entries;
  unsigned sq_local;   /* SQEs prepared: published to *sq_tail at submit */
  unsigned cq_local;   /* CQEs consumed: published to *cq_head at ur_cq_commit */
  void *sq_map, *cq_map;
  size_t sq_map_len, cq_map_len, sqes_len;
} uring_t;

/* Sets up a ring (flags: IORING_SETUP_*); 0 or -errno. */
int ur_init(uring_t *u, unsigned entries, unsigned cq_entries, unsigned flags);
void ur_close(uring_t *u);
/* A zeroed SQE to fill, or NULL when the queue is full even after submitting what it holds. */
struct io_uring_sqe *ur_sqe(uring_t *u);
/* Submits every prepared SQE and waits for at least wait_nr completions, at most timeout_ms
 * (-1 forever); completions of deferred work are run in the same call. 0 or -errno (a timeout,
 * EINTR and a busy completion queue are 0). */
int ur_enter(uring_t *u, unsigned wait_nr, int timeout_ms);
/* The next unconsumed completion, or NULL. */
struct io_uring_cqe *ur_cqe(uring_t *u);
/* Marks the completion ur_cqe returned as consumed. */
static inline void ur_cqe_seen(uring_t *u) { u->cq_local++; }
/* Hands consumed completions back to the kernel. */
void ur_cq_commit(uring_t *u);

/* A provided-buffer ring (IORING_REGISTER_PBUF_RING): `count` buffers of `size` bytes in memory
 * of its own, that multishot recv picks from. */
typedef struct {
  struct io_uring_buf_ring *br;
  uint8_t *base;
  size_t size, map_len;
  unsigned count, mask;
  uint16_t tail, group;
} ur_bufs_t;

int ur_bufs_init(uring_t *u, ur_bufs_t *b, unsigned count, size_t size, uint16_t group);
/* Gives buffer `bid` back to the kernel (visible after ur_bufs_publish). */
void ur_bufs_give(ur_bufs_t *b, uint16_t bid);
void ur_bufs_publish(ur_bufs_t *b);
void ur_bufs_free(uring_t *u, ur_bufs_t *b);

/* Whether this kernel and process may use the io_uring server loop: NULL when they may, else
 * why not (a static string: ENOSYS, EPERM under seccomp, io_uring_disabled, too old). */
const char *ur_unavailable(void);
#endif
