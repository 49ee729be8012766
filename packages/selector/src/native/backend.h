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
} backend_t;

int be_init(backend_t *b, int kind);          /* 0 or -errno */
int be_add(backend_t *b, int fd, int events);  /* 0 or -errno */
int be_mod(backend_t *b, int fd, int events);
int be_del(backend_t *b, int fd);
/* Waits up to timeout_ms (-1 forever, 0 poll); writes up to max events; returns n or -errno. */
int be_wait(backend_t *b, int timeout_ms, sel_event_t *out, int max);
void be_close(backend_t *b);
#endif
