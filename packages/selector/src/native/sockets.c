/* Raw non-blocking socket calls on plain descriptors: listen, accept, recv, send, close,
 * shutdown, the addresses, a pipe. "Would block" is a return value (-EAGAIN), any other
 * failure a thrown system error. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "binding.h"
#include "protocol.h"

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

static int listen_tcp(const char *host, int port, int backlog, int v6only, int reuseport, int *out, const char **gai) {
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
    if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
      err = -errno;
      close(fd);
      continue;
    }
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

/* listen(host|null, port, path|null, backlog, ipv6Only, reusePort?) -> fd; reusePort sets
 * SO_REUSEPORT (TCP only) so several loops can each bind their own socket on one port. */
static napi_value js_listen(napi_env env, napi_callback_info info) {
  ARGS(6);
  char host[256], path[4096];
  int32_t port, backlog;
  bool v6only = false;
  int hs = arg_str(env, argv[0], host, sizeof host), ps = arg_str(env, argv[2], path, sizeof path);
  if (hs < 0 || ps < 0 || arg_int(env, argv[1], &port) || arg_int(env, argv[3], &backlog)) {
    return throw_invalid(env, "listen(host, port, path, backlog, ipv6Only): bad arguments");
  }
  if (napi_get_value_bool(env, argv[4], &v6only) != napi_ok) v6only = false;
  bool reuseport = false;
  if (argc > 5 && napi_get_value_bool(env, argv[5], &reuseport) != napi_ok) reuseport = false;
  int fd = -1, r;
  const char *gai = NULL;
  if (ps == 0) r = listen_unix(path, backlog, &fd);
  else r = listen_tcp(hs == 0 ? host : "127.0.0.1", port, backlog, v6only ? 1 : 0, reuseport ? 1 : 0, &fd, &gai);
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

/* dup(fd) -> a new descriptor (close-on-exec) for the same socket: each loop of a shared
 * listener owns and closes its own. */
static napi_value js_dup(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (arg_int(env, argv[0], &fd)) return throw_errno(env, "dup", EBADF);
  int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (d < 0) return throw_errno(env, "dup", errno);
  return int_value(env, d);
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
  if (arg_int(env, argv[0], &fd)) return throw_errno(env, "close", EBADF);
  if (close(fd) < 0) return throw_errno(env, "close", errno);
  return NULL;
}

/* adoptListener(fd): takes an inherited listening socket (socket activation) for the loop: it
 * must be a listening stream socket; it is made non-blocking (the loop accepts until EAGAIN)
 * and close-on-exec. Returns fd. */
static napi_value js_adopt_listener(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (arg_int(env, argv[0], &fd) || fd < 0) return throw_errno(env, "adoptListener", EBADF);
  int listening = 0;
  socklen_t len = sizeof listening;
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0) return throw_errno(env, "getsockopt", errno);
  if (!listening) return throw_errno(env, "adoptListener", EINVAL);
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return throw_errno(env, "fcntl", errno);
  int fdflags = fcntl(fd, F_GETFD);
  if (fdflags < 0 || fcntl(fd, F_SETFD, fdflags | FD_CLOEXEC) < 0) return throw_errno(env, "fcntl", errno);
  return int_value(env, fd);
}

static napi_value js_shutdown(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd, how;
  if (arg_int(env, argv[0], &fd) || arg_int(env, argv[1], &how)) return throw_errno(env, "shutdown", EINVAL);
  int sys_how;
  switch ((enum echo_shutdown)how) {
    case ECHO_SHUT_READ: sys_how = SHUT_RD; break;
    case ECHO_SHUT_WRITE: sys_how = SHUT_WR; break;
    case ECHO_SHUT_BOTH: sys_how = SHUT_RDWR; break;
    default: return throw_errno(env, "shutdown", EINVAL);
  }
  if (shutdown(fd, sys_how) < 0) return throw_errno(env, "shutdown", errno);
  return NULL;
}

static napi_value address_object(napi_env env, struct sockaddr_storage *ss) {
  napi_value obj, v;
  NAPI_CALL(env, napi_create_object(env, &obj));
  if (ss->ss_family == AF_UNIX) {
    struct sockaddr_un *u = (struct sockaddr_un *)ss;
    NAPI_CALL(env, napi_create_string_utf8(env, u->sun_path, NAPI_AUTO_LENGTH, &v));
    NAPI_CALL(env, napi_set_named_property(env, obj, "path", v));
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
    assert(ss->ss_family == AF_INET);
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
    port = ntohs(a->sin_port);
    family = "IPv4";
  }
  NAPI_CALL(env, napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &v));
  NAPI_CALL(env, napi_set_named_property(env, obj, "address", v));
  NAPI_CALL(env, napi_set_named_property(env, obj, "port", int_value(env, port)));
  NAPI_CALL(env, napi_create_string_utf8(env, family, NAPI_AUTO_LENGTH, &v));
  NAPI_CALL(env, napi_set_named_property(env, obj, "family", v));
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
  assert(sl <= sizeof ss);
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
  NAPI_CALL(env, napi_create_array_with_length(env, 2, &arr));
  NAPI_CALL(env, napi_set_element(env, arr, 0, int_value(env, fds[0])));
  NAPI_CALL(env, napi_set_element(env, arr, 1, int_value(env, fds[1])));
  return arr;
}

napi_status sockets_init(napi_env env, napi_value exports) {
  napi_property_descriptor fns[] = {
    EXPORT_FN("listen", js_listen),
    EXPORT_FN("accept", js_accept),
    EXPORT_FN("dup", js_dup),
    EXPORT_FN("recv", js_recv),
    EXPORT_FN("send", js_send),
    EXPORT_FN("close", js_close),
    EXPORT_FN("shutdown", js_shutdown),
    EXPORT_FN("adoptListener", js_adopt_listener),
    EXPORT_FN("sockname", js_sockname),
    EXPORT_FN("peername", js_peername),
    EXPORT_FN("pipe", js_pipe),
  };
  return napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns);
}
