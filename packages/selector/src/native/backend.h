/* The three readiness mechanisms behind one small interface, shared by the JS-facing selectors
 * and by the server loop. Level-triggered everywhere, like Python's selectors. */
#ifndef ECHO_BACKEND_H
#define ECHO_BACKEND_H
#include <poll.h>
#include <sys/select.h>
#include "protocol.h" /* enum echo_kind (KIND_*), enum echo_event (SEL_READ, SEL_WRITE) */

typedef struct { int fd; int events; } sel_event_t;

typedef struct {
  int kind;
  int closed;
  int count;            /* descriptors registered */
  /* epoll */
  int epfd;
  void *epevs;          /* struct epoll_event[epcap] */
  int epcap;
  /* poll */
  struct pollfd *pfds;
  int npfd, pcap;
  int *pidx;            /* fd -> index in pfds, -1 when absent */
  int pidxcap;
  /* select */
  fd_set rset, wset;
  int maxfd;
  /* io_uring (backend_uring.c) */
  struct ur_sel *ur;
} backend_t;

int be_init(backend_t *b, int kind);          /* 0 or -errno */
int be_add(backend_t *b, int fd, int events);  /* 0 or -errno */
int be_mod(backend_t *b, int fd, int events);
int be_del(backend_t *b, int fd);
/* Waits up to timeout_ms (-1 forever, 0 poll); writes up to max events; returns n or -errno. */
int be_wait(backend_t *b, int timeout_ms, sel_event_t *out, int max);
void be_close(backend_t *b);

/* io_uring readiness (backend_uring.c): one-shot IORING_OP_POLL_ADD per descriptor, armed again
 * before each wait, so it is level-triggered like the others. Same contract as be_*. */
int bu_init(backend_t *b);
int bu_add(backend_t *b, int fd, int events);
int bu_mod(backend_t *b, int fd, int events);
int bu_del(backend_t *b, int fd);
int bu_wait(backend_t *b, int timeout_ms, sel_event_t *out, int max);
void bu_close(backend_t *b);
/* The ring's descriptor. */
int ur_fd(const backend_t *b);
#endif
