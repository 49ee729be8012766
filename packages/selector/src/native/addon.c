/* Node-API bindings: raw non-blocking socket calls, the three selectors, and the server loop
 * run from the worker's libuv loop. Plain C on node_api.h. */
#define _GNU_SOURCE
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <node_api.h>
#include <uv.h>
#include "backend.h"
#include "loop.h"

#define CHECK(call)                                                    \
  do {                                                                 \
    if ((call) != napi_ok) {                                           \
      napi_throw_error(env, "ECHO_ERR_NATIVE", "Node-API call failed: " #call); \
      return NULL;                                                     \
    }                                                                  \
  } while (0)

static const char *errname(int err) {
  switch (err) {
    case EAGAIN: return "EAGAIN";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case EEXIST: return "EEXIST";
    case ENOENT: return "ENOENT";
    case ENOMEM: return "ENOMEM";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case EPIPE: return "EPIPE";
    case ECONNRESET: return "ECONNRESET";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ECONNABORTED: return "ECONNABORTED";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOTSOCK: return "ENOTSOCK";
    case ENOTCONN: return "ENOTCONN";
    case ERANGE: return "ERANGE";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case ENETUNREACH: return "ENETUNREACH";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return "EIO";
  }
}

static napi_value throw_errno(napi_env env, const char *syscall, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", syscall, strerror(err));
  napi_value code, message, error, sys, num;
  napi_create_string_utf8(env, errname(err), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, error, "syscall", sys);
  napi_create_int32(env, -err, &num);
  napi_set_named_property(env, error, "errno", num);
  napi_throw(env, error);
  return NULL;
}

static napi_value int_value(napi_env env, int64_t v) {
  napi_value r;
  napi_create_int64(env, v, &r);
  return r;
}

static int arg_int(napi_env env, napi_value v, int32_t *out) {
  return napi_get_value_int32(env, v, out) == napi_ok ? 0 : -1;
}

/* A caller's Uint8Array (Buffer): data pointer and length. */
static int arg_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  napi_typedarray_type type;
  napi_value ab;
  size_t off;
  void *p;
  if (napi_get_typedarray_info(env, v, &type, len, &p, &ab, &off) != napi_ok) return -1;
  if (type != napi_uint8_array) return -1;
  *data = p;
  return 0;
}

static int arg_str(napi_env env, napi_value v, char *buf, size_t cap) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_string) return 1; /* absent */
  size_t n;
  if (napi_get_value_string_utf8(env, v, buf, cap, &n) != napi_ok) return -1;
  return n + 1 >= cap ? -1 : 0;
}

#define ARGS(n)                                        \
  size_t argc = n;                                     \
  napi_value argv[n];                                  \
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL))

/* ---------- sockets ---------- */

static int listen_unix(const char *path, int backlog, int *out) {
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  if (strlen(path) >= sizeof a.sun_path) return -ENAMETOOLONG;
  strcpy(a.sun_path, path);
  for (int attempt = 0; attempt < 2; attempt++) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0) {
      if (listen(fd, backlog) < 0) {
        int e = errno;
        close(fd);
        return -e;
      }
      *out = fd;
      return 0;
    }
    int e = errno;
    close(fd);
    if (e != EADDRINUSE || attempt > 0) return -e;
    /* A socket file nobody accepts on is left over from a crashed server: replace it. */
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int r = connect(probe, (struct sockaddr *)&a, sizeof a);
    int pe = errno;
    close(probe);
    if (r == 0 || pe != ECONNREFUSED) return -EADDRINUSE;
    unlink(path);
  }
  return -EADDRINUSE;
}

static int listen_tcp(const char *host, int port, int backlog, int v6only, int *out, const char **gai) {
  struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *res = NULL;
  char ps[16];
  snprintf(ps, sizeof ps, "%d", port);
  int g = getaddrinfo(host, ps, &hints, &res);
  if (g != 0) {
    *gai = gai_strerror(g);
    return -EADDRNOTAVAIL;
  }
  int err = -EADDRNOTAVAIL;
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      err = -errno;
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ai->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, backlog) == 0) {
      freeaddrinfo(res);
      *out = fd;
      return 0;
    }
    err = -errno;
    close(fd);
  }
  freeaddrinfo(res);
  return err;
}

