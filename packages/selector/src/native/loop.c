#define _GNU_SOURCE
#include "loop.h"
#include "loop_internal.h"
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RECV_MAX 65536
#define ACCEPTS_PER_STEP 256

int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int32_t *rec_add(loop_t *L, int type, conn_t *c) {
  assert(L->nrec < L->rec_cap); /* callers check rec_room first */
  int32_t *r = L->rec + (size_t)L->nrec * REC_INTS;
  L->nrec++;
  memset(r, 0, sizeof(int32_t) * REC_INTS);
  r[REC_TYPE] = type;
  if (c) {
    r[REC_FD] = c->fd;
    r[REC_ID] = c->id;
  }
  return r;
}
int rec_room(loop_t *L) { return L->rec_cap - L->nrec; }

int loop_init(loop_t *L, int kind, int lfd, int uvfd) {
  if (kind == KIND_IO_URING) {
    L->be.kind = kind;
    L->be.epfd = -1;
    L->lfd = lfd;
    L->uvfd = uvfd;
    L->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
    L->next_id = 1;
    L->now = mono_ms();
    return ul_init(L);
  }
  int r = be_init(&L->be, kind);
  if (r) return r;
  L->lfd = lfd;
  L->uvfd = uvfd;
  L->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
  L->next_id = 1;
  L->now = mono_ms();
  if ((r = be_add(&L->be, lfd, SEL_READ))) return r;
  if (uvfd >= 0 && (r = be_add(&L->be, uvfd, SEL_READ))) return r;
  return 0;
}

void conn_list_push(conn_t ***list, int *n, int *cap, conn_t *c) {
  if (*n == *cap) {
    int grown = *cap ? *cap * 2 : 64;
    conn_t **p = realloc(*list, sizeof *p * (size_t)grown);
    if (!p) abort();
    *list = p;
    *cap = grown;
  }
  (*list)[(*n)++] = c;
}

void pending_changed(loop_t *L, long delta) { L->stats[ST_BUFFERED] += (double)delta; }

/* Several loops share one maxConnections: a counter in shared memory (NULL with one loop),
 * taken before a connection is served and given back when it closes. */
static int reserve_slot(loop_t *L) {
  if (!L->shared_active) return 1;
  if (__atomic_add_fetch(L->shared_active, 1, __ATOMIC_SEQ_CST) <= L->max_conns) return 1;
  __atomic_sub_fetch(L->shared_active, 1, __ATOMIC_SEQ_CST);
  return 0;
}
static void release_slots(loop_t *L, int n) {
  if (L->shared_active && n > 0) __atomic_sub_fetch(L->shared_active, n, __ATOMIC_SEQ_CST);
}


/* Registers exactly the interest a connection has now: read unless EOF, paused for an async
 * handler or blocked by backpressure; write only while output is pending. A connection with no
 * interest is removed from the selector (epoll and poll would still report hang-ups). */
void sync_interest(loop_t *L, conn_t *c) {
  if (c->dead) return;
  if (L->ur) {
    ul_sync(L, c);
    return;
  }
  int want = 0;
  if (!c->eof && !c->js_paused && !c->blocked) want |= SEL_READ;
  if (c->len > c->off) want |= SEL_WRITE;
  if (want == 0) {
    if (c->reg) be_del(&L->be, c->fd);
    c->reg = 0;
    c->interest = 0;
    return;
  }
  if (!c->reg) {
    if (be_add(&L->be, c->fd, want) == 0) c->reg = 1;
  } else if (want != c->interest) {
    be_mod(&L->be, c->fd, want);
  }
  c->interest = want;
}

void kill_conn(loop_t *L, conn_t *c, int err) {
  if (c->dead) return;
  assert(err >= ECHO_CLOSE_IDLE);
  assert(L->conns[c->fd] == c);
  c->dead = 1;
  if (L->ur) ul_kill(L, c);
  if (c->reg) be_del(&L->be, c->fd);
  c->reg = 0;
  c->close_err = err;
  if (err > 0) L->stats[ST_ERRORS]++;
  if (err == ECHO_CLOSE_IDLE) L->stats[ST_TIMEOUTS]++;
  conn_list_push(&L->closeq, &L->nclose, &L->closeqcap, c);
}

