{
  # Builds the XDP object with clang, its libbpf skeleton with bpftool (both
  # into the build directory, never committed), then the addon that embeds it.
  "targets": [
    {
      "target_name": "breakwater_bpf",
      "type": "none",
      "actions": [
        {
          "action_name": "bpf_object",
          "inputs": [
            "bpf/breakwater.bpf.c", "bpf/breakwater.h", "bpf/maps.bpf.h",
            "bpf/parsing.bpf.h", "bpf/counters.bpf.h", "bpf/rules.bpf.h",
            "bpf/samples.bpf.h", "bpf/bits.bpf.h"
          ],
          "outputs": [
            "<(SHARED_INTERMEDIATE_DIR)/breakwater.bpf.o",
            "<(SHARED_INTERMEDIATE_DIR)/breakwater.skel.h"
          ],
          "action": [
            "sh", "scripts/build-bpf.sh", "bpf/breakwater.bpf.c",
            "<(SHARED_INTERMEDIATE_DIR)/breakwater.bpf.o",
            "<(SHARED_INTERMEDIATE_DIR)/breakwater.skel.h"
          ]
        }
      ]
    },
    {
      "target_name": "breakwater",
      "dependencies": ["breakwater_bpf"],
      "sources": [
        "native/addon.cc", "native/program.cc", "native/adopt.cc", "native/maps.cc",
        "native/rules.cc", "native/prefix-index.cc", "native/rule-key.cc", "native/samples.cc",
        "native/errors.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<(SHARED_INTERMEDIATE_DIR)",
        "bpf"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
      "libraries": ["-lbpf", "-lelf", "-lz"]
    }
  ]
}