/* listen(host|null, port, path|null, backlog, ipv6Only) -> fd */
static napi_value js_listen(napi_env env, napi_callback_info info) {
  ARGS(5);
  char host[256], path[4096];
  int32_t port, backlog;
  bool v6only = false;
  int hs = arg_str(env, argv[0], host, sizeof host), ps = arg_str(env, argv[2], path, sizeof path);
  if (hs < 0 || ps < 0 || arg_int(env, argv[1], &port) || arg_int(env, argv[3], &backlog)) {
    napi_throw_type_error(env, "ECHO_ERR_INVALID_ARG", "listen(host, port, path, backlog, ipv6Only): bad arguments");
    return NULL;
  }
  napi_get_value_bool(env, argv[4], &v6only);
  int fd = -1, r;
  const char *gai = NULL;
  if (ps == 0) r = listen_unix(path, backlog, &fd);
  else r = listen_tcp(hs == 0 ? host : "127.0.0.1", port, backlog, v6only ? 1 : 0, &fd, &gai);
  if (r < 0) {
    if (gai) {
      char msg[512];
      snprintf(msg, sizeof msg, "getaddrinfo %s: %s", host, gai);
      napi_throw_error(env, "ENOTFOUND", msg);
      return NULL;
    }
    return throw_errno(env, ps == 0 ? "bind unix" : "bind", -r);
  }
  return int_value(env, fd);
}

/* accept(fd) -> new fd (non-blocking, close-on-exec) or -EAGAIN */
static napi_value js_accept(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (arg_int(env, argv[0], &fd)) return throw_errno(env, "accept", EBADF);
  for (;;) {
    int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c >= 0) return int_value(env, c);
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EAGAIN) return int_value(env, -EAGAIN);
    return throw_errno(env, "accept4", errno);
  }
}

static int range_args(napi_env env, napi_value *argv, size_t argc, uint8_t **p, size_t *n) {
  uint8_t *data;
  size_t len;
  if (arg_bytes(env, argv[1], &data, &len)) return -1;
  int32_t off = 0, cnt = (int32_t)len;
  napi_valuetype t;
  if (argc > 2 && napi_typeof(env, argv[2], &t) == napi_ok && t == napi_number) arg_int(env, argv[2], &off);
  if (argc > 3 && napi_typeof(env, argv[3], &t) == napi_ok && t == napi_number) arg_int(env, argv[3], &cnt);
  if (off < 0 || cnt < 0 || (size_t)off > len || (size_t)cnt > len - (size_t)off) return -1;
  *p = data + off;
  *n = (size_t)cnt;
  return 0;
}

/* recv(fd, buffer, offset?, length?) -> bytes read (0 at EOF) or -EAGAIN;
 * send(fd, buffer, offset?, length?) -> bytes sent or -EAGAIN. */
static napi_value transfer(napi_env env, napi_callback_info info, int sending) {
  ARGS(4);
  int32_t fd;
  uint8_t *p;
  size_t n;
  const char *name = sending ? "send" : "recv";
  if (arg_int(env, argv[0], &fd) || range_args(env, argv, argc, &p, &n)) {
    napi_throw_range_error(env, "ECHO_ERR_INVALID_ARG", sending ? "send(fd, buffer, offset, length): bad arguments" : "recv(fd, buffer, offset, length): bad arguments");
    return NULL;
  }
  for (;;) {
    ssize_t r = sending ? send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL) : recv(fd, p, n, MSG_DONTWAIT);
    if (r >= 0) return int_value(env, r);
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return int_value(env, -EAGAIN);
    return throw_errno(env, name, errno);
  }
}
static napi_value js_recv(napi_env env, napi_callback_info info) { return transfer(env, info, 0); }
static napi_value js_send(napi_env env, napi_callback_info info) { return transfer(env, info, 1); }

static napi_value js_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (arg_int(env, argv[0], &fd) || close(fd) < 0) return throw_errno(env, "close", errno ? errno : EBADF);
  return NULL;
}

