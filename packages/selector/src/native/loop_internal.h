/* What loop.c shares with the io_uring loop (loop_uring.c): connection bookkeeping, records,
 * output buffering and limits are the same code for every kind; only waiting and I/O differ. */
#ifndef ECHO_LOOP_INTERNAL_H
#define ECHO_LOOP_INTERNAL_H
#include <sys/socket.h>
#include "loop.h"

#define SHRINK_ABOVE (256 * 1024)

int64_t mono_ms(void);
int32_t *rec_add(loop_t *L, int type, conn_t *c);
int rec_room(loop_t *L);
/* Appends c to a growable array of connections (aborts when out of memory). */
void conn_list_push(conn_t ***list, int *n, int *cap, conn_t *c);
void pending_changed(loop_t *L, long delta);
void sync_interest(loop_t *L, conn_t *c);
void kill_conn(loop_t *L, conn_t *c, int err);
void drain_closeq(loop_t *L);
void after_flush(loop_t *L, conn_t *c);
long write_out(loop_t *L, conn_t *c, const uint8_t *p, size_t n);
void do_end(loop_t *L, conn_t *c);
int grow_conns(loop_t *L, int fd);
void add_conn(loop_t *L, int fd, const struct sockaddr_storage *ss);
void sweep_idle(loop_t *L);
/* Out of descriptors with no spare: stop accepting for a backoff; resume once a spare opens. */
void pause_accepting(loop_t *L);
void maybe_resume_accepting(loop_t *L);

/* loop_uring.c */
int ul_init(loop_t *L);
int ul_step(loop_t *L, int timeout_ms);
void ul_sync(loop_t *L, conn_t *c);
void ul_send(loop_t *L, conn_t *c);
void ul_kill(loop_t *L, conn_t *c);
/* 1 when c still has requests in flight: it stays (a zombie) and is freed when they end. */
int ul_keep(loop_t *L, conn_t *c);
void ul_stop_accepting(loop_t *L);
void ul_free(loop_t *L);
#endif
