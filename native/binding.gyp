{
  "targets": [
    {
      "target_name": "tsvisor_native",
      "sources": ["src/addon.c", "src/ptrace.c", "src/mem.c", "src/fd.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    }
  ]
}