static napi_value js_shutdown(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd, how;
  if (arg_int(env, argv[0], &fd) || arg_int(env, argv[1], &how)) return throw_errno(env, "shutdown", EINVAL);
  if (shutdown(fd, how) < 0) return throw_errno(env, "shutdown", errno);
  return NULL;
}

static napi_value address_object(napi_env env, struct sockaddr_storage *ss) {
  napi_value obj, v;
  napi_create_object(env, &obj);
  if (ss->ss_family == AF_UNIX) {
    struct sockaddr_un *u = (struct sockaddr_un *)ss;
    napi_create_string_utf8(env, u->sun_path, NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, obj, "path", v);
    return obj;
  }
  char buf[INET6_ADDRSTRLEN];
  int port;
  const char *family;
  if (ss->ss_family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
    port = ntohs(a->sin6_port);
    family = "IPv6";
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
    port = ntohs(a->sin_port);
    family = "IPv4";
  }
  napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "address", v);
  napi_set_named_property(env, obj, "port", int_value(env, port));
  napi_create_string_utf8(env, family, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "family", v);
  return obj;
}

static napi_value name_of(napi_env env, napi_callback_info info, int peer) {
  ARGS(1);
  int32_t fd;
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  memset(&ss, 0, sizeof ss);
  if (arg_int(env, argv[0], &fd)) return throw_errno(env, peer ? "getpeername" : "getsockname", EBADF);
  int r = peer ? getpeername(fd, (struct sockaddr *)&ss, &sl) : getsockname(fd, (struct sockaddr *)&ss, &sl);
  if (r < 0) return throw_errno(env, peer ? "getpeername" : "getsockname", errno);
  return address_object(env, &ss);
}
static napi_value js_sockname(napi_env env, napi_callback_info info) { return name_of(env, info, 0); }
static napi_value js_peername(napi_env env, napi_callback_info info) { return name_of(env, info, 1); }

/* pipe() -> [readFd, writeFd], both non-blocking */
static napi_value js_pipe(napi_env env, napi_callback_info info) {
  (void)info;
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) return throw_errno(env, "pipe2", errno);
  napi_value arr;
  napi_create_array_with_length(env, 2, &arr);
  napi_set_element(env, arr, 0, int_value(env, fds[0]));
  napi_set_element(env, arr, 1, int_value(env, fds[1]));
  return arr;
}

/* ---------- selectors ---------- */

static void backend_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  backend_t *b = data;
  be_close(b);
  free(b);
}

static backend_t *arg_backend(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  return p;
}

/* selCreate(kind) -> handle */
static napi_value js_sel_create(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t kind;
  if (arg_int(env, argv[0], &kind)) return throw_errno(env, "selector", EINVAL);
  backend_t *b = calloc(1, sizeof *b);
  if (!b) return throw_errno(env, "selector", ENOMEM);
  int r = be_init(b, kind);
  if (r < 0) {
    free(b);
    return throw_errno(env, kind == KIND_EPOLL ? "epoll_create1" : "selector", -r);
  }
  napi_value ext;
  CHECK(napi_create_external(env, b, backend_finalize, NULL, &ext));
  return ext;
}

/* selCtl(handle, op 0 add / 1 modify / 2 delete, fd, events) */
static napi_value js_sel_ctl(napi_env env, napi_callback_info info) {
  ARGS(4);
  backend_t *b = arg_backend(env, argv[0]);
  int32_t op, fd, events = 0;
  if (!b || arg_int(env, argv[1], &op) || arg_int(env, argv[2], &fd)) return throw_errno(env, "selector", EINVAL);
  arg_int(env, argv[3], &events);
  int r = op == 0 ? be_add(b, fd, events) : op == 1 ? be_mod(b, fd, events) : be_del(b, fd);
  if (r < 0) {
    const char *sys = b->kind == KIND_EPOLL ? "epoll_ctl" : b->kind == KIND_POLL ? "poll" : "select";
    return throw_errno(env, sys, -r);
  }
  return NULL;
}

