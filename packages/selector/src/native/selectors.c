/* The three selectors as JS objects: an external wrapping a backend_t (backend.c), freed when
 * JS drops it. */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include "backend.h"
#include "binding.h"
#include "protocol.h"
#include "uring.h"

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
    return throw_errno(env, kind == KIND_EPOLL ? "epoll_create1" : kind == KIND_IO_URING ? "io_uring_setup" : "selector", -r);
  }
  napi_value ext;
  napi_status st = napi_create_external(env, b, backend_finalize, NULL, &ext);
  if (st != napi_ok) {
    be_close(b);
    free(b);
    echo_throw_napi(env, st, "napi_create_external(selector)");
    return NULL;
  }
  return ext;
}

static const char *ctl_syscall(const backend_t *b) {
  return b->kind == KIND_EPOLL ? "epoll_ctl" : b->kind == KIND_POLL ? "poll" : b->kind == KIND_IO_URING ? "io_uring_enter" : "select";
}

static const char *wait_syscall(const backend_t *b) {
  return b->kind == KIND_EPOLL ? "epoll_wait" : b->kind == KIND_POLL ? "poll" : b->kind == KIND_IO_URING ? "io_uring_enter" : "select";
}

/* selCtl(handle, op: enum echo_sel_op, fd, events) */
static napi_value js_sel_ctl(napi_env env, napi_callback_info info) {
  ARGS(4);
  backend_t *b = arg_backend(env, argv[0]);
  int32_t op, fd, events = 0;
  if (!b || arg_int(env, argv[1], &op) || arg_int(env, argv[2], &fd)) return throw_errno(env, "selector", EINVAL);
  if (arg_int(env, argv[3], &events)) events = 0;
  int r;
  switch ((enum echo_sel_op)op) {
    case ECHO_SEL_REGISTER: r = be_add(b, fd, events); break;
    case ECHO_SEL_MODIFY: r = be_mod(b, fd, events); break;
    case ECHO_SEL_UNREGISTER: r = be_del(b, fd); break;
    default: return throw_invalid(env, "selCtl(handle, op, fd, events): op is not a SelOp");
  }
  if (r < 0) return throw_errno(env, ctl_syscall(b), -r);
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
  if (len < 2 || len / 2 > INT32_MAX) return throw_invalid(env, "selWait(handle, timeoutMs, out): out must hold at least one [fd, events] pair");
  int max = (int)(len / 2);
  sel_event_t *evs = malloc(sizeof *evs * (size_t)max);
  if (!evs) return throw_errno(env, "selector", ENOMEM);
  /* As Python's selectors since PEP 475: a wait interrupted by a signal (be_wait returns 0 on
   * EINTR) is retried for the time that is left, so select(timeout) returns nothing only once
   * the timeout has passed. */
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int n, left = timeout;
  for (;;) {
    n = be_wait(b, left, evs, max);
    if (n != 0 || timeout == 0) break;
    if (timeout > 0) {
      clock_gettime(CLOCK_MONOTONIC, &t1);
      int64_t spent = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
      if (spent >= timeout) break;
      left = timeout - (int)spent;
    }
  }
  if (n < 0) {
    free(evs);
    return throw_errno(env, wait_syscall(b), -n);
  }
  assert(n <= max);
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

/* selFileno(handle) -> the epoll or io_uring descriptor, or -1 for poll and select */
static napi_value js_sel_fileno(napi_env env, napi_callback_info info) {
  ARGS(1);
  backend_t *b = arg_backend(env, argv[0]);
  if (b && !b->closed && b->ur) return int_value(env, ur_fd(b));
  return int_value(env, b && !b->closed ? b->epfd : -1);
}

/* ioUringUnavailable() -> null when this kernel and process may use io_uring, else the reason */
static napi_value js_io_uring_unavailable(napi_env env, napi_callback_info info) {
  (void)info;
  const char *why = ur_unavailable();
  napi_value v;
  if (why) NAPI_CALL(env, napi_create_string_utf8(env, why, NAPI_AUTO_LENGTH, &v));
  else NAPI_CALL(env, napi_get_null(env, &v));
  return v;
}

napi_status selectors_init(napi_env env, napi_value exports) {
  napi_property_descriptor fns[] = {
    EXPORT_FN("selCreate", js_sel_create),
    EXPORT_FN("selCtl", js_sel_ctl),
    EXPORT_FN("selWait", js_sel_wait),
    EXPORT_FN("selClose", js_sel_close),
    EXPORT_FN("selFileno", js_sel_fileno),
    EXPORT_FN("ioUringUnavailable", js_io_uring_unavailable),
  };
  return napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns);
}
