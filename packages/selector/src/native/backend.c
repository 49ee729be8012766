#define _GNU_SOURCE
#include "backend.h"
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static unsigned to_epoll(int ev) {
  return (ev & SEL_READ ? EPOLLIN : 0) | (ev & SEL_WRITE ? EPOLLOUT : 0);
}
static short to_poll(int ev) {
  return (short)((ev & SEL_READ ? POLLIN : 0) | (ev & SEL_WRITE ? POLLOUT : 0));
}

int be_init(backend_t *b, int kind) {
  memset(b, 0, sizeof *b);
  b->kind = kind;
  b->epfd = -1;
  b->maxfd = -1;
  FD_ZERO(&b->rset);
  FD_ZERO(&b->wset);
  if (kind == KIND_IO_URING) return bu_init(b);
  if (kind == KIND_EPOLL) {
    b->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (b->epfd < 0) return -errno;
  } else if (kind != KIND_POLL && kind != KIND_SELECT) {
    return -EINVAL;
  }
  return 0;
}

static int pidx_grow(backend_t *b, int fd) {
  if (fd < b->pidxcap) return 0;
  int cap = b->pidxcap ? b->pidxcap : 64;
  while (cap <= fd) cap *= 2;
  int *p = realloc(b->pidx, sizeof(int) * (size_t)cap);
  if (!p) return -ENOMEM;
  for (int i = b->pidxcap; i < cap; i++) p[i] = -1;
  b->pidx = p;
  b->pidxcap = cap;
  return 0;
}

int be_add(backend_t *b, int fd, int events) {
  if (b->closed) return -EBADF;
  if (fd < 0) return -EBADF;
  if (b->kind == KIND_IO_URING) return bu_add(b, fd, events);
  if (b->kind == KIND_EPOLL) {
    struct epoll_event ev = { .events = to_epoll(events), .data.fd = fd };
    if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) return -errno;
  } else if (b->kind == KIND_POLL) {
    int r = pidx_grow(b, fd);
    if (r) return r;
    assert(fd < b->pidxcap);
    if (b->pidx[fd] >= 0) return -EEXIST;
    if (b->npfd == b->pcap) {
      int cap = b->pcap ? b->pcap * 2 : 64;
      struct pollfd *p = realloc(b->pfds, sizeof *p * (size_t)cap);
      if (!p) return -ENOMEM;
      b->pfds = p;
      b->pcap = cap;
    }
    assert(b->npfd < b->pcap);
    b->pfds[b->npfd] = (struct pollfd){ .fd = fd, .events = to_poll(events) };
    b->pidx[fd] = b->npfd++;
  } else {
    if (fd >= FD_SETSIZE) return -ERANGE;
    if (FD_ISSET(fd, &b->rset) || FD_ISSET(fd, &b->wset)) return -EEXIST;
    if (events & SEL_READ) FD_SET(fd, &b->rset);
    if (events & SEL_WRITE) FD_SET(fd, &b->wset);
    if (fd > b->maxfd) b->maxfd = fd;
  }
  b->count++;
  return 0;
}

int be_mod(backend_t *b, int fd, int events) {
  if (b->closed) return -EBADF;
  if (fd < 0) return -EBADF;
  if (b->kind == KIND_IO_URING) return bu_mod(b, fd, events);
  if (b->kind == KIND_EPOLL) {
    struct epoll_event ev = { .events = to_epoll(events), .data.fd = fd };
    if (epoll_ctl(b->epfd, EPOLL_CTL_MOD, fd, &ev) < 0) return -errno;
  } else if (b->kind == KIND_POLL) {
    if (fd >= b->pidxcap || b->pidx[fd] < 0) return -ENOENT;
    b->pfds[b->pidx[fd]].events = to_poll(events);
  } else {
    if (fd >= FD_SETSIZE) return -ERANGE;
    /* A descriptor with no interest is in neither set; select cannot tell it from an absent one. */
    if (events & SEL_READ) FD_SET(fd, &b->rset); else FD_CLR(fd, &b->rset);
    if (events & SEL_WRITE) FD_SET(fd, &b->wset); else FD_CLR(fd, &b->wset);
    if (fd > b->maxfd) b->maxfd = fd;
  }
  return 0;
}

