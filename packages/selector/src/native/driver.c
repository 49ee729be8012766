/* The loop driver: runs the server loop (loop.c) from the worker thread's own libuv loop and
 * hands each batch of records to JS. loopCreate, loopWrite, loopConn, loopControl. */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>
#include <uv.h>
#include "binding.h"
#include "loop.h"
#include "protocol.h"

typedef struct server {
  loop_t L;
  napi_env env;
  napi_ref cb, inref, recref, statsref, sharedref;
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
  assert(s->handles_open > 0);
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

/* Frees the loop and its libuv handles, and lets go of the JS values it held. */
static void free_server(napi_env env, server_t *s) {
  stop_server(s);
  napi_delete_reference(env, s->cb);
  napi_delete_reference(env, s->inref);
  napi_delete_reference(env, s->recref);
  napi_delete_reference(env, s->statsref);
  if (s->sharedref) napi_delete_reference(env, s->sharedref);
  napi_async_destroy(env, s->actx);
  s->cb = s->inref = s->recref = s->statsref = s->sharedref = NULL;
  s->actx = NULL;
}

static void async_cleanup(napi_async_cleanup_hook_handle handle, void *arg) {
  (void)handle;
  stop_server(arg);
}

static void server_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  server_t *s = data;
  assert(!s->finalized);
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
  assert(n <= s->L.rec_cap);
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, global, arg, result;
  if (napi_get_reference_value(env, s->cb, &cb) != napi_ok || cb == NULL || napi_get_global(env, &global) != napi_ok ||
      napi_create_int32(env, n, &arg) != napi_ok) {
    assert(!"a running loop holds its callback");
    napi_close_handle_scope(env, scope);
    return;
  }
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

/* Undoes a loopCreate that failed before its libuv handles started (the listening descriptor
 * stays open: the caller still owns it). */
static void abandon(server_t *s) {
  napi_env env = s->env;
  if (s->cb) napi_delete_reference(env, s->cb);
  if (s->inref) napi_delete_reference(env, s->inref);
  if (s->recref) napi_delete_reference(env, s->recref);
  if (s->statsref) napi_delete_reference(env, s->statsref);
  if (s->actx) napi_async_destroy(env, s->actx);
  be_close(&s->L.be);
  if (s->L.spare >= 0) close(s->L.spare);
  free(s);
}

#define OR_ABANDON(call)                   \
  do {                                     \
    napi_status st_ = (call);              \
    if (st_ != napi_ok) {                  \
      echo_throw_napi(env, st_, #call);    \
      abandon(s);                          \
      return NULL;                         \
    }                                      \
  } while (0)

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
      arg_typed(env, argv[6], napi_uint8_array, &in, &inlen) || arg_typed(env, argv[7], napi_int32_array, &rec, &reclen) ||
      arg_typed(env, argv[8], napi_float64_array, &stats, &statslen) || statslen < ST_COUNT || reclen < REC_INTS * REC_MIN) {
    return throw_invalid(env, "loopCreate: bad arguments");
  }
  uv_loop_t *uv;
  NAPI_CALL(env, napi_get_uv_event_loop(env, (struct uv_loop_s **)&uv));
  server_t *s = calloc(1, sizeof *s);
  if (!s) return throw_errno(env, "loopCreate", ENOMEM);
  s->env = env;
  s->uv = uv;
  s->L.spare = -1;
  int r = loop_init(&s->L, kind, lfd, uv_backend_fd(s->uv));
  if (r < 0) {
    abandon(s);
    return throw_errno(env, kind == KIND_IO_URING ? "io_uring_setup" : "loopCreate", -r);
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
  napi_valuetype cbtype;
  OR_ABANDON(napi_typeof(env, argv[9], &cbtype));
  if (cbtype != napi_function) {
    abandon(s);
    return throw_invalid(env, "loopCreate: bad arguments");
  }
  OR_ABANDON(napi_create_reference(env, argv[6], 1, &s->inref));
  OR_ABANDON(napi_create_reference(env, argv[7], 1, &s->recref));
  OR_ABANDON(napi_create_reference(env, argv[8], 1, &s->statsref));
  OR_ABANDON(napi_create_reference(env, argv[9], 1, &s->cb));
  napi_value name;
  OR_ABANDON(napi_create_string_utf8(env, "echo-selector-loop", NAPI_AUTO_LENGTH, &name));
  OR_ABANDON(napi_async_init(env, NULL, name, &s->actx));
  napi_value ext;
  OR_ABANDON(napi_create_external(env, s, server_finalize, NULL, &ext));
  /* From here the external owns s: server_finalize and handle_closed free it. */
  uv_prepare_init(s->uv, &s->prepare);
  uv_idle_init(s->uv, &s->idle);
  s->prepare.data = s;
  s->idle.data = s;
  s->handles_open = 2;
  s->running = 1;
  uv_prepare_start(&s->prepare, on_prepare);
  uv_idle_start(&s->idle, on_idle);
  napi_status st = napi_add_async_cleanup_hook(env, async_cleanup, s, &s->cleanup);
  if (st != napi_ok) {
    free_server(env, s);
    echo_throw_napi(env, st, "napi_add_async_cleanup_hook");
    return NULL;
  }
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
    return throw_invalid(env, "loopWrite: bad arguments");
  }
  return int_value(env, loop_write(&s->L, fd, id, p, n));
}

