/* The server's readiness loop: accept, recv, send, backpressure, idle timeouts, all in C; JS
 * is called once per wait with a batch of records (new connection, data, EOF, drain, close). */
#ifndef ECHO_LOOP_H
#define ECHO_LOOP_H
#include <stddef.h>
#include <stdint.h>
#include "backend.h"
#include "protocol.h"

/* Record types (REC_*), stats slots (ST_*), families and close reasons: protocol.h. */

typedef struct conn {
  int fd;
  int32_t id;
  uint8_t *out;
  size_t off, len, cap;
  int interest, reg;
  uint8_t js_paused, blocked, eof, end_req, wr_shut, dead;
  int close_err;
  int64_t last;
  /* io_uring loop only (loop_uring.c): requests in flight, input held back, the buffer an
   * in-flight send reads from. */
  uint16_t ops;
  uint8_t recv_armed, recv_cancel, send_inflight, zombie, eof_pending, held_listed;
  uint8_t *send_buf, *inq;
  size_t inq_len, inq_cap;
  uint32_t rec_batch;
  int rec_idx;
} conn_t;

struct uloop;

typedef struct loop {
  backend_t be;
  int lfd, uvfd;
  int spare;  /* a descriptor kept in reserve to accept-and-close when out of descriptors */
  /* Out of descriptors with no spare left: the listener is out of the selector until then
   * (0 while accepting), and the next pause (20 ms doubling to 1 s, back to 0 on an accept). */
  int64_t accept_resume_at;
  int accept_backoff_ms;
  conn_t **conns;
  int conncap, nconns;
  int32_t next_id;
  int max_conns, idle_ms, echo;
  size_t max_buf;
  uint8_t *in;
  size_t in_cap, in_used;
  int32_t *rec;
  int rec_cap, nrec;
  double *stats;
  conn_t **closeq;
  int nclose, closeqcap;
  sel_event_t *evs;
  int evcap;
  int64_t now, next_sweep;
  struct uloop *ur;  /* the io_uring loop's state (KIND_IO_URING), else NULL */
  int32_t *shared_active; /* connections of all loops sharing max_conns, or NULL (one loop) */
} loop_t;

int loop_init(loop_t *L, int kind, int lfd, int uvfd);
/* One wait (up to timeout_ms, -1 forever) and the work it brings; returns the records written. */
int loop_step(loop_t *L, int timeout_ms);
/* Output for a connection, as conn.write(): bytes still pending after, or -1 (gone or ended). */
long loop_write(loop_t *L, int fd, int32_t id, const uint8_t *p, size_t n);
int loop_end(loop_t *L, int fd, int32_t id);
int loop_destroy(loop_t *L, int fd, int32_t id);
int loop_pause(loop_t *L, int fd, int32_t id, int paused);
long loop_pending(loop_t *L, int fd, int32_t id);
void loop_stop_accepting(loop_t *L);
void loop_destroy_all(loop_t *L);
void loop_free(loop_t *L);
/* Whether there is work to do without waiting (closes queued). */
int loop_has_work(loop_t *L);
/* One loop of several on a shared listener: EPOLLEXCLUSIVE on it (epoll only; 0 or -errno). */
int loop_exclusive_accept(loop_t *L);
#endif
