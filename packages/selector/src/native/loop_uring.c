/* The server loop on io_uring, completion based: one multishot accept on the listener, one
 * multishot recv per connection picking buffers from a provided-buffer ring, and sends queued
 * as SQEs, so that every request of a loop turn goes to the kernel in the one io_uring_enter
 * that also waits. Connection bookkeeping, records, limits and output buffering are loop.c's.
 *
 * A request's user_data: connection id (high 32 bits), descriptor (bits 4..31), op (bits 0..3).
 * A connection whose requests are still in flight when it closes stays, dead, until the last
 * completes: the kernel holds its descriptor and may read its send buffer until then. */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "loop_internal.h"
#include "uring.h"

enum { OP_UV = 1, OP_ACCEPT = 2, OP_RECV = 3, OP_SEND = 4, OP_CANCEL = 5, OP_ACCEPT_CANCEL = 6 };

#define SQ_ENTRIES 4096
#define CQ_ENTRIES 16384
#define BUF_COUNT 64    /* power of two: 1 MiB of buffers, the most input a connection can have held */
#define BUF_SIZE 16384
#define BUF_GROUP 1
#define STAGE_MAX 65536 /* input per connection per batch for JS */

typedef struct uloop {
  uring_t u;
  ur_bufs_t bufs;
  int accept_armed, uv_armed;
  uint32_t batch;
  conn_t **held;       /* connections with input held back (paused, or a batch already has theirs) */
  int nheld, heldcap;
} uloop_t;

static uint64_t tag(conn_t *c, int op) { return ((uint64_t)(uint32_t)c->id << 32) | ((uint64_t)(uint32_t)c->fd << 4) | (uint64_t)op; }

