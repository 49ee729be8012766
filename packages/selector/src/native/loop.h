/* The server's readiness loop: accept, recv, send, backpressure, idle timeouts, all in C; JS
 * is called once per wait with a batch of records (new connection, data, EOF, drain, close). */
#ifndef ECHO_LOOP_H
#define ECHO_LOOP_H
#include <stddef.h>
#include <stdint.h>
#include "backend.h"

/* Record types, 8 int32 each: [type, fd, id, a, b, c, 0, 0]. Mirrored in src/internal/protocol.ts. */
enum {
  REC_ACCEPT = 1,   /* a=family (4, 6, 0 unix) b=port c=IPv4 address (host order) */
  REC_DATA = 2,     /* a=offset in the input buffer, b=length */
  REC_EOF = 3,
  REC_DRAIN = 4,
  REC_CLOSE = 5,    /* a=0 normal, -1 idle timeout, >0 errno */
  REC_FDSETSIZE = 6 /* a=fd refused: select cannot watch it */
};
#define REC_INTS 8

/* Counters, mirrored in the order of @echo/core's statsKeys. */
enum { ST_ACCEPTED, ST_ACTIVE, ST_QUEUED, ST_CLOSED, ST_REJECTED, ST_BYTES_IN, ST_BYTES_OUT, ST_ERRORS, ST_TIMEOUTS, ST_BUFFERED, ST_COUNT };

typedef struct conn {
  int fd;
  int32_t id;
  uint8_t *out;
  size_t off, len, cap;
  int interest, reg;
  uint8_t js_paused, blocked, eof, end_req, wr_shut, dead;
  int close_err;
  int64_t last;
} conn_t;

typedef struct loop {
  backend_t be;
  int lfd, uvfd;
  int spare;  /* a descriptor kept in reserve to accept-and-close when out of descriptors */
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
#endif