int be_del(backend_t *b, int fd) {
  if (b->closed) return -EBADF;
  if (fd < 0) return -EBADF;
  if (b->kind == KIND_IO_URING) return bu_del(b, fd);
  if (b->kind == KIND_EPOLL) {
    if (epoll_ctl(b->epfd, EPOLL_CTL_DEL, fd, NULL) < 0) return -errno;
  } else if (b->kind == KIND_POLL) {
    if (fd >= b->pidxcap || b->pidx[fd] < 0) return -ENOENT;
    int i = b->pidx[fd];
    assert(i < b->npfd && b->pfds[i].fd == fd); /* pidx and pfds agree */
    b->pidx[fd] = -1;
    b->npfd--;
    if (i != b->npfd) {  /* keep the array dense: move the last entry into the hole */
      b->pfds[i] = b->pfds[b->npfd];
      b->pidx[b->pfds[i].fd] = i;
    }
  } else {
    if (fd >= FD_SETSIZE) return -ERANGE;
    FD_CLR(fd, &b->rset);
    FD_CLR(fd, &b->wset);
    while (b->maxfd >= 0 && !FD_ISSET(b->maxfd, &b->rset) && !FD_ISSET(b->maxfd, &b->wset)) b->maxfd--;
  }
  b->count--;
  assert(b->count >= 0);
  return 0;
}

int be_wait(backend_t *b, int timeout_ms, sel_event_t *out, int max) {
  if (b->closed) return -EBADF;
  if (max < 1) max = 1;
  if (b->kind == KIND_IO_URING) return bu_wait(b, timeout_ms, out, max);
  int n = 0;
  if (b->kind == KIND_EPOLL) {
    if (b->epcap < max) {
      void *p = realloc(b->epevs, sizeof(struct epoll_event) * (size_t)max);
      if (!p) return -ENOMEM;
      b->epevs = p;
      b->epcap = max;
    }
    struct epoll_event *evs = b->epevs;
    int r = epoll_wait(b->epfd, evs, max, timeout_ms);
    if (r < 0) return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < r; i++) {
      unsigned e = evs[i].events;
      int ev = 0;
      /* As Python's selectors: an error or hang-up wakes both readers and writers. */
      if (e & ~(unsigned)EPOLLOUT) ev |= SEL_READ;
      if (e & ~(unsigned)EPOLLIN) ev |= SEL_WRITE;
      out[n++] = (sel_event_t){ evs[i].data.fd, ev };
    }
  } else if (b->kind == KIND_POLL) {
    int r = poll(b->pfds, (nfds_t)b->npfd, timeout_ms);
    if (r < 0) return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < b->npfd && r > 0 && n < max; i++) {
      short e = b->pfds[i].revents;
      if (!e) continue;
      r--;
      int ev = 0;
      if (e & ~POLLOUT) ev |= SEL_READ;
      if (e & ~POLLIN) ev |= SEL_WRITE;
      out[n++] = (sel_event_t){ b->pfds[i].fd, ev };
    }
  } else {
    fd_set r = b->rset, w = b->wset;
    struct timeval tv, *tvp = NULL;
    if (timeout_ms >= 0) {
      tv.tv_sec = timeout_ms / 1000;
      tv.tv_usec = (timeout_ms % 1000) * 1000;
      tvp = &tv;
    }
    assert(b->maxfd < FD_SETSIZE); /* be_add refuses descriptors past it */
    int k = select(b->maxfd + 1, &r, &w, NULL, tvp);
    if (k < 0) return errno == EINTR ? 0 : -errno;
    for (int fd = 0; fd <= b->maxfd && k > 0 && n < max; fd++) {
      int ev = (FD_ISSET(fd, &r) ? SEL_READ : 0) | (FD_ISSET(fd, &w) ? SEL_WRITE : 0);
      if (!ev) continue;
      k -= (ev & SEL_READ ? 1 : 0) + (ev & SEL_WRITE ? 1 : 0);
      out[n++] = (sel_event_t){ fd, ev };
    }
  }
  return n;
}

void be_close(backend_t *b) {
  if (b->closed) return;
  b->closed = 1;
  if (b->ur) bu_close(b);
  if (b->epfd >= 0) close(b->epfd);
  b->epfd = -1;
  free(b->epevs);
  free(b->pfds);
  free(b->pidx);
  b->epevs = NULL;
  b->pfds = NULL;
  b->pidx = NULL;
  b->count = 0;
}
