{
  "targets": [
    {
      "target_name": "tsvisor_native",
      "sources": ["src/addon.c", "src/ptrace.c", "src/mem.c", "src/fd.c", "src/ns.c", "src/pty.c", "src/runtime.c", "src/confine.c", "src/net.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    }
  ]
}