/* selWait(handle, timeoutMs, out Int32Array of [fd, events] pairs) -> pairs written */
static napi_value js_sel_wait(napi_env env, napi_callback_info info) {
  ARGS(3);
  backend_t *b = arg_backend(env, argv[0]);
  int32_t timeout;
  napi_typedarray_type type;
  size_t len, off;
  void *p;
  napi_value ab;
  if (!b || arg_int(env, argv[1], &timeout) ||
      napi_get_typedarray_info(env, argv[2], &type, &len, &p, &ab, &off) != napi_ok || type != napi_int32_array) {
    return throw_errno(env, "selector", EINVAL);
  }
  int max = (int)(len / 2);
  sel_event_t *evs = malloc(sizeof *evs * (size_t)(max > 0 ? max : 1));
  if (!evs) return throw_errno(env, "selector", ENOMEM);
  int n = be_wait(b, timeout, evs, max);
  if (n < 0) {
    free(evs);
    const char *sys = b->kind == KIND_EPOLL ? "epoll_wait" : b->kind == KIND_POLL ? "poll" : "select";
    return throw_errno(env, sys, -n);
  }
  int32_t *out = p;
  for (int i = 0; i < n; i++) {
    out[2 * i] = evs[i].fd;
    out[2 * i + 1] = evs[i].events;
  }
  free(evs);
  return int_value(env, n);
}

static napi_value js_sel_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  backend_t *b = arg_backend(env, argv[0]);
  if (b) be_close(b);
  return NULL;
}

/* selFileno(handle) -> the epoll descriptor, or -1 for poll and select */
static napi_value js_sel_fileno(napi_env env, napi_callback_info info) {
  ARGS(1);
  backend_t *b = arg_backend(env, argv[0]);
  return int_value(env, b && !b->closed ? b->epfd : -1);
}

/* ---------- the server loop, driven by the worker's libuv loop ---------- */

typedef struct server {
  loop_t L;
  napi_env env;
  napi_ref cb, inref, recref, statsref;
  napi_async_context actx;
  uv_loop_t *uv;
  uv_prepare_t prepare;
  uv_idle_t idle;
  napi_async_cleanup_hook_handle cleanup;
  int running, handles_open, freed, finalized;
} server_t;

/* The struct lives until both libuv handles are closed and JS has dropped its handle. The
 * async cleanup hook lets a worker that is terminated (or a process that exits) with the
 * server still running close our handles before Node closes the thread's loop. */
static void handle_closed(uv_handle_t *h) {
  server_t *s = h->data;
  if (--s->handles_open > 0) return;
  if (s->cleanup) napi_remove_async_cleanup_hook(s->cleanup);
  s->cleanup = NULL;
  if (s->finalized) free(s);
}

static void stop_server(server_t *s) {
  if (s->freed) return;
  s->running = 0;
  loop_free(&s->L);
  uv_prepare_stop(&s->prepare);
  uv_idle_stop(&s->idle);
  uv_close((uv_handle_t *)&s->prepare, handle_closed);
  uv_close((uv_handle_t *)&s->idle, handle_closed);
  s->freed = 1;
}

static void async_cleanup(napi_async_cleanup_hook_handle handle, void *arg) {
  (void)handle;
  stop_server(arg);
}

static void server_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  server_t *s = data;
  s->finalized = 1;
  if (s->handles_open == 0) free(s);
}

static void on_idle(uv_idle_t *h) { (void)h; }

/* Runs before libuv would block. The wait happens here, over our descriptors plus libuv's own
 * backend descriptor, for at most as long as libuv would have waited (its next timer): so the
 * worker's timers, promises and messages keep running, and a message (close) wakes us at once.
 * The idle handle keeps libuv from blocking again after we return. */
static void on_prepare(uv_prepare_t *h) {
  server_t *s = h->data;
  if (!s->running) return;
  uv_idle_stop(&s->idle);
  uv_update_time(s->uv);
  int timeout = uv_backend_timeout(s->uv);
  uv_idle_start(&s->idle, on_idle);
  int n = loop_step(&s->L, timeout);
  if (n <= 0) return;
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, global, arg, result;
  napi_get_reference_value(env, s->cb, &cb);
  napi_get_global(env, &global);
  napi_create_int32(env, n, &arg);
  napi_status st = napi_make_callback(env, s->actx, global, cb, 1, &arg, &result);
  if (st == napi_pending_exception) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
  napi_close_handle_scope(env, scope);
}

