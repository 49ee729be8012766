#define _GNU_SOURCE
#include "uring.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* The three system calls, by number: glibc has no wrappers for them. */
static int sys_setup(unsigned entries, struct io_uring_params *p) { return (int)syscall(__NR_io_uring_setup, entries, p); }
static int sys_enter(int fd, unsigned submit, unsigned wait, unsigned flags, const void *arg, size_t argsz) {
  return (int)syscall(__NR_io_uring_enter, fd, submit, wait, flags, arg, argsz);
}
static int sys_register(int fd, unsigned op, void *arg, unsigned n) { return (int)syscall(__NR_io_uring_register, fd, op, arg, n); }

int ur_init(uring_t *u, unsigned entries, unsigned cq_entries, unsigned flags) {
  memset(u, 0, sizeof *u);
  u->fd = -1;
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  p.flags = flags;
  if (cq_entries) {
    p.flags |= IORING_SETUP_CQSIZE;
    p.cq_entries = cq_entries;
  }
  int fd = sys_setup(entries, &p);
  if (fd < 0) return -errno;
  /* One mmap for both rings needs IORING_FEAT_SINGLE_MMAP (5.4); every kernel we accept has it,
   * but map them apart when it is missing, as the UAPI allows. */
  u->sq_map_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  u->cq_map_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  int single = (p.features & IORING_FEAT_SINGLE_MMAP) != 0;
  if (single && u->cq_map_len > u->sq_map_len) u->sq_map_len = u->cq_map_len;
  u->sq_map = mmap(NULL, u->sq_map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
  if (u->sq_map == MAP_FAILED) goto fail;
  if (single) {
    u->cq_map = u->sq_map;
  } else {
    u->cq_map = mmap(NULL, u->cq_map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
    if (u->cq_map == MAP_FAILED) goto fail;
  }
  u->sqes_len = p.sq_entries * sizeof(struct io_uring_sqe);
  u->sqes = mmap(NULL, u->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
  if (u->sqes == MAP_FAILED) goto fail;
  uint8_t *sq = u->sq_map, *cq = u->cq_map;
  u->sq_head = (unsigned *)(sq + p.sq_off.head);
  u->sq_tail = (unsigned *)(sq + p.sq_off.tail);
  u->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
  u->sq_flags = (unsigned *)(sq + p.sq_off.flags);
  u->cq_head = (unsigned *)(cq + p.cq_off.head);
  u->cq_tail = (unsigned *)(cq + p.cq_off.tail);
  u->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
  u->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
  /* The indirection array: slot i always names SQE i, so the ring is used in order. */
  unsigned *array = (unsigned *)(sq + p.sq_off.array);
  for (unsigned i = 0; i < p.sq_entries; i++) array[i] = i;
  u->sq_entries = p.sq_entries;
  u->cq_entries = p.cq_entries;
  u->flags = p.flags;
  u->features = p.features;
  u->fd = fd;
  u->sq_local = *u->sq_tail;
  u->cq_local = *u->cq_head;
  return 0;
fail: {
  int err = errno;
  if (u->sq_map && u->sq_map != MAP_FAILED) munmap(u->sq_map, u->sq_map_len);
  if (u->cq_map && u->cq_map != MAP_FAILED && u->cq_map != u->sq_map) munmap(u->cq_map, u->cq_map_len);
  close(fd);
  memset(u, 0, sizeof *u);
  u->fd = -1;
  return -err;
}
}

void ur_close(uring_t *u) {
  if (u->fd < 0) return;
  munmap(u->sqes, u->sqes_len);
  if (u->cq_map != u->sq_map) munmap(u->cq_map, u->cq_map_len);
  munmap(u->sq_map, u->sq_map_len);
  close(u->fd);
  u->fd = -1;
}

static unsigned sq_pending(uring_t *u) { return u->sq_local - __atomic_load_n(u->sq_head, __ATOMIC_ACQUIRE); }

struct io_uring_sqe *ur_sqe(uring_t *u) {
  if (sq_pending(u) >= u->sq_entries) {
    ur_enter(u, 0, 0);
    if (sq_pending(u) >= u->sq_entries) return NULL;
  }
  struct io_uring_sqe *s = &u->sqes[u->sq_local & *u->sq_mask];
  memset(s, 0, sizeof *s);
  u->sq_local++;
  return s;
}

int ur_enter(uring_t *u, unsigned wait_nr, int timeout_ms) {
  ur_cq_commit(u);
  unsigned submit = u->sq_local - *u->sq_tail;
  __atomic_store_n(u->sq_tail, u->sq_local, __ATOMIC_RELEASE);
  /* GETEVENTS always: with IORING_SETUP_DEFER_TASKRUN completions are only made here. */
  unsigned flags = IORING_ENTER_GETEVENTS;
  struct __kernel_timespec ts;
  struct io_uring_getevents_arg arg;
  memset(&arg, 0, sizeof arg);
  const void *argp = NULL;
  size_t argsz = 0;
  if (wait_nr > 0 && timeout_ms >= 0) {
    ts.tv_sec = timeout_ms / 1000;
    ts.tv_nsec = (long long)(timeout_ms % 1000) * 1000000;
    arg.ts = (uint64_t)(uintptr_t)&ts;
    flags |= IORING_ENTER_EXT_ARG;
    argp = &arg;
    argsz = sizeof arg;
  }
  for (;;) {
    int r = sys_enter(u->fd, submit, wait_nr, flags, argp, argsz);
    if (r >= 0) return 0;
    if (errno == ETIME || errno == EINTR || errno == EBUSY) return 0;
    if (errno == EAGAIN) continue;
    return -errno;
  }
}

struct io_uring_cqe *ur_cqe(uring_t *u) {
  unsigned tail = __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE);
  if (u->cq_local == tail) return NULL;
  return &u->cqes[u->cq_local & *u->cq_mask];
}

void ur_cq_commit(uring_t *u) {
  if (*u->cq_head != u->cq_local) __atomic_store_n(u->cq_head, u->cq_local, __ATOMIC_RELEASE);
}

int ur_bufs_init(uring_t *u, ur_bufs_t *b, unsigned count, size_t size, uint16_t group) {
  memset(b, 0, sizeof *b);
  b->count = count;
  b->mask = count - 1;
  b->size = size;
  b->group = group;
  size_t ring = count * sizeof(struct io_uring_buf);
  b->map_len = ring + count * size;
  void *m = mmap(NULL, b->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return -errno;
  b->br = m;
  b->base = (uint8_t *)m + ring;
  struct io_uring_buf_reg reg;
  memset(&reg, 0, sizeof reg);
  reg.ring_addr = (uint64_t)(uintptr_t)m;
  reg.ring_entries = count;
  reg.bgid = group;
  if (sys_register(u->fd, IORING_REGISTER_PBUF_RING, &reg, 1) < 0) {
    int err = errno;
    munmap(m, b->map_len);
    b->br = NULL;
    return -err;
  }
  for (unsigned i = 0; i < count; i++) ur_bufs_give(b, (uint16_t)i);
  ur_bufs_publish(b);
  return 0;
}

void ur_bufs_give(ur_bufs_t *b, uint16_t bid) {
  struct io_uring_buf *e = &b->br->bufs[b->tail & b->mask];
  e->addr = (uint64_t)(uintptr_t)(b->base + (size_t)bid * b->size);
  e->len = (uint32_t)b->size;
  e->bid = bid;
  b->tail++;
}

void ur_bufs_publish(ur_bufs_t *b) { __atomic_store_n(&b->br->tail, b->tail, __ATOMIC_RELEASE); }

void ur_bufs_free(uring_t *u, ur_bufs_t *b) {
  if (!b->br) return;
  if (u->fd >= 0) {
    struct io_uring_buf_reg reg;
    memset(&reg, 0, sizeof reg);
    reg.bgid = b->group;
    sys_register(u->fd, IORING_UNREGISTER_PBUF_RING, &reg, 1);
  }
  munmap(b->br, b->map_len);
  b->br = NULL;
}

/* The opcodes the server loop submits. */
static const uint8_t needed_ops[] = { IORING_OP_ACCEPT, IORING_OP_RECV, IORING_OP_SEND, IORING_OP_POLL_ADD, IORING_OP_ASYNC_CANCEL };

const char *ur_unavailable(void) {
  FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
  if (f) {
    int v = 0;
    int got = fscanf(f, "%d", &v);
    fclose(f);
    if (got == 1 && v == 2) return "io_uring is disabled on this machine (/proc/sys/kernel/io_uring_disabled is 2)";
  }
  uring_t u;
  int r = ur_init(&u, 8, 0, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
  if (r == -ENOSYS) return "the kernel has no io_uring (io_uring_setup: ENOSYS)";
  if (r == -EPERM) return "io_uring_setup was refused with EPERM (a seccomp filter, as Docker's default profile, or io_uring_disabled = 1 for this user)";
  if (r == -EINVAL) return "the kernel is too old for the io_uring loop (needs Linux 6.1: IORING_SETUP_DEFER_TASKRUN)";
  if (r == -ENOMEM) return "io_uring_setup failed with ENOMEM (locked-memory limit too low)";
  if (r < 0) return "io_uring_setup failed";
  const char *why = NULL;
  size_t len = sizeof(struct io_uring_probe) + 256 * sizeof(struct io_uring_probe_op);
  struct io_uring_probe *probe = calloc(1, len);
  if (!probe || sys_register(u.fd, IORING_REGISTER_PROBE, probe, 256) < 0) {
    why = "IORING_REGISTER_PROBE failed";
  } else {
    for (size_t i = 0; i < sizeof needed_ops && !why; i++) {
      uint8_t op = needed_ops[i];
      if (op > probe->last_op || !(probe->ops[op].flags & IO_URING_OP_SUPPORTED)) why = "the kernel lacks an io_uring operation the loop needs (accept, recv, send, poll, cancel)";
    }
  }
  free(probe);
  if (!why) {
    ur_bufs_t b;
    if (ur_bufs_init(&u, &b, 2, 64, 0) < 0) why = "the kernel has no provided buffer rings (IORING_REGISTER_PBUF_RING needs Linux 5.19)";
    else ur_bufs_free(&u, &b);
  }
  ur_close(&u);
  return why;
}
