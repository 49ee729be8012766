{
  "targets": [
    {
      "target_name": "echo_selector",
      "sources": [
        "src/native/addon.c",
        "src/native/binding.c",
        "src/native/constants.c",
        "src/native/sockets.c",
        "src/native/selectors.c",
        "src/native/driver.c",
        "src/native/backend.c",
        "src/native/loop.c",
        "src/native/uring.c",
        "src/native/backend_uring.c",
        "src/native/loop_uring.c"
      ],
      "cflags": ["-O2", "-std=gnu11", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