/* Closes the descriptors of killed connections and reports each as a CLOSE record. */
void drain_closeq(loop_t *L) {
  int done = 0;
  while (done < L->nclose && rec_room(L) > 0) {
    conn_t *c = L->closeq[done++];
    assert(c->dead && L->conns[c->fd] == c);
    assert(c->off <= c->len && L->nconns > 0);
    int32_t *r = rec_add(L, REC_CLOSE, c);
    r[REC_A] = c->close_err;
    L->conns[c->fd] = NULL;
    pending_changed(L, -(long)(c->len - c->off));
    L->nconns--;
    release_slots(L, 1);
    L->stats[ST_ACTIVE]--;
    L->stats[ST_CLOSED]++;
    /* io_uring: requests still in flight hold the descriptor; it closes when the last ends. */
    if (L->ur && ul_keep(L, c)) continue;
    close(c->fd);
    free(c->out);
    free(c->inq);
    free(c);
  }
  memmove(L->closeq, L->closeq + done, sizeof *L->closeq * (size_t)(L->nclose - done));
  L->nclose -= done;
}

void after_flush(loop_t *L, conn_t *c) {
  assert(c->off <= c->len);
  assert(!c->wr_shut || c->end_req); /* the write side is shut only after end() */
  if (c->len > c->off) return;
  c->off = c->len = 0;
  if (c->cap > SHRINK_ABOVE) {  /* do not keep a big buffer for a connection that went quiet */
    free(c->out);
    c->out = NULL;
    c->cap = 0;
  }
  if (c->blocked) {
    c->blocked = 0;
    if (!L->echo) rec_add(L, REC_DRAIN, c);
  }
  if (c->end_req && !c->wr_shut) {
    shutdown(c->fd, SHUT_WR);
    c->wr_shut = 1;
    if (c->eof) kill_conn(L, c, ECHO_CLOSE_NORMAL);
  }
}

/* Sends what the kernel takes now; returns 0, or -1 when the connection died. */
static int flush(loop_t *L, conn_t *c) {
  assert(!L->ur);
  while (c->len > c->off) {
    ssize_t w = send(c->fd, c->out + c->off, c->len - c->off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0) {
      c->off += (size_t)w;
      pending_changed(L, -(long)w);
      c->last = L->now;
      continue;
    }
    if (w < 0 && (errno == EAGAIN || errno == EINTR)) break;
    kill_conn(L, c, w < 0 ? errno : EPIPE);
    return -1;
  }
  after_flush(L, c);
  return 0;
}

static int append(loop_t *L, conn_t *c, const uint8_t *p, size_t n) {
  if (c->send_inflight && c->out == c->send_buf && c->cap - c->len < n) {
    /* The kernel may still read the in-flight part: grow into a new buffer, same offsets; the
     * old one is freed when that send completes. */
    size_t cap = c->cap * 2;
    while (cap - c->len < n) cap *= 2;
    uint8_t *o = malloc(cap);
    if (!o) return -1;
    memcpy(o, c->out, c->len);
    c->out = o;
    c->cap = cap;
  }
  if (c->off > 0 && c->cap - c->len < n) {
    memmove(c->out, c->out + c->off, c->len - c->off);
    c->len -= c->off;
    c->off = 0;
  }
  if (c->cap - c->len < n) {
    size_t cap = c->cap ? c->cap : 4096;
    while (cap - c->len < n) cap *= 2;
    uint8_t *o = realloc(c->out, cap);
    if (!o) return -1;
    c->out = o;
    c->cap = cap;
  }
  assert(c->cap - c->len >= n);
  memcpy(c->out + c->len, p, n);
  c->len += n;
  pending_changed(L, (long)n);
  return 0;
}

/* conn.write(): send at once when nothing is pending, keep the rest; block reads past max_buf. */
long write_out(loop_t *L, conn_t *c, const uint8_t *p, size_t n) {
  if (c->dead || c->end_req) return -1;
  L->stats[ST_BYTES_OUT] += (double)n;
  if (!L->ur && c->len == c->off && n > 0) {
    ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
      if (errno != EAGAIN && errno != EINTR) {
        kill_conn(L, c, errno);
        return -1;
      }
      w = 0;
    }
    if (w > 0) c->last = L->now;
    p += w;
    n -= (size_t)w;
  }
  if (n > 0 && append(L, c, p, n) < 0) {
    kill_conn(L, c, ENOMEM);
    return -1;
  }
  if (L->ur) ul_send(L, c);  /* queued: submitted with the loop's next io_uring_enter */
  size_t pending = c->len - c->off;
  if (pending >= L->max_buf) c->blocked = 1;
  sync_interest(L, c);
  return (long)pending;
}

void do_end(loop_t *L, conn_t *c) {
  if (c->dead || c->end_req) return;
  c->end_req = 1;
  if (c->len == c->off) {
    shutdown(c->fd, SHUT_WR);
    c->wr_shut = 1;
    if (c->eof) kill_conn(L, c, ECHO_CLOSE_NORMAL);
  }
}