static server_t *arg_server(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  server_t *s = p;
  return s && !s->freed ? s : NULL;
}

static int typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len) {
  napi_typedarray_type type;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, len, data, &ab, &off) != napi_ok || type != want) return -1;
  return 0;
}

/* loopCreate(kind, listenFd, maxConnections, maxBuffered, idleMs, echo, in Uint8Array,
 *            records Int32Array, stats Float64Array, callback(n)) -> handle */
static napi_value js_loop_create(napi_env env, napi_callback_info info) {
  ARGS(10);
  int32_t kind, lfd, maxc, maxb, idle;
  bool echo = false;
  void *in, *rec, *stats;
  size_t inlen, reclen, statslen;
  if (arg_int(env, argv[0], &kind) || arg_int(env, argv[1], &lfd) || arg_int(env, argv[2], &maxc) ||
      arg_int(env, argv[3], &maxb) || arg_int(env, argv[4], &idle) || napi_get_value_bool(env, argv[5], &echo) != napi_ok ||
      typed(env, argv[6], napi_uint8_array, &in, &inlen) || typed(env, argv[7], napi_int32_array, &rec, &reclen) ||
      typed(env, argv[8], napi_float64_array, &stats, &statslen) || statslen < ST_COUNT || reclen < REC_INTS * 16) {
    napi_throw_type_error(env, "ECHO_ERR_INVALID_ARG", "loopCreate: bad arguments");
    return NULL;
  }
  server_t *s = calloc(1, sizeof *s);
  if (!s) return throw_errno(env, "loopCreate", ENOMEM);
  s->env = env;
  CHECK(napi_get_uv_event_loop(env, (struct uv_loop_s **)&s->uv));
  int r = loop_init(&s->L, kind, lfd, uv_backend_fd(s->uv));
  if (r < 0) {
    be_close(&s->L.be);
    free(s);
    return throw_errno(env, "loopCreate", -r);
  }
  s->L.max_conns = maxc;
  s->L.max_buf = (size_t)maxb;
  s->L.idle_ms = idle;
  s->L.echo = echo;
  s->L.in = in;
  s->L.in_cap = inlen;
  s->L.rec = rec;
  s->L.rec_cap = (int)(reclen / REC_INTS);
  s->L.stats = stats;
  CHECK(napi_create_reference(env, argv[6], 1, &s->inref));
  CHECK(napi_create_reference(env, argv[7], 1, &s->recref));
  CHECK(napi_create_reference(env, argv[8], 1, &s->statsref));
  CHECK(napi_create_reference(env, argv[9], 1, &s->cb));
  napi_value name;
  napi_create_string_utf8(env, "echo-selector-loop", NAPI_AUTO_LENGTH, &name);
  CHECK(napi_async_init(env, NULL, name, &s->actx));
  uv_prepare_init(s->uv, &s->prepare);
  uv_idle_init(s->uv, &s->idle);
  s->prepare.data = s;
  s->idle.data = s;
  s->handles_open = 2;
  s->running = 1;
  uv_prepare_start(&s->prepare, on_prepare);
  uv_idle_start(&s->idle, on_idle);
  CHECK(napi_add_async_cleanup_hook(env, async_cleanup, s, &s->cleanup));
  napi_value ext;
  CHECK(napi_create_external(env, s, server_finalize, NULL, &ext));
  return ext;
}

/* loopWrite(handle, fd, id, data Uint8Array) -> bytes pending after, or -1 */
static napi_value js_loop_write(napi_env env, napi_callback_info info) {
  ARGS(4);
  server_t *s = arg_server(env, argv[0]);
  int32_t fd, id;
  uint8_t *p;
  size_t n;
  if (!s || arg_int(env, argv[1], &fd) || arg_int(env, argv[2], &id) || arg_bytes(env, argv[3], &p, &n)) {
    napi_throw_type_error(env, "ECHO_ERR_INVALID_ARG", "loopWrite: bad arguments");
    return NULL;
  }
  return int_value(env, loop_write(&s->L, fd, id, p, n));
}

