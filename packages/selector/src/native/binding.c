#include "binding.h"
#include <stdio.h>
#include <string.h>
#include <uv.h>

void echo_throw_napi(napi_env env, napi_status status, const char *call) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) return;
  const napi_extended_error_info *info = NULL;
  const char *why = napi_get_last_error_info(env, &info) == napi_ok && info && info->error_message ? info->error_message : "failed";
  char msg[512];
  snprintf(msg, sizeof msg, "Node-API call failed (status %d, %s): %s", (int)status, why, call);
  napi_throw_error(env, "ECHO_ERR_NATIVE", msg);
}

napi_value throw_errno(napi_env env, const char *syscall, int err) {
  /* libuv's names are Node's (util.getSystemErrorName): on Unix UV_E<name> is -E<name>, and an
   * errno libuv does not know is "Unknown system error -<n>", never a wrong name. */
  char name[64], msg[256];
  uv_err_name_r(-err, name, sizeof name);
  snprintf(msg, sizeof msg, "%s: %s", syscall, strerror(err));
  napi_value code, message, error, sys, num;
  NAPI_CALL(env, napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code));
  NAPI_CALL(env, napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message));
  NAPI_CALL(env, napi_create_error(env, code, message, &error));
  NAPI_CALL(env, napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys));
  NAPI_CALL(env, napi_set_named_property(env, error, "syscall", sys));
  NAPI_CALL(env, napi_create_int32(env, -err, &num));
  NAPI_CALL(env, napi_set_named_property(env, error, "errno", num));
  napi_throw(env, error);
  return NULL;
}

napi_value throw_invalid(napi_env env, const char *message) {
  napi_throw_type_error(env, "ECHO_ERR_INVALID_ARG", message);
  return NULL;
}

napi_value int_value(napi_env env, int64_t v) {
  napi_value r;
  NAPI_CALL(env, napi_create_int64(env, v, &r));
  return r;
}

int arg_int(napi_env env, napi_value v, int32_t *out) {
  return napi_get_value_int32(env, v, out) == napi_ok ? 0 : -1;
}

int arg_typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len) {
  napi_typedarray_type type;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, len, data, &ab, &off) != napi_ok || type != want) return -1;
  return 0;
}

int arg_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  void *p;
  if (arg_typed(env, v, napi_uint8_array, &p, len)) return -1;
  *data = p;
  return 0;
}

int arg_str(napi_env env, napi_value v, char *buf, size_t cap) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return -1;
  if (t != napi_string) return 1;
  size_t n;
  if (napi_get_value_string_utf8(env, v, buf, cap, &n) != napi_ok) return -1;
  return n + 1 >= cap ? -1 : 0;
}