/* loopConn(handle, op: enum echo_conn_op, fd, id, arg) */
static napi_value js_loop_conn(napi_env env, napi_callback_info info) {
  ARGS(5);
  server_t *s = arg_server(env, argv[0]);
  int32_t op, fd, id, arg = 0;
  if (!s || arg_int(env, argv[1], &op) || arg_int(env, argv[2], &fd) || arg_int(env, argv[3], &id)) {
    return throw_invalid(env, "loopConn: bad arguments");
  }
  if (argc > 4 && arg_int(env, argv[4], &arg)) arg = 0;
  long r;
  switch ((enum echo_conn_op)op) {
    case ECHO_CONN_END: r = loop_end(&s->L, fd, id); break;
    case ECHO_CONN_DESTROY: r = loop_destroy(&s->L, fd, id); break;
    case ECHO_CONN_PAUSE: r = loop_pause(&s->L, fd, id, arg); break;
    case ECHO_CONN_PENDING: r = loop_pending(&s->L, fd, id); break;
    default: return throw_invalid(env, "loopConn: op is not a ConnOp");
  }
  return int_value(env, r);
}

/* loopControl(handle, op: enum echo_loop_control); a freed loop ignores it. */
static napi_value js_loop_control(napi_env env, napi_callback_info info) {
  ARGS(2);
  server_t *s = arg_server(env, argv[0]);
  int32_t op;
  if (!s || arg_int(env, argv[1], &op)) return NULL;
  switch ((enum echo_loop_control)op) {
    case ECHO_LOOP_STOP_ACCEPTING: loop_stop_accepting(&s->L); break;
    case ECHO_LOOP_DESTROY_ALL: loop_destroy_all(&s->L); break;
    case ECHO_LOOP_FREE: free_server(env, s); break;
    default: return throw_invalid(env, "loopControl: op is not a LoopControl");
  }
  assert(op != ECHO_LOOP_FREE || s->freed);
  return NULL;
}

/* loopExclusiveAccept(handle) -> 0 or -errno: see loop_exclusive_accept. */
static napi_value js_loop_exclusive_accept(napi_env env, napi_callback_info info) {
  ARGS(1);
  server_t *s = arg_server(env, argv[0]);
  if (!s) return throw_invalid(env, "loopExclusiveAccept: bad arguments");
  return int_value(env, loop_exclusive_accept(&s->L));
}

/* loopShareLimit(handle, counter Int32Array) -> 0: maxConnections counts the connections of
 * every loop given the same counter (a SharedArrayBuffer), not this loop's alone. */
static napi_value js_loop_share_limit(napi_env env, napi_callback_info info) {
  ARGS(2);
  server_t *s = arg_server(env, argv[0]);
  void *p;
  size_t n;
  if (!s || s->sharedref || arg_typed(env, argv[1], napi_int32_array, &p, &n) || n < 1) return throw_invalid(env, "loopShareLimit: bad arguments");
  NAPI_CALL(env, napi_create_reference(env, argv[1], 1, &s->sharedref));
  s->L.shared_active = p;
  return int_value(env, 0);
}

napi_status driver_init(napi_env env, napi_value exports) {
  napi_property_descriptor fns[] = {
    EXPORT_FN("loopCreate", js_loop_create),
    EXPORT_FN("loopWrite", js_loop_write),
    EXPORT_FN("loopConn", js_loop_conn),
    EXPORT_FN("loopControl", js_loop_control),
    EXPORT_FN("loopExclusiveAccept", js_loop_exclusive_accept),
    EXPORT_FN("loopShareLimit", js_loop_share_limit),
  };
  return napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns);
}
