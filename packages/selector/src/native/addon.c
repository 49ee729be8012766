/* The module: registers each concern's functions on the exports. Plain C on node_api.h.
 *   sockets.c    raw non-blocking socket calls on descriptors
 *   selectors.c  select, poll and epoll as JS objects (over backend.c)
 *   driver.c     the server loop (loop.c) run from the worker's libuv loop
 *   constants.c  the named numbers of protocol.h, mirrored in src/internal/protocol.ts */
#include <errno.h>
#include <sys/select.h>
#include "binding.h"

static napi_value init(napi_env env, napi_value exports) {
  NAPI_CALL(env, sockets_init(env, exports));
  NAPI_CALL(env, selectors_init(env, exports));
  NAPI_CALL(env, driver_init(env, exports));
  NAPI_CALL(env, constants_init(env, exports));
  napi_value v;
  NAPI_CALL(env, napi_create_int32(env, FD_SETSIZE, &v));
  NAPI_CALL(env, napi_set_named_property(env, exports, "FD_SETSIZE", v));
  NAPI_CALL(env, napi_create_int32(env, EAGAIN, &v));
  NAPI_CALL(env, napi_set_named_property(env, exports, "EAGAIN", v));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
