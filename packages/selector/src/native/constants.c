/* The addon's `constants`: every enum of protocol.h under the name of its mirror in
 * src/internal/protocol.ts, so a test can compare the two sides whole. */
#include <stddef.h>
#include "binding.h"
#include "protocol.h"

typedef struct { const char *name; int value; } named_t;
typedef struct { const char *name; const named_t *items; size_t count; } group_t;

#define N(name, value) { name, value }
#define GROUP(name, items) { name, items, sizeof items / sizeof items[0] }

static const named_t sel_op[] = { N("REGISTER", ECHO_SEL_REGISTER), N("MODIFY", ECHO_SEL_MODIFY), N("UNREGISTER", ECHO_SEL_UNREGISTER) };
static const named_t conn_op[] = { N("END", ECHO_CONN_END), N("DESTROY", ECHO_CONN_DESTROY), N("PAUSE", ECHO_CONN_PAUSE), N("PENDING", ECHO_CONN_PENDING) };
static const named_t loop_control[] = { N("STOP_ACCEPTING", ECHO_LOOP_STOP_ACCEPTING), N("DESTROY_ALL", ECHO_LOOP_DESTROY_ALL), N("FREE", ECHO_LOOP_FREE) };
static const named_t shutdown_how[] = { N("READ", ECHO_SHUT_READ), N("WRITE", ECHO_SHUT_WRITE), N("BOTH", ECHO_SHUT_BOTH) };
static const named_t kind[] = { N("EPOLL", KIND_EPOLL), N("POLL", KIND_POLL), N("SELECT", KIND_SELECT), N("IO_URING", KIND_IO_URING) };
static const named_t event[] = { N("READ", SEL_READ), N("WRITE", SEL_WRITE) };
static const named_t record[] = {
  N("ACCEPT", REC_ACCEPT), N("DATA", REC_DATA), N("EOF", REC_EOF), N("DRAIN", REC_DRAIN), N("CLOSE", REC_CLOSE), N("FDSETSIZE", REC_FDSETSIZE),
};
static const named_t rec_field[] = { N("TYPE", REC_TYPE), N("FD", REC_FD), N("ID", REC_ID), N("A", REC_A), N("B", REC_B), N("C", REC_C) };
static const named_t family[] = { N("UNIX", ECHO_FAMILY_UNIX), N("IPV4", ECHO_FAMILY_IPV4), N("IPV6", ECHO_FAMILY_IPV6) };
static const named_t close_reason[] = { N("NORMAL", ECHO_CLOSE_NORMAL), N("IDLE", ECHO_CLOSE_IDLE) };
static const named_t stat[] = {
  N("ACCEPTED", ST_ACCEPTED), N("ACTIVE", ST_ACTIVE), N("QUEUED", ST_QUEUED), N("CLOSED", ST_CLOSED), N("REJECTED", ST_REJECTED),
  N("BYTES_IN", ST_BYTES_IN), N("BYTES_OUT", ST_BYTES_OUT), N("ERRORS", ST_ERRORS), N("TIMEOUTS", ST_TIMEOUTS), N("BUFFERED", ST_BUFFERED),
  N("ACCEPT_ERRORS", ST_ACCEPT_ERRORS), N("PROXY_REJECTED", ST_PROXY_REJECTED),
  N("COUNT", ST_COUNT),
};
static const named_t layout[] = { N("REC_INTS", REC_INTS), N("REC_MIN", REC_MIN) };

static const group_t groups[] = {
  GROUP("SelOp", sel_op), GROUP("ConnOp", conn_op), GROUP("LoopControl", loop_control), GROUP("Shutdown", shutdown_how),
  GROUP("Kind", kind), GROUP("Event", event), GROUP("RecField", rec_field), GROUP("Rec", record), GROUP("Family", family),
  GROUP("CloseReason", close_reason), GROUP("Stat", stat), GROUP("Layout", layout),
};

#define STATUS(call)                          \
  do {                                        \
    napi_status s_ = (call);                  \
    if (s_ != napi_ok) return s_;             \
  } while (0)

napi_status constants_init(napi_env env, napi_value exports) {
  napi_value all, obj, v;
  STATUS(napi_create_object(env, &all));
  for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
    STATUS(napi_create_object(env, &obj));
    for (size_t i = 0; i < groups[g].count; i++) {
      STATUS(napi_create_int32(env, groups[g].items[i].value, &v));
      STATUS(napi_set_named_property(env, obj, groups[g].items[i].name, v));
    }
    STATUS(napi_object_freeze(env, obj));
    STATUS(napi_set_named_property(env, all, groups[g].name, obj));
  }
  STATUS(napi_object_freeze(env, all));
  return napi_set_named_property(env, exports, "constants", all);
}