int ul_init(loop_t *L) {
  uloop_t *U = calloc(1, sizeof *U);
  if (!U) return -ENOMEM;
  int r = ur_init(&U->u, SQ_ENTRIES, CQ_ENTRIES, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
  if (r == 0) r = ur_bufs_init(&U->u, &U->bufs, BUF_COUNT, BUF_SIZE, BUF_GROUP);
  if (r < 0) {
    ur_close(&U->u);
    free(U);
    return r;
  }
  L->ur = U;
  return 0;
}

static struct io_uring_sqe *sqe(loop_t *L) { return ur_sqe(&L->ur->u); }

static void arm_accept(loop_t *L) {
  uloop_t *U = L->ur;
  if (L->lfd < 0 || U->accept_armed) return;
  struct io_uring_sqe *s = sqe(L);
  if (!s) return;
  s->opcode = IORING_OP_ACCEPT;
  s->fd = L->lfd;
  s->ioprio = IORING_ACCEPT_MULTISHOT;
  s->accept_flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
  s->user_data = OP_ACCEPT;
  U->accept_armed = 1;
}

/* libuv's own descriptor, polled once per wait: a message, timer or handle of the worker's
 * loop wakes us, and returning lets libuv run it. One-shot, so it is level-triggered. */
static void arm_uv(loop_t *L) {
  uloop_t *U = L->ur;
  if (L->uvfd < 0 || U->uv_armed) return;
  struct io_uring_sqe *s = sqe(L);
  if (!s) return;
  s->opcode = IORING_OP_POLL_ADD;
  s->fd = L->uvfd;
  s->poll32_events = POLLIN;
  s->user_data = OP_UV;
  U->uv_armed = 1;
}

static void cancel(loop_t *L, conn_t *c, uint64_t target, int all) {
  struct io_uring_sqe *s = sqe(L);
  if (!s) return;
  s->opcode = IORING_OP_ASYNC_CANCEL;
  if (all) {
    s->fd = c->fd;
    s->cancel_flags = IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL;
  } else {
    s->addr = target;
  }
  s->user_data = tag(c, OP_CANCEL);
  c->ops++;
}

/* Reads while the connection wants input (loop.c's rule: not at EOF, not paused for an async
 * handler, not blocked by backpressure); a multishot recv is cancelled when it stops wanting. */
void ul_sync(loop_t *L, conn_t *c) {
  /* Input held back stops reads too, so what is held stays bounded. */
  int want = !c->eof && !c->js_paused && !c->blocked && c->inq_len == 0;
  if (want && !c->recv_armed) {
    struct io_uring_sqe *s = sqe(L);
    if (!s) {
      kill_conn(L, c, ENOMEM);
      return;
    }
    s->opcode = IORING_OP_RECV;
    s->fd = c->fd;
    s->ioprio = IORING_RECV_MULTISHOT;
    s->flags = IOSQE_BUFFER_SELECT;
    s->buf_group = BUF_GROUP;
    s->user_data = tag(c, OP_RECV);
    c->recv_armed = 1;
    c->recv_cancel = 0;
    c->ops++;
  } else if (!want && c->recv_armed && !c->recv_cancel) {
    cancel(L, c, tag(c, OP_RECV), 0);
    c->recv_cancel = 1;
  }
}

/* Queues a send of everything pending, unless one is in flight (then its completion does). */
void ul_send(loop_t *L, conn_t *c) {
  if (c->dead || c->send_inflight || c->len == c->off) return;
  struct io_uring_sqe *s = sqe(L);
  if (!s) {
    kill_conn(L, c, ENOMEM);
    return;
  }
  s->opcode = IORING_OP_SEND;
  s->fd = c->fd;
  s->addr = (uint64_t)(uintptr_t)(c->out + c->off);
  s->len = (uint32_t)(c->len - c->off > 0x7fffffff ? 0x7fffffff : c->len - c->off);
  s->msg_flags = MSG_NOSIGNAL;
  s->user_data = tag(c, OP_SEND);
  c->send_buf = c->out;
  c->send_inflight = 1;
  c->ops++;
}

void ul_kill(loop_t *L, conn_t *c) {
  if (c->ops > 0) cancel(L, c, 0, 1);
}

static void free_conn(loop_t *L, conn_t *c) {
  assert(c->ops == 0);
  if (L->conns[c->fd] == c) L->conns[c->fd] = NULL;
  close(c->fd);
  if (c->send_buf != c->out) free(c->send_buf);
  free(c->out);
  free(c->inq);
  free(c);
}

int ul_keep(loop_t *L, conn_t *c) {
  uloop_t *U = L->ur;
  if (c->held_listed) { /* it leaves the held list before it may be freed */
    int keep = 0;
    for (int i = 0; i < U->nheld; i++)
      if (U->held[i] != c) U->held[keep++] = U->held[i];
    U->nheld = keep;
    c->held_listed = 0;
  }
  if (c->ops == 0) return 0;
  c->zombie = 1;
  L->conns[c->fd] = c; /* drain_closeq cleared it: the descriptor is not closed yet */
  return 1;
}

static void op_done(loop_t *L, conn_t *c) {
  assert(c->ops > 0);
  if (--c->ops == 0 && c->zombie) free_conn(L, c);
}

void ul_stop_accepting(loop_t *L) {
  uloop_t *U = L->ur;
  if (U->accept_armed) {
    struct io_uring_sqe *s = sqe(L);
    if (s) {
      s->opcode = IORING_OP_ASYNC_CANCEL;
      s->addr = OP_ACCEPT;
      s->user_data = OP_ACCEPT_CANCEL;
    }
  }
}

void ul_free(loop_t *L) {
  uloop_t *U = L->ur;
  /* Closing the ring cancels every request and drops the kernel's references. */
  ur_bufs_free(&U->u, &U->bufs);
  ur_close(&U->u);
  for (int fd = 0; fd < L->conncap; fd++) {
    conn_t *c = L->conns[fd];
    if (c) c->ops = 0;
  }
  free(U->held);
  free(U);
  L->ur = NULL;
}

static void hold(loop_t *L, conn_t *c, const uint8_t *p, size_t n) {
  uloop_t *U = L->ur;
  if (c->inq_cap - c->inq_len < n) {
    size_t cap = c->inq_cap ? c->inq_cap : 4096;
    while (cap - c->inq_len < n) cap *= 2;
    uint8_t *q = realloc(c->inq, cap);
    if (!q) {
      kill_conn(L, c, ENOMEM);
      return;
    }
    c->inq = q;
    c->inq_cap = cap;
  }
  if (n > 0) memcpy(c->inq + c->inq_len, p, n);
  c->inq_len += n;
  if (!c->held_listed) {
    conn_list_push(&U->held, &U->nheld, &U->heldcap, c);
    c->held_listed = 1;
  }
}

/* Copies input for JS into the batch's input buffer as a DATA record: one record per
 * connection per batch (an async onData must not overlap the next), extended while its bytes
 * are the last ones. Returns the bytes taken. */
static size_t stage(loop_t *L, conn_t *c, const uint8_t *p, size_t n) {
  uloop_t *U = L->ur;
  size_t room = L->in_cap - L->in_used;
  int32_t *r = NULL;
  if (c->rec_batch == U->batch) {
    r = L->rec + (size_t)c->rec_idx * REC_INTS;
    if ((size_t)r[REC_A] + (size_t)r[REC_B] != L->in_used) return 0;
    /* At most STAGE_MAX per connection per batch, as loop.c's one recv: the handler's output
     * grows by no more than that past maxBuffered before reads stop. */
    size_t left = STAGE_MAX > (size_t)r[REC_B] ? STAGE_MAX - (size_t)r[REC_B] : 0;
    if (room > left) room = left;
  } else if (room > STAGE_MAX) {
    room = STAGE_MAX;
  }
  if (room == 0) return 0;
  if (n > room) n = room;
  if (r) {
    r[REC_B] += (int32_t)n;
  } else {
    if (rec_room(L) < 2) return 0;
    c->rec_batch = U->batch;
    c->rec_idx = L->nrec;
    r = rec_add(L, REC_DATA, c);
    r[REC_A] = (int32_t)L->in_used;
    r[REC_B] = (int32_t)n;
  }
  memcpy(L->in + L->in_used, p, n);
  L->in_used += n;
  return n;
}

static void peer_eof(loop_t *L, conn_t *c) {
  c->eof_pending = 0;
  rec_add(L, REC_EOF, c);
  if (c->wr_shut) kill_conn(L, c, ECHO_CLOSE_NORMAL); /* both directions done, as Node's allowHalfOpen */
}

static int can_deliver(conn_t *c) { return !c->dead && !c->js_paused && !c->blocked; }

/* Held input goes first, then a held EOF, once the connection may take them. */
static void deliver_held(loop_t *L) {
  uloop_t *U = L->ur;
  int keep = 0;
  for (int i = 0; i < U->nheld; i++) {
    conn_t *c = U->held[i];
    if (c->dead) {
      c->held_listed = 0;
      c->inq_len = 0;
      continue;
    }
    if (L->echo) {
      /* Echo held what arrived while blocked: write it now, until blocked again. */
      size_t done = 0;
      while (!c->dead && !c->blocked && done < c->inq_len) {
        size_t n = c->inq_len - done > STAGE_MAX ? STAGE_MAX : c->inq_len - done;
        write_out(L, c, c->inq + done, n);
        done += n;
      }
      if (c->dead) continue;
      memmove(c->inq, c->inq + done, c->inq_len - done);
      c->inq_len -= done;
      if (c->inq_len == 0 && c->eof_pending) {
        c->eof_pending = 0;
        do_end(L, c);
      }
    } else {
      if (can_deliver(c) && c->inq_len > 0 && rec_room(L) > 2) {
        size_t n = stage(L, c, c->inq, c->inq_len);
        memmove(c->inq, c->inq + n, c->inq_len - n);
        c->inq_len -= n;
      }
      if (can_deliver(c) && c->inq_len == 0 && c->eof_pending && c->rec_batch != U->batch && rec_room(L) > 2) peer_eof(L, c);
    }
    if (c->inq_len > 0 || c->eof_pending) {
      U->held[keep++] = c;
    } else {
      ul_sync(L, c); /* all delivered: read again */
      c->held_listed = 0;
      if (c->inq_cap > SHRINK_ABOVE) {
        free(c->inq);
        c->inq = NULL;
        c->inq_cap = 0;
      }
    }
  }
  U->nheld = keep;
}

static void on_input(loop_t *L, conn_t *c, const uint8_t *p, size_t n) {
  L->stats[ST_BYTES_IN] += (double)n;
  c->last = L->now;
  if (L->echo) {
    /* The built-in echo handler, as loop.c's: conn.write(data) with the same limits. What
     * arrives while blocked (before the cancel takes effect) is held, not written. */
    if (c->blocked || c->inq_len > 0) hold(L, c, p, n);
    else write_out(L, c, p, n);
    return;
  }
  size_t taken = c->inq_len == 0 && can_deliver(c) ? stage(L, c, p, n) : 0;
  if (taken < n) hold(L, c, p + taken, n - taken);
}

static void on_eof(loop_t *L, conn_t *c) {
  c->eof = 1;
  if (L->echo) {
    if (c->inq_len > 0) {
      c->eof_pending = 1;
      hold(L, c, NULL, 0);
    } else {
      do_end(L, c); /* echo has no onEnd: the default ends once output is flushed */
    }
    return;
  }
  /* As loop.c's one read per connection per wait: EOF waits for the next batch when this one
   * has the connection's data (its handler may pause or block before it sees the end). */
  if (c->inq_len > 0 || !can_deliver(c) || c->rec_batch == L->ur->batch || rec_room(L) < 2) {
    c->eof_pending = 1;
    hold(L, c, NULL, 0);
  } else {
    peer_eof(L, c);
  }
}

static void on_accept(loop_t *L, int res, unsigned flags) {
  uloop_t *U = L->ur;
  if (!(flags & IORING_CQE_F_MORE)) U->accept_armed = 0;
  if (res >= 0) {
    if (L->lfd < 0 || L->nconns >= L->max_conns) {
      /* Counters change before the close: a client that sees the close may read them at once. */
      L->stats[ST_REJECTED]++;
      close(res);
      return;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    memset(&ss, 0, sizeof ss);
    if (getpeername(res, (struct sockaddr *)&ss, &sl) < 0) ss.ss_family = AF_UNIX;
    L->accept_backoff_ms = 0;
    add_conn(L, res, &ss);
    return;
  }
  if (res == -EMFILE || res == -ENFILE) {
    /* Out of descriptors: free the spare, accept the waiting connection and close it (the
     * client sees the close), take the spare back; the accept is armed again next turn. With
     * no spare to free, accepting stops for a backoff, as in loop.c, instead of spinning. */
    L->stats[ST_ACCEPT_ERRORS]++;
    if (L->spare >= 0 && L->lfd >= 0) {
      close(L->spare);
      int fd = accept4(L->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd >= 0) {
        L->stats[ST_REJECTED]++;
        close(fd);
      }
      L->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    if (L->spare < 0) pause_accepting(L);
    return;
  }
  if (res == -EINVAL && L->lfd >= 0) {
    loop_stop_accepting(L); /* shut down by close() on the main thread */
    return;
  }
  if (res != -ECANCELED && res != -ECONNABORTED && res != -EINTR && res != -EAGAIN) L->stats[ST_ERRORS]++;
}

static void on_recv(loop_t *L, conn_t *c, int res, unsigned flags) {
  uloop_t *U = L->ur;
  if (flags & IORING_CQE_F_BUFFER) {
    uint16_t bid = (uint16_t)(flags >> IORING_CQE_BUFFER_SHIFT);
    if (res > 0 && !c->dead) on_input(L, c, U->bufs.base + (size_t)bid * BUF_SIZE, (size_t)res);
    ur_bufs_give(&U->bufs, bid);
  }
  if (!(flags & IORING_CQE_F_MORE)) {
    c->recv_armed = 0;
    c->recv_cancel = 0;
  }
  if (!c->dead) {
    if (res == 0) on_eof(L, c);
    else if (res < 0 && res != -ENOBUFS && res != -ECANCELED && res != -EAGAIN && res != -EINTR) kill_conn(L, c, -res);
    if (!c->dead) ul_sync(L, c); /* ENOBUFS, a cancel after a resume: read again; held input: stop */
  }
  if (!(flags & IORING_CQE_F_MORE)) op_done(L, c);
}

static void on_send(loop_t *L, conn_t *c, int res) {
  c->send_inflight = 0;
  if (c->send_buf != c->out) free(c->send_buf);
  c->send_buf = NULL;
  if (!c->dead) {
    if (res > 0) {
      assert((size_t)res <= c->len - c->off);
      c->off += (size_t)res;
      pending_changed(L, -(long)res);
      c->last = L->now;
      if (c->len > c->off) ul_send(L, c);
      else after_flush(L, c);
      if (!c->dead) ul_sync(L, c);
    } else if (res == -EAGAIN || res == -EINTR || res == 0) {
      ul_send(L, c);
    } else {
      kill_conn(L, c, -res);
    }
  }
  op_done(L, c);
}

int ul_step(loop_t *L, int timeout_ms) {
  uloop_t *U = L->ur;
  U->batch++;
  L->nrec = 0;
  L->in_used = 0;
  drain_closeq(L);
  deliver_held(L);
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
  /* Turns that make nothing for JavaScript (the echo fast path's steady state) stay here: the
   * next io_uring_enter submits this turn's sends and waits, with no return to libuv (whose
   * own wait would be one more system call per turn), until there are records, libuv's
   * descriptor is readable, or libuv's timeout is up. */
  int64_t deadline = timeout_ms < 0 ? -1 : L->now + timeout_ms;
  for (;;) {
    if (L->accept_resume_at == 0) arm_accept(L);
    arm_uv(L);
    int r = ur_enter(&U->u, timeout_ms == 0 ? 0 : 1, timeout_ms);
    if (r < 0) return r;
    L->now = mono_ms();
    struct io_uring_cqe *cqe;
    while (rec_room(L) >= 3 && (cqe = ur_cqe(&U->u)) != NULL) {
      uint64_t ud = cqe->user_data;
      int res = cqe->res;
      unsigned flags = cqe->flags;
      ur_cqe_seen(&U->u);
      int op = (int)(ud & 15);
      if (op == OP_UV) {
        U->uv_armed = 0;
        continue;
      }
      if (op == OP_ACCEPT) {
        on_accept(L, res, flags);
        continue;
      }
      if (op == OP_ACCEPT_CANCEL) continue;
      int fd = (int)((ud >> 4) & 0x0fffffff);
      int32_t id = (int32_t)(uint32_t)(ud >> 32);
      conn_t *c = fd < L->conncap ? L->conns[fd] : NULL;
      if (!c || c->id != id) {
        /* Cannot happen: a connection lives until its last request completes. Give the buffer back. */
        assert(!"a completion for a connection that is gone");
        if (flags & IORING_CQE_F_BUFFER) ur_bufs_give(&U->bufs, (uint16_t)(flags >> IORING_CQE_BUFFER_SHIFT));
        continue;
      }
      if (op == OP_RECV) on_recv(L, c, res, flags);
      else if (op == OP_SEND) on_send(L, c, res);
      else if (op == OP_CANCEL) {
        if (res < 0 && !c->dead && c->recv_cancel) {
          c->recv_cancel = 0; /* the recv was not cancelled (it is completing): try again if still unwanted */
          ul_sync(L, c);
        }
        op_done(L, c);
      }
    }
    ur_cq_commit(&U->u);
    ur_bufs_publish(&U->bufs);
    sweep_idle(L);
    drain_closeq(L);
    if (U->nheld > 0) deliver_held(L); /* a send completed may have unblocked one */
    if (L->nrec > 0 || timeout_ms == 0 || !U->uv_armed) break;
    if (deadline >= 0) {
      if (L->now >= deadline) break;
      timeout_ms = (int)(deadline - L->now);
    }
  }
  assert(L->nrec <= L->rec_cap && L->nconns >= 0);
  return L->nrec;
}