/* loopConn(handle, op, fd, id, arg): 0 end, 1 destroy, 2 pause(arg), 3 pending */
static napi_value js_loop_conn(napi_env env, napi_callback_info info) {
  ARGS(5);
  server_t *s = arg_server(env, argv[0]);
  int32_t op, fd, id, arg = 0;
  if (!s || arg_int(env, argv[1], &op) || arg_int(env, argv[2], &fd) || arg_int(env, argv[3], &id)) {
    napi_throw_type_error(env, "ECHO_ERR_INVALID_ARG", "loopConn: bad arguments");
    return NULL;
  }
  if (argc > 4) arg_int(env, argv[4], &arg);
  long r;
  switch (op) {
    case 0: r = loop_end(&s->L, fd, id); break;
    case 1: r = loop_destroy(&s->L, fd, id); break;
    case 2: r = loop_pause(&s->L, fd, id, arg); break;
    default: r = loop_pending(&s->L, fd, id); break;
  }
  return int_value(env, r);
}

/* loopControl(handle, op): 0 stop accepting, 1 destroy every connection, 2 free */
static napi_value js_loop_control(napi_env env, napi_callback_info info) {
  ARGS(2);
  server_t *s = arg_server(env, argv[0]);
  int32_t op;
  if (!s || arg_int(env, argv[1], &op)) return NULL;
  if (op == 0) loop_stop_accepting(&s->L);
  else if (op == 1) loop_destroy_all(&s->L);
  else if (op == 2) {
    stop_server(s);
    napi_delete_reference(env, s->cb);
    napi_delete_reference(env, s->inref);
    napi_delete_reference(env, s->recref);
    napi_delete_reference(env, s->statsref);
    napi_async_destroy(env, s->actx);
  }
  return NULL;
}

/* ---------- module ---------- */

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor fns[] = {
    { "listen", 0, js_listen, 0, 0, 0, napi_enumerable, 0 },
    { "accept", 0, js_accept, 0, 0, 0, napi_enumerable, 0 },
    { "recv", 0, js_recv, 0, 0, 0, napi_enumerable, 0 },
    { "send", 0, js_send, 0, 0, 0, napi_enumerable, 0 },
    { "close", 0, js_close, 0, 0, 0, napi_enumerable, 0 },
    { "shutdown", 0, js_shutdown, 0, 0, 0, napi_enumerable, 0 },
    { "sockname", 0, js_sockname, 0, 0, 0, napi_enumerable, 0 },
    { "peername", 0, js_peername, 0, 0, 0, napi_enumerable, 0 },
    { "pipe", 0, js_pipe, 0, 0, 0, napi_enumerable, 0 },
    { "selCreate", 0, js_sel_create, 0, 0, 0, napi_enumerable, 0 },
    { "selCtl", 0, js_sel_ctl, 0, 0, 0, napi_enumerable, 0 },
    { "selWait", 0, js_sel_wait, 0, 0, 0, napi_enumerable, 0 },
    { "selClose", 0, js_sel_close, 0, 0, 0, napi_enumerable, 0 },
    { "selFileno", 0, js_sel_fileno, 0, 0, 0, napi_enumerable, 0 },
    { "loopCreate", 0, js_loop_create, 0, 0, 0, napi_enumerable, 0 },
    { "loopWrite", 0, js_loop_write, 0, 0, 0, napi_enumerable, 0 },
    { "loopConn", 0, js_loop_conn, 0, 0, 0, napi_enumerable, 0 },
    { "loopControl", 0, js_loop_control, 0, 0, 0, napi_enumerable, 0 },
  };
  napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns);
  napi_value v;
  napi_create_int32(env, FD_SETSIZE, &v);
  napi_set_named_property(env, exports, "FD_SETSIZE", v);
  napi_create_int32(env, EAGAIN, &v);
  napi_set_named_property(env, exports, "EAGAIN", v);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