static conn_t *lookup(loop_t *L, int fd, int32_t id) {
  if (fd < 0 || fd >= L->conncap) return NULL;
  conn_t *c = L->conns[fd];
  if (!c || c->id != id || c->dead) return NULL;
  return c;
}

int grow_conns(loop_t *L, int fd) {
  if (fd < L->conncap) return 0;
  int cap = L->conncap ? L->conncap : 1024;
  while (cap <= fd) cap *= 2;
  conn_t **p = realloc(L->conns, sizeof *p * (size_t)cap);
  if (!p) return -1;
  memset(p + L->conncap, 0, sizeof *p * (size_t)(cap - L->conncap));
  L->conns = p;
  L->conncap = cap;
  return 0;
}

#define ACCEPT_BACKOFF_MIN_MS 20
#define ACCEPT_BACKOFF_MAX_MS 1000

void pause_accepting(loop_t *L) {
  if (L->accept_resume_at > 0 || L->lfd < 0) return;
  if (L->ur) ul_stop_accepting(L); /* the accept is armed again once resumed (ul_step) */
  else be_del(&L->be, L->lfd);
  L->accept_backoff_ms = L->accept_backoff_ms > 0 ? L->accept_backoff_ms * 2 : ACCEPT_BACKOFF_MIN_MS;
  if (L->accept_backoff_ms > ACCEPT_BACKOFF_MAX_MS) L->accept_backoff_ms = ACCEPT_BACKOFF_MAX_MS;
  L->accept_resume_at = L->now + L->accept_backoff_ms;
}

/* Called before each wait while paused: resume once a spare descriptor can be opened again. */
void maybe_resume_accepting(loop_t *L) {
  if (L->accept_resume_at == 0 || L->now < L->accept_resume_at) return;
  if (L->spare < 0) L->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (L->spare < 0 || L->lfd < 0 || (!L->ur && be_add(&L->be, L->lfd, SEL_READ) != 0)) {
    L->stats[ST_ACCEPT_ERRORS]++;
    L->accept_backoff_ms = L->accept_backoff_ms * 2 > ACCEPT_BACKOFF_MAX_MS ? ACCEPT_BACKOFF_MAX_MS : L->accept_backoff_ms * 2;
    L->accept_resume_at = L->now + L->accept_backoff_ms;
    return;
  }
  L->accept_resume_at = 0;
}

/* A new connection on descriptor fd from peer ss: counted, reported (ACCEPT), watched. */
void add_conn(loop_t *L, int fd, const struct sockaddr_storage *sp) {
  const struct sockaddr_storage ss = *sp;
  conn_t *c = calloc(1, sizeof *c);
  if (!c || grow_conns(L, fd) < 0) {
    free(c);
    close(fd);
    L->stats[ST_ERRORS]++;
    return;
  }
  if (!reserve_slot(L)) { /* several loops: maxConnections counts every loop's connections */
    free(c);
    L->stats[ST_REJECTED]++;
    close(fd);
    return;
  }
  int one = 1;
  if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  assert(fd < L->conncap && L->conns[fd] == NULL); /* a descriptor number is reused only after its close */
  c->fd = fd;
  c->id = L->next_id++;
  if (L->next_id <= 0) L->next_id = 1;
  c->last = L->now;
  L->conns[fd] = c;
  L->nconns++;
  L->stats[ST_ACCEPTED]++;
  L->stats[ST_ACTIVE]++;
  int32_t *r = rec_add(L, REC_ACCEPT, c);
  if (ss.ss_family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    r[REC_A] = ECHO_FAMILY_IPV4;
    r[REC_B] = ntohs(a->sin_port);
    r[REC_C] = (int32_t)ntohl(a->sin_addr.s_addr);
  } else if (ss.ss_family == AF_INET6) {
    r[REC_A] = ECHO_FAMILY_IPV6;
    r[REC_B] = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  }
  sync_interest(L, c);
}

