{
  "targets": [
    {
      "target_name": "archlab_blas",
      "sources": ["src/engine/native/blas.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror"],
      "defines": ["NAPI_VERSION=8"],
      "libraries": ["-lopenblas", "-lm"],
      "conditions": [
        ["target_arch == 'x64'", { "defines": ["ARCHLAB_MVEC"], "libraries": ["-lmvec"] }]
      ]
    }
  ]
}
