/* The io_uring selector: readiness through IORING_OP_POLL_ADD. Each registered descriptor has
 * one one-shot poll; one that fired is armed again before the next wait, where the kernel checks
 * its state at once, so a descriptor left ready is reported again (level-triggered, like
 * Python's selectors). A poll's user_data carries a generation, so completions of a poll that
 * modify() or unregister() replaced are recognised and dropped. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "backend.h"
#include "uring.h"

#define REMOVE_TAG (1ULL << 63)

typedef struct { int events; uint32_t gen; uint8_t armed; } ufd_t;

struct ur_sel {
  uring_t u;
  ufd_t *fds;
  int cap;
  int *rearm;  /* descriptors whose poll fired: armed again before the next wait */
  int nrearm, rearmcap;
};

int bu_init(backend_t *b) {
  struct ur_sel *s = calloc(1, sizeof *s);
  if (!s) return -ENOMEM;
  int r = ur_init(&s->u, 256, 0, 0);
  if (r < 0) {
    free(s);
    return r;
  }
  b->ur = s;
  return 0;
}

static unsigned to_poll(int ev) { return (ev & SEL_READ ? POLLIN : 0) | (ev & SEL_WRITE ? POLLOUT : 0); }
static uint64_t tag(int fd, uint32_t gen) { return ((uint64_t)gen << 32) | (uint32_t)fd; }

static int arm(struct ur_sel *s, int fd) {
  ufd_t *f = &s->fds[fd];
  struct io_uring_sqe *q = ur_sqe(&s->u);
  if (!q) return -EBUSY;
  q->opcode = IORING_OP_POLL_ADD;
  q->fd = fd;
  q->poll32_events = to_poll(f->events);
  q->user_data = tag(fd, f->gen);
  f->armed = 1;
  return 0;
}

static int disarm(struct ur_sel *s, int fd) {
  ufd_t *f = &s->fds[fd];
  if (f->armed) {
    struct io_uring_sqe *q = ur_sqe(&s->u);
    if (!q) return -EBUSY;
    q->opcode = IORING_OP_POLL_REMOVE;
    q->addr = tag(fd, f->gen);
    q->user_data = REMOVE_TAG;
    f->armed = 0;
  }
  f->gen++;
  return 0;
}

int bu_add(backend_t *b, int fd, int events) {
  struct ur_sel *s = b->ur;
  /* epoll's contract: a closed descriptor is refused now (the poll would only fail later). */
  if (fcntl(fd, F_GETFD) < 0) return -errno;
  if (fd >= s->cap) {
    int cap = s->cap ? s->cap : 64;
    while (cap <= fd) cap *= 2;
    ufd_t *p = realloc(s->fds, sizeof *p * (size_t)cap);
    if (!p) return -ENOMEM;
    memset(p + s->cap, 0, sizeof *p * (size_t)(cap - s->cap));
    s->fds = p;
    s->cap = cap;
  }
  if (s->fds[fd].events) return -EEXIST;
  s->fds[fd].events = events;
  s->fds[fd].gen++;
  int r = arm(s, fd);
  if (r < 0) {
    s->fds[fd].events = 0;
    return r;
  }
  b->count++;
  return 0;
}

int bu_mod(backend_t *b, int fd, int events) {
  struct ur_sel *s = b->ur;
  if (fd >= s->cap || !s->fds[fd].events) return -ENOENT;
  int r = disarm(s, fd);
  if (r < 0) return r;
  s->fds[fd].events = events;
  return arm(s, fd);
}

int bu_del(backend_t *b, int fd) {
  struct ur_sel *s = b->ur;
  if (fd >= s->cap || !s->fds[fd].events) return -ENOENT;
  int r = disarm(s, fd);
  if (r < 0) return r;
  s->fds[fd].events = 0;
  b->count--;
  return 0;
}

int bu_wait(backend_t *b, int timeout_ms, sel_event_t *out, int max) {
  struct ur_sel *s = b->ur;
  for (int i = 0; i < s->nrearm; i++) {
    int fd = s->rearm[i];
    if (fd < s->cap && s->fds[fd].events && !s->fds[fd].armed && arm(s, fd) < 0) return -EBUSY;
  }
  s->nrearm = 0;
  int r = ur_enter(&s->u, timeout_ms == 0 ? 0 : 1, timeout_ms);
  if (r < 0) return r;
  int n = 0;
  struct io_uring_cqe *c;
  while (n < max && (c = ur_cqe(&s->u)) != NULL) {
    uint64_t ud = c->user_data;
    int res = c->res;
    ur_cqe_seen(&s->u);
    if (ud & REMOVE_TAG) continue;
    int fd = (int)(uint32_t)ud;
    uint32_t gen = (uint32_t)(ud >> 32);
    if (fd >= s->cap || !s->fds[fd].events || s->fds[fd].gen != gen) continue; /* a replaced poll */
    s->fds[fd].armed = 0;
    if (s->nrearm == s->rearmcap) {
      int cap = s->rearmcap ? s->rearmcap * 2 : 64;
      int *p = realloc(s->rearm, sizeof *p * (size_t)cap);
      if (!p) return -ENOMEM;
      s->rearm = p;
      s->rearmcap = cap;
    }
    s->rearm[s->nrearm++] = fd;
    int ev;
    if (res < 0) {
      ev = SEL_READ | SEL_WRITE; /* the descriptor went bad (closed): as poll's POLLNVAL */
    } else {
      unsigned e = (unsigned)res;
      /* As Python's selectors: an error or hang-up wakes both readers and writers. */
      ev = (e & ~(unsigned)POLLOUT ? SEL_READ : 0) | (e & ~(unsigned)POLLIN ? SEL_WRITE : 0);
    }
    out[n++] = (sel_event_t){ fd, ev };
  }
  ur_cq_commit(&s->u);
  return n;
}

void bu_close(backend_t *b) {
  struct ur_sel *s = b->ur;
  ur_close(&s->u);
  free(s->fds);
  free(s->rearm);
  free(s);
  b->ur = NULL;
}

int ur_fd(const backend_t *b) { return b->ur->u.fd; }