static void accept_ready(loop_t *L) {
  for (int i = 0; i < ACCEPTS_PER_STEP && rec_room(L) > 2 && L->lfd >= 0; i++) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd = accept4(L->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EINVAL) {  /* shut down by close() on the main thread: stop listening now */
        loop_stop_accepting(L);
        return;
      }
      if (errno == EMFILE || errno == ENFILE) L->stats[ST_ACCEPT_ERRORS]++;
      if ((errno == EMFILE || errno == ENFILE) && L->spare >= 0) {
        /* Out of descriptors: the pending connection would keep the listener readable and the
         * loop spinning. Free the spare, accept and close it (the client sees the close), and
         * take the spare back. */
        close(L->spare);
        int c = accept4(L->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (c >= 0) {
          L->stats[ST_REJECTED]++;
          close(c);
        }
        L->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (c < 0 || L->spare < 0) {
          if (L->spare < 0) pause_accepting(L);
          return;
        }
        continue;
      }
      if (errno == EMFILE || errno == ENFILE) {
        /* No spare to free: the listener would stay readable and the loop spin. Take it out of
         * the selector for a while (loop_step brings it back once a descriptor opens). */
        pause_accepting(L);
        return;
      }
      if (errno != EAGAIN) L->stats[ST_ERRORS]++;
      return;
    }
    L->accept_backoff_ms = 0;
    /* Counters change before the close: a client that sees the close may read them at once. */
    if (L->nconns >= L->max_conns) {
      L->stats[ST_REJECTED]++;
      close(fd);
      continue;
    }
    if (L->be.kind == KIND_SELECT && fd >= FD_SETSIZE) {
      L->stats[ST_ERRORS]++;
      rec_add(L, REC_FDSETSIZE, NULL)[REC_A] = fd;
      close(fd);
      continue;
    }
    add_conn(L, fd, &ss);
  }
}

static void on_readable(loop_t *L, conn_t *c) {
  size_t space = L->in_cap - L->in_used;
  if (space == 0) return;  /* level-triggered: it will be reported again */
  assert(L->in_used <= L->in_cap);
  if (space > RECV_MAX) space = RECV_MAX;
  uint8_t *p = L->in + L->in_used;
  ssize_t r = recv(c->fd, p, space, 0);
  if (r > 0) {
    L->stats[ST_BYTES_IN] += (double)r;
    c->last = L->now;
    if (L->echo) {
      /* The built-in echo handler, done here: exactly conn.write(data) with the same limits. */
      write_out(L, c, p, (size_t)r);
    } else {
      int32_t *rec = rec_add(L, REC_DATA, c);
      rec[REC_A] = (int32_t)L->in_used;
      rec[REC_B] = (int32_t)r;
      L->in_used += (size_t)r;
    }
    return;
  }
  if (r == 0) {
    c->eof = 1;
    sync_interest(L, c);
    if (L->echo) {
      do_end(L, c);  /* echo has no onEnd: the default ends once output is flushed */
    } else {
      rec_add(L, REC_EOF, c);
      if (c->wr_shut) kill_conn(L, c, ECHO_CLOSE_NORMAL);  /* both directions done, as Node's allowHalfOpen */
    }
    return;
  }
  if (errno == EAGAIN || errno == EINTR) return;
  kill_conn(L, c, errno);
}

void sweep_idle(loop_t *L) {
  if (L->idle_ms <= 0) return;
  int64_t step = L->idle_ms / 8 > 5 ? L->idle_ms / 8 : 5;
  if (L->now < L->next_sweep) return;
  L->next_sweep = L->now + step;
  for (int fd = 0; fd < L->conncap; fd++) {
    conn_t *c = L->conns[fd];
    if (c && !c->dead && L->now - c->last >= L->idle_ms) kill_conn(L, c, ECHO_CLOSE_IDLE);
  }
}

int loop_has_work(loop_t *L) { return L->nclose > 0; }

