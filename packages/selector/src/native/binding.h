/* What the JS-facing files share: Node-API status checks, argument readers and errors thrown
 * the way Node's own system errors look (`code` from libuv's uv_err_name, `errno`, `syscall`). */
#ifndef ECHO_BINDING_H
#define ECHO_BINDING_H
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <stddef.h>
#include <stdint.h>
#include <node_api.h>

/* A Node-API call that must succeed. When it does not (a caller passed something unusable, or
 * an exception is pending), the binding returns with a JS error thrown instead of crashing. */
#define NAPI_CALL(env, call)                          \
  do {                                                \
    napi_status echo_status_ = (call);                \
    if (echo_status_ != napi_ok) {                    \
      echo_throw_napi((env), echo_status_, #call);    \
      return NULL;                                    \
    }                                                 \
  } while (0)

/* argc/argv of a binding taking up to n arguments. */
#define ARGS(n)        \
  size_t argc = n;     \
  napi_value argv[n];  \
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))

/* One exported function. */
#define EXPORT_FN(name, fn) { name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL }

/* Throws `Error` (code ECHO_ERR_NATIVE) for a failed Node-API call, unless one is pending. */
void echo_throw_napi(napi_env env, napi_status status, const char *call);
/* Throws a system error for errno `err` (positive): code as uv_err_name, errno -err. */
napi_value throw_errno(napi_env env, const char *syscall, int err);
/* Throws `TypeError` (code ECHO_ERR_INVALID_ARG). */
napi_value throw_invalid(napi_env env, const char *message);

napi_value int_value(napi_env env, int64_t v);
/* 0 when v is a number (read as int32), else -1. */
int arg_int(napi_env env, napi_value v, int32_t *out);
/* A Uint8Array (Buffer): 0 and its bytes, else -1. */
int arg_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len);
/* A typed array of exactly type `want`: 0 and its elements, else -1. */
int arg_typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len);
/* 0 and the string copied into buf, 1 when v is not a string (absent), -1 when it does not fit. */
int arg_str(napi_env env, napi_value v, char *buf, size_t cap);

/* Each concern adds its functions to the module's exports. */
napi_status sockets_init(napi_env env, napi_value exports);
napi_status selectors_init(napi_env env, napi_value exports);
napi_status driver_init(napi_env env, napi_value exports);
/* The named numbers of protocol.h as { SelOp: { REGISTER: 0, ... }, ... }. */
napi_status constants_init(napi_env env, napi_value exports);
#endif