int loop_step(loop_t *L, int timeout_ms) {
  if (L->ur) return ul_step(L, timeout_ms);
  L->nrec = 0;
  L->in_used = 0;
  drain_closeq(L);
  if (L->nrec > 0 || L->nclose > 0) timeout_ms = 0;
  L->now = mono_ms();
  maybe_resume_accepting(L);
  if (L->accept_resume_at > 0) {
    int64_t until = L->accept_resume_at - L->now;
    if (until < 0) until = 0;
    if (timeout_ms < 0 || until < timeout_ms) timeout_ms = (int)until;
  }
  if (L->idle_ms > 0 && L->nconns > 0) {
    if (L->next_sweep == 0) L->next_sweep = L->now + (L->idle_ms / 8 > 5 ? L->idle_ms / 8 : 5);
    int64_t until = L->next_sweep - L->now;
    if (until < 0) until = 0;
    if (timeout_ms < 0 || until < timeout_ms) timeout_ms = (int)until;
  }
  int max = L->be.count > 0 ? L->be.count : 1;
  if (max > L->rec_cap) max = L->rec_cap;
  if (L->evcap < max) {
    sel_event_t *e = realloc(L->evs, sizeof *e * (size_t)max);
    if (!e) return -ENOMEM;
    L->evs = e;
    L->evcap = max;
  }
  int n = be_wait(&L->be, timeout_ms, L->evs, max);
  if (n == -EINVAL && L->be.kind == KIND_POLL) {
    /* poll(2) refuses to watch more descriptors than RLIMIT_NOFILE (a limit lowered while the
     * server runs): wait a little instead of failing again at once on every turn. */
    struct timespec pause = { 0, 50 * 1000000L };
    nanosleep(&pause, NULL);
    n = 0;
  }
  if (n < 0) return n;
  assert(n <= max);
  L->now = mono_ms();
  for (int i = 0; i < n; i++) {
    int fd = L->evs[i].fd, ev = L->evs[i].events;
    if (rec_room(L) < 3) break;  /* the rest stays ready (level-triggered) for the next wait */
    if (fd == L->lfd) {
      accept_ready(L);
      continue;
    }
    if (fd == L->uvfd || fd < 0 || fd >= L->conncap) continue;
    conn_t *c = L->conns[fd];
    if (!c || c->dead) continue;
    if ((ev & SEL_WRITE) && c->len > c->off && flush(L, c) < 0) continue;
    if ((ev & SEL_READ) && !c->dead && !c->eof && !c->js_paused && !c->blocked) on_readable(L, c);
    if (!c->dead) sync_interest(L, c);
  }
  sweep_idle(L);
  drain_closeq(L);
  assert(L->nrec <= L->rec_cap && L->nconns >= 0);
  return L->nrec;
}

long loop_write(loop_t *L, int fd, int32_t id, const uint8_t *p, size_t n) {
  conn_t *c = lookup(L, fd, id);
  if (!c) return -1;
  return write_out(L, c, p, n);
}

int loop_end(loop_t *L, int fd, int32_t id) {
  conn_t *c = lookup(L, fd, id);
  if (!c) return -1;
  do_end(L, c);
  return 0;
}

int loop_destroy(loop_t *L, int fd, int32_t id) {
  conn_t *c = lookup(L, fd, id);
  if (!c) return -1;
  kill_conn(L, c, ECHO_CLOSE_NORMAL);
  return 0;
}

int loop_pause(loop_t *L, int fd, int32_t id, int paused) {
  conn_t *c = lookup(L, fd, id);
  if (!c) return -1;
  c->js_paused = (uint8_t)(paused != 0);
  sync_interest(L, c);
  return 0;
}

long loop_pending(loop_t *L, int fd, int32_t id) {
  conn_t *c = lookup(L, fd, id);
  if (!c) return 0;
  return (long)(c->len - c->off);
}

void loop_stop_accepting(loop_t *L) {
  if (L->lfd < 0) return;
  if (L->ur) ul_stop_accepting(L);
  else if (L->accept_resume_at == 0) be_del(&L->be, L->lfd);
  L->accept_resume_at = 0;
  close(L->lfd);
  L->lfd = -1;
}

void loop_destroy_all(loop_t *L) {
  for (int fd = 0; fd < L->conncap; fd++) {
    conn_t *c = L->conns[fd];
    if (c && !c->dead) kill_conn(L, c, ECHO_CLOSE_NORMAL);
  }
}

void loop_free(loop_t *L) {
  loop_stop_accepting(L);
  if (L->ur) ul_free(L);  /* closes the ring first: no request holds a descriptor after it */
  if (L->spare >= 0) close(L->spare);
  L->spare = -1;
  release_slots(L, L->nconns);
  for (int fd = 0; fd < L->conncap; fd++) {
    conn_t *c = L->conns[fd];
    if (!c) continue;
    close(c->fd);
    if (c->send_buf != c->out) free(c->send_buf);
    free(c->out);
    free(c->inq);
    free(c);
  }
  free(L->conns);
  free(L->closeq);
  free(L->evs);
  L->conns = NULL;
  L->closeq = NULL;
  L->evs = NULL;
  L->conncap = L->nconns = L->nclose = 0;
  be_close(&L->be);
}

/* Re-registers the listener with EPOLLEXCLUSIVE (epoll only), so that of several loops
 * waiting on one shared listening socket, one is woken per new connection rather than all.
 * Returns 0, -ENOTSUP for poll and select, or -errno. */
int loop_exclusive_accept(loop_t *L) {
  if (L->be.kind != KIND_EPOLL) return -ENOTSUP;
  if (L->lfd < 0) return -EBADF;
  struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = L->lfd };
  if (epoll_ctl(L->be.epfd, EPOLL_CTL_DEL, L->lfd, NULL) < 0) return -errno;
  if (epoll_ctl(L->be.epfd, EPOLL_CTL_ADD, L->lfd, &ev) < 0) return -errno;
  return 0;
}
