/*
 * archlab's optional native kernels for large runs: a thin Node-API binding to maintained libraries.
 * It adds nothing of its own to the arithmetic:
 * - gemm: one sgemm or dgemm of the system's CBLAS (OpenBLAS on Debian: libopenblas-dev),
 *   `C[cOff + i·ldc + j] += Σ_k A[aOff + i·K + k] · W[j·K + k]` (C += A Wᵀ, W stored [N, K] as
 *   archlab stores weights), straight on the typed arrays' memory — no copies;
 * - unary: the logistic sigmoid `1 / (1 + exp(−x))` and `tanh(x)` over an array, in double
 *   precision (as archlab's JavaScript computes them), with glibc's vector math library (libmvec,
 *   4 doubles per call, within 4 ulp) on x86-64 CPUs with AVX2, else glibc's scalar exp and tanh;
 * - conv2d: an NHWC float32 convolution as one sgemm per block of output rows, after copying each
 *   output pixel's input taps side by side (im2col: copies and zeros only, no arithmetic);
 * - narrow: float64 values rounded to float32 (a C cast, to nearest as Math.fround).
 *
 * Every offset and length is checked against the arrays before BLAS touches them, so a wrong call
 * is a RangeError or TypeError in JavaScript, never a write outside an array.
 */
#include <cblas.h>
#include <math.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* OpenBLAS's own controls (declared in its cblas.h; repeated here so another CBLAS fails to link, not to compile oddly). */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_config(void);

#define CHECK(env, call)                                                                          \
  do {                                                                                            \
    if ((call) != napi_ok) {                                                                      \
      napi_throw_error((env), "ARCHLAB_NATIVE", "archlab native BLAS: a Node-API call failed");  \
      return NULL;                                                                                \
    }                                                                                             \
  } while (0)

typedef struct {
  napi_typedarray_type type;
  size_t length;
  void *data;
} Array;

static int array_arg(napi_env env, napi_value v, const char *fn, const char *name, Array *out) {
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s: %s must be a Float32Array or Float64Array", fn, name);
    napi_throw_type_error(env, "ARCHLAB_NATIVE", msg);
    return 0;
  }
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &out->type, &out->length, &out->data, &buffer, &offset) != napi_ok) return 0;
  if (out->type != napi_float32_array && out->type != napi_float64_array) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s: %s must be a Float32Array or Float64Array", fn, name);
    napi_throw_type_error(env, "ARCHLAB_NATIVE", msg);
    return 0;
  }
  return 1;
}

static int int_arg(napi_env env, napi_value v, const char *fn, const char *name, int64_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || d != (double)(int64_t)d || d < 0 || d > 2147483647.0) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s: %s must be an integer in [0, 2^31)", fn, name);
    napi_throw_range_error(env, "ARCHLAB_NATIVE", msg);
    return 0;
  }
  *out = (int64_t)d;
  return 1;
}

/* Reads exactly n arguments into argv; else throws "<usage> takes <n> arguments" and returns 0. */
static int exact_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv, const char *usage) {
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    napi_throw_error(env, "ARCHLAB_NATIVE", "archlab native BLAS: a Node-API call failed");
    return 0;
  }
  if (argc == n) return 1;
  char msg[96];
  snprintf(msg, sizeof msg, "%s takes %zu arguments", usage, n);
  napi_throw_type_error(env, "ARCHLAB_NATIVE", msg);
  return 0;
}

/* gemm(A, aOff, M, K, W, N, C, cOff, ldc) */
static napi_value gemm(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  if (!exact_args(env, info, 9, argv, "gemm(A, aOff, M, K, W, N, C, cOff, ldc)")) return NULL;
  Array A, W, C;
  int64_t aOff, M, K, N, cOff, ldc;
  if (!array_arg(env, argv[0], "gemm", "A", &A) || !int_arg(env, argv[1], "gemm", "aOff", &aOff) || !int_arg(env, argv[2], "gemm", "M", &M) ||
      !int_arg(env, argv[3], "gemm", "K", &K) || !array_arg(env, argv[4], "gemm", "W", &W) || !int_arg(env, argv[5], "gemm", "N", &N) ||
      !array_arg(env, argv[6], "gemm", "C", &C) || !int_arg(env, argv[7], "gemm", "cOff", &cOff) || !int_arg(env, argv[8], "gemm", "ldc", &ldc))
    return NULL;
  if (A.type != W.type || A.type != C.type) {
    napi_throw_type_error(env, "ARCHLAB_NATIVE", "gemm: A, W and C must all be Float32Array or all Float64Array");
    return NULL;
  }
  if (M == 0 || N == 0) return NULL;
  if (ldc < N) {
    char msg[96];
    snprintf(msg, sizeof msg, "gemm: ldc (%lld) must be at least N (%lld)", (long long)ldc, (long long)N);
    napi_throw_range_error(env, "ARCHLAB_NATIVE", msg);
    return NULL;
  }
  if ((uint64_t)aOff + (uint64_t)M * K > A.length || (uint64_t)N * K > W.length ||
      (uint64_t)cOff + (uint64_t)(M - 1) * ldc + N > C.length) {
    char msg[256];
    snprintf(msg, sizeof msg,
             "gemm: out of bounds (A: %zu values, needs %lld; W: %zu, needs %lld; C: %zu, needs %lld)", A.length,
             (long long)(aOff + M * K), W.length, (long long)(N * K), C.length, (long long)(cOff + (M - 1) * ldc + N));
    napi_throw_range_error(env, "ARCHLAB_NATIVE", msg);
    return NULL;
  }
  if (K == 0) return NULL;
  if (A.type == napi_float32_array)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)N, (int)K, 1.0f, (const float *)A.data + aOff, (int)K,
                (const float *)W.data, (int)K, 1.0f, (float *)C.data + cOff, (int)ldc);
  else
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)N, (int)K, 1.0, (const double *)A.data + aOff, (int)K,
                (const double *)W.data, (int)K, 1.0, (double *)C.data + cOff, (int)ldc);
  return NULL;
}

#ifdef ARCHLAB_MVEC
#include <immintrin.h>
/* glibc libmvec's AVX2 variants (the vector-function ABI names GCC itself calls under -ffast-math). */
__m256d _ZGVdN4v_exp(__m256d);
__m256d _ZGVdN4v_tanh(__m256d);

#define VECTOR_LOOP(load, store)                                                                         \
  for (; k + 4 <= n; k += 4) {                                                                           \
    __m256d x = load;                                                                                    \
    __m256d y = op == 0 ? _mm256_div_pd(one, _mm256_add_pd(one, _ZGVdN4v_exp(_mm256_sub_pd(zero, x)))) \
                        : _ZGVdN4v_tanh(x);                                                              \
    store;                                                                                               \
  }

__attribute__((target("avx2"))) static size_t unary_avx2(int op, const void *in, void *out, int is32, size_t n) {
  const __m256d one = _mm256_set1_pd(1.0), zero = _mm256_setzero_pd();
  size_t k = 0;
  if (is32) {
    const float *a = in;
    float *o = out;
    VECTOR_LOOP(_mm256_cvtps_pd(_mm_loadu_ps(a + k)), _mm_storeu_ps(o + k, _mm256_cvtpd_ps(y)))
  } else {
    const double *a = in;
    double *o = out;
    VECTOR_LOOP(_mm256_loadu_pd(a + k), _mm256_storeu_pd(o + k, y))
  }
  return k;
}

/* How many leading values the vector loop computed (a multiple of 4): none where the CPU lacks AVX2. */
/* Whether this CPU has AVX2 (with FMA too, when `fma`): asked once, for every vector kernel. */
static int cpu_avx2(int fma) {
  static int avx2 = -1, with_fma = -1;
  if (avx2 < 0) {
    __builtin_cpu_init();
    avx2 = __builtin_cpu_supports("avx2");
    with_fma = avx2 && __builtin_cpu_supports("fma");
  }
  return fma ? with_fma : avx2;
}

static size_t vector_prefix(int op, const void *in, void *out, int is32, size_t n) {
  return cpu_avx2(0) ? unary_avx2(op, in, out, is32, n) : 0;
}
#else
static size_t vector_prefix(int op, const void *in, void *out, int is32, size_t n) {
  (void)op, (void)in, (void)out, (void)is32, (void)n;
  return 0;
}
#endif

/* unary(op, A, aOff, O, oOff, n): O[oOff + k] = f(A[aOff + k]) for k < n; op 0 = sigmoid, 1 = tanh. */
static napi_value unary(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!exact_args(env, info, 6, argv, "unary(op, A, aOff, O, oOff, n)")) return NULL;
  int64_t op, aOff, oOff, n;
  Array A, O;
  if (!int_arg(env, argv[0], "unary", "op", &op) || !array_arg(env, argv[1], "unary", "A", &A) || !int_arg(env, argv[2], "unary", "aOff", &aOff) ||
      !array_arg(env, argv[3], "unary", "O", &O) || !int_arg(env, argv[4], "unary", "oOff", &oOff) || !int_arg(env, argv[5], "unary", "n", &n))
    return NULL;
  if (op > 1) {
    napi_throw_range_error(env, "ARCHLAB_NATIVE", "unary: op must be 0 (sigmoid) or 1 (tanh)");
    return NULL;
  }
  if (A.type != O.type) {
    napi_throw_type_error(env, "ARCHLAB_NATIVE", "unary: A and O must both be Float32Array or both Float64Array");
    return NULL;
  }
  if ((uint64_t)aOff + n > A.length || (uint64_t)oOff + n > O.length) {
    char msg[160];
    snprintf(msg, sizeof msg, "unary: out of bounds (A: %zu values, needs %lld; O: %zu, needs %lld)", A.length,
             (long long)(aOff + n), O.length, (long long)(oOff + n));
    napi_throw_range_error(env, "ARCHLAB_NATIVE", msg);
    return NULL;
  }
  int is32 = A.type == napi_float32_array;
  size_t size = is32 ? sizeof(float) : sizeof(double);
  const char *in = (const char *)A.data + aOff * size;
  char *out = (char *)O.data + oOff * size;
  for (size_t k = vector_prefix((int)op, in, out, is32, (size_t)n); k < (size_t)n; k++) {
    double x = is32 ? ((const float *)in)[k] : ((const double *)in)[k];
    double y = op == 0 ? 1.0 / (1.0 + exp(-x)) : tanh(x);
    if (is32)
      ((float *)out)[k] = (float)y;
    else
      ((double *)out)[k] = y;
  }
  return NULL;
}

/* setThreads(n): threads OpenBLAS may use for one product (process-wide). Returns the previous count. */
static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  int64_t n;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 1 || !int_arg(env, argv[0], "setThreads", "threads", &n)) return NULL;
  int previous = openblas_get_num_threads();
  if (n >= 1 && n != previous) openblas_set_num_threads((int)n);
  CHECK(env, napi_create_int32(env, previous, &out));
  return out;
}

/* info(): { config: OpenBLAS's description of its build, threads: its threads per product }. */
static napi_value info(napi_env env, napi_callback_info cb) {
  napi_value out, config, threads;
  (void)cb;
  const char *c = openblas_get_config();
  CHECK(env, napi_create_object(env, &out));
  CHECK(env, napi_create_string_utf8(env, c ? c : "", NAPI_AUTO_LENGTH, &config));
  CHECK(env, napi_create_int32(env, openblas_get_num_threads(), &threads));
  CHECK(env, napi_set_named_property(env, out, "config", config));
  CHECK(env, napi_set_named_property(env, out, "threads", threads));
  return out;
}

/* ───────────────── conv2d and narrow: the language's fast path (the zoo's convolutions) ───────────────── */

/*
 * conv2d(X, Wt, Out, geometry), geometry = [B, H, W, C, KH, KW, CO, stride, padTop, padLeft, dilation, OH, OW]:
 * Out[b, oy, ox, co] = Σ X[b, oy·stride − padTop + ky·dilation, ox·stride − padLeft + kx·dilation, c] · Wt[ky, kx, c, co]
 * over the taps inside the image (the rest is zero padding), all float32, row-major NHWC and
 * [KH, KW, C, CO] as archlab stores filters. Out is overwritten. A 1×1 stride-1 unpadded convolution
 * is one sgemm on X itself; any other copies each output pixel's taps (C contiguous values each in
 * NHWC) into a row of a column matrix, a block of output rows at a time (at most CONV_BLOCK floats),
 * and multiplies it by the filter viewed as [KH·KW·C, CO] — OpenBLAS's threads share the product.
 */
#define CONV_GEOMETRY 13
#define CONV_BLOCK ((size_t)1 << 23)


static napi_value conv2d(napi_env env, napi_callback_info info) {
  static const char *names[CONV_GEOMETRY] = {"B", "H", "W", "C", "KH", "KW", "CO", "stride", "padTop", "padLeft", "dilation", "OH", "OW"};
  napi_value argv[4];
  if (!exact_args(env, info, 4, argv, "conv2d(X, Wt, Out, geometry)")) return NULL;
  Array X, Wt, Out;
  if (!array_arg(env, argv[0], "conv2d", "X", &X) || !array_arg(env, argv[1], "conv2d", "Wt", &Wt) || !array_arg(env, argv[2], "conv2d", "Out", &Out)) return NULL;
  if (X.type != napi_float32_array || Wt.type != napi_float32_array || Out.type != napi_float32_array) {
    napi_throw_type_error(env, "ARCHLAB_NATIVE", "conv2d: X, Wt and Out must all be Float32Array");
    return NULL;
  }
  bool is_array;
  uint32_t n;
  if (napi_is_array(env, argv[3], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[3], &n) != napi_ok || n != CONV_GEOMETRY) {
    napi_throw_type_error(env, "ARCHLAB_NATIVE", "conv2d: geometry must be an array [B, H, W, C, KH, KW, CO, stride, padTop, padLeft, dilation, OH, OW]");
    return NULL;
  }
  int64_t g[CONV_GEOMETRY];
  for (uint32_t i = 0; i < CONV_GEOMETRY; i++) {
    napi_value v;
    CHECK(env, napi_get_element(env, argv[3], i, &v));
    if (!int_arg(env, v, "conv2d", names[i], &g[i])) return NULL;
  }
  const int64_t B = g[0], H = g[1], W = g[2], C = g[3], KH = g[4], KW = g[5], CO = g[6], stride = g[7], pt = g[8], pl = g[9], dil = g[10], OH = g[11], OW = g[12];
  if (stride < 1 || dil < 1) {
    napi_throw_range_error(env, "ARCHLAB_NATIVE", "conv2d: stride and dilation must be at least 1");
    return NULL;
  }
  /* Every factor is below 2^31, so each product of two fits; the three- and four-way ones are checked against the arrays as doubles first. */
  const double xNeed = (double)B * H * W * C, wNeed = (double)KH * KW * C * CO, oNeed = (double)B * OH * OW * CO;
  if (xNeed > (double)X.length || wNeed > (double)Wt.length || oNeed > (double)Out.length) {
    char msg[256];
    snprintf(msg, sizeof msg, "conv2d: out of bounds (X: %zu values, needs %.0f; Wt: %zu, needs %.0f; Out: %zu, needs %.0f)", X.length, xNeed,
             Wt.length, wNeed, Out.length, oNeed);
    napi_throw_range_error(env, "ARCHLAB_NATIVE", msg);
    return NULL;
  }
  const float *x = X.data, *w = Wt.data;
  float *out = Out.data;
  const int64_t K = KH * KW * C, M = B * OH * OW;
  if (M == 0 || CO == 0) return NULL;
  if (M > 2147483647 || K > 2147483647) {
    napi_throw_range_error(env, "ARCHLAB_NATIVE", "conv2d: B·OH·OW and KH·KW·C must each be below 2^31");
    return NULL;
  }
  if (K == 0) {
    memset(out, 0, (size_t)M * CO * sizeof(float));
    return NULL;
  }
  if (KH == 1 && KW == 1 && stride == 1 && pt == 0 && pl == 0 && OH == H && OW == W) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)CO, (int)C, 1.0f, x, (int)C, w, (int)CO, 0.0f, out, (int)CO);
    return NULL;
  }
  /* Output rows (one b, oy each) per block: as many as fit in CONV_BLOCK floats of columns, at least one. */
  const int64_t rowFloats = OW * K;
  int64_t rows = (int64_t)(CONV_BLOCK / (size_t)rowFloats);
  if (rows < 1) rows = 1;
  if (rows > B * OH) rows = B * OH;
  if ((double)rows * rowFloats > 2147483647.0) {
    napi_throw_range_error(env, "ARCHLAB_NATIVE", "conv2d: one output row's column matrix is too large (OW·KH·KW·C ≥ 2^31)");
    return NULL;
  }
  float *cols = malloc((size_t)(rows * rowFloats) * sizeof(float));
  if (!cols) {
    napi_throw_error(env, "ARCHLAB_NATIVE", "conv2d: out of memory for the column matrix");
    return NULL;
  }
  for (int64_t r0 = 0; r0 < B * OH; r0 += rows) {
    const int64_t nr = r0 + rows <= B * OH ? rows : B * OH - r0;
    float *row = cols;
    for (int64_t r = r0; r < r0 + nr; r++) {
      const int64_t b = r / OH, oy = r % OH;
      for (int64_t ox = 0; ox < OW; ox++)
        for (int64_t ky = 0; ky < KH; ky++, row += KW * C) {
          const int64_t y = oy * stride - pt + ky * dil, x0 = ox * stride - pl;
          /* The taps kx in [lo, hi) fall inside the image; without dilation they are KW·C contiguous floats of X. */
          int64_t lo = 0, hi = KW;
          while (lo < KW && x0 + lo * dil < 0) lo++;
          while (hi > lo && x0 + (hi - 1) * dil >= W) hi--;
          if (y < 0 || y >= H) lo = hi = KW;
          memset(row, 0, (size_t)(lo * C) * sizeof(float));
          memset(row + hi * C, 0, (size_t)((KW - hi) * C) * sizeof(float));
          if (hi == lo) continue;
          const float *first = x + ((b * H + y) * W + x0 + lo * dil) * C; /* tap lo: inside the image */
          if (dil == 1)
            memcpy(row + lo * C, first, (size_t)((hi - lo) * C) * sizeof(float));
          else
            for (int64_t kx = lo; kx < hi; kx++) memcpy(row + kx * C, first + (kx - lo) * dil * C, (size_t)C * sizeof(float));
        }
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(nr * OW), (int)CO, (int)K, 1.0f, cols, (int)K, w, (int)CO, 0.0f,
                out + r0 * OW * CO, (int)CO);
  }
  free(cols);
  return NULL;
}

/*
 * narrow(A, O): O[k] = A[k] rounded to float32 (to nearest, as Math.fround) for k < A.length, A a
 * Float64Array, O a Float32Array at least as long: a model's parameters on their way to the fast
 * path (~6× faster than `new Float32Array(A)` in V8, and it can write into tfjs-wasm's heap).
 */
static napi_value narrow(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!exact_args(env, info, 2, argv, "narrow(A, O)")) return NULL;
  Array A, O;
  if (!array_arg(env, argv[0], "narrow", "A", &A) || !array_arg(env, argv[1], "narrow", "O", &O)) return NULL;
  if (A.type != napi_float64_array || O.type != napi_float32_array) {
    napi_throw_type_error(env, "ARCHLAB_NATIVE", "narrow: A must be a Float64Array and O a Float32Array");
    return NULL;
  }
  if (O.length < A.length) {
    char msg[128];
    snprintf(msg, sizeof msg, "narrow: out of bounds (O: %zu values, needs %zu)", O.length, A.length);
    napi_throw_range_error(env, "ARCHLAB_NATIVE", msg);
    return NULL;
  }
  const double *a = A.data;
  float *o = O.data;
  for (size_t k = 0; k < A.length; k++) o[k] = (float)a[k];
  return NULL;
}

/* ───────────────── end of conv2d and narrow ───────────────── */

/* ---------------------------------------------------------------------------------------------
 * Backward pass (engine/backward.ts): products whose first operand is read transposed.
 * gemmTN(A, aOff, lda, B, bOff, ldb, K, M, N, C, cOff, ldc):
 *   C[cOff + i·ldc + j] += Σ_k A[aOff + k·lda + i] · B[bOff + k·ldb + j]   for i < M, j < N, k < K,
 * that is C += Aᵀ B with A `[K, lda]` and B `[K, ldb]` row-major: a weight's gradient
 * ∂L/∂W += (∂L/∂y)ᵀ · operand summed over all K = T·B rows of the trace, straight on the
 * gradient trace and the forward trace (no transposed copies).
 * ------------------------------------------------------------------------------------------- */
static napi_value gemm_tn(napi_env env, napi_callback_info info) {
  napi_value argv[12];
  if (!exact_args(env, info, 12, argv, "gemmTN(A, aOff, lda, B, bOff, ldb, K, M, N, C, cOff, ldc)")) return NULL;
  Array A, Bm, C;
  int64_t aOff, lda, bOff, ldb, K, M, N, cOff, ldc;
  if (!array_arg(env, argv[0], "gemmTN", "A", &A) || !int_arg(env, argv[1], "gemmTN", "aOff", &aOff) || !int_arg(env, argv[2], "gemmTN", "lda", &lda) ||
      !array_arg(env, argv[3], "gemmTN", "B", &Bm) || !int_arg(env, argv[4], "gemmTN", "bOff", &bOff) || !int_arg(env, argv[5], "gemmTN", "ldb", &ldb) ||
      !int_arg(env, argv[6], "gemmTN", "K", &K) || !int_arg(env, argv[7], "gemmTN", "M", &M) || !int_arg(env, argv[8], "gemmTN", "N", &N) ||
      !array_arg(env, argv[9], "gemmTN", "C", &C) || !int_arg(env, argv[10], "gemmTN", "cOff", &cOff) || !int_arg(env, argv[11], "gemmTN", "ldc", &ldc))
    return NULL;
  if (A.type != Bm.type || A.type != C.type) {
    napi_throw_type_error(env, "ARCHLAB_NATIVE", "gemmTN: A, B and C must all be Float32Array or all Float64Array");
    return NULL;
  }
  if (M == 0 || N == 0) return NULL;
  if (lda < M || ldb < N || ldc < N) {
    char msg[160];
    snprintf(msg, sizeof msg, "gemmTN: lda (%lld) must be at least M (%lld), ldb (%lld) and ldc (%lld) at least N (%lld)", (long long)lda,
             (long long)M, (long long)ldb, (long long)ldc, (long long)N);
    napi_throw_range_error(env, "ARCHLAB_NATIVE", msg);
    return NULL;
  }
  uint64_t needA = K == 0 ? 0 : (uint64_t)aOff + (uint64_t)(K - 1) * lda + M;
  uint64_t needB = K == 0 ? 0 : (uint64_t)bOff + (uint64_t)(K - 1) * ldb + N;
  uint64_t needC = (uint64_t)cOff + (uint64_t)(M - 1) * ldc + N;
  if (needA > A.length || needB > Bm.length || needC > C.length) {
    char msg[256];
    snprintf(msg, sizeof msg, "gemmTN: out of bounds (A: %zu values, needs %llu; B: %zu, needs %llu; C: %zu, needs %llu)", A.length,
             (unsigned long long)needA, Bm.length, (unsigned long long)needB, C.length, (unsigned long long)needC);
    napi_throw_range_error(env, "ARCHLAB_NATIVE", msg);
    return NULL;
  }
  if (K == 0) return NULL;
  if (A.type == napi_float32_array)
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)M, (int)N, (int)K, 1.0f, (const float *)A.data + aOff, (int)lda,
                (const float *)Bm.data + bOff, (int)ldb, 1.0f, (float *)C.data + cOff, (int)ldc);
  else
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)M, (int)N, (int)K, 1.0, (const double *)A.data + aOff, (int)lda,
                (const double *)Bm.data + bOff, (int)ldb, 1.0, (double *)C.data + cOff, (int)ldc);
  return NULL;
}

/* The elementwise gradient rules (cells/gradients.ts) in C, for arrays all float64 or all float32; each
 * value is computed in double precision in the JavaScript rule's order and stored once, as there. */
#define EACH(T, body)                          \
  do {                                         \
    T *d = (T *)D.data + dOff;                 \
    const T *g = (const T *)G.data + gOff;     \
    const T *y = (const T *)Y.data + yOff;     \
    (void)y;                                   \
    for (int64_t k = 0; k < n; k++) body;      \
  } while (0)
#define UNARY_BACKWARD(T)                                                                \
  switch (op) {                                                                          \
    case 0: EACH(T, { double v = y[k]; d[k] = (T)((double)d[k] + (double)g[k] * v * (1 - v)); }); break; \
    case 1: EACH(T, { double v = y[k]; d[k] = (T)((double)d[k] + (double)g[k] * (1 - v * v)); }); break; \
    case 2: EACH(T, { d[k] = (T)((double)d[k] + (double)g[k]); }); break;              \
    default: EACH(T, { d[k] = (T)((double)d[k] + -1.0 * (double)g[k]); }); break;      \
  }

/* Checks that `count` values from `off` lie inside array `a`; a RangeError naming it otherwise. */
static int span_arg(napi_env env, const char *fn, const char *name, const Array *a, int64_t off, int64_t count) {
  if ((uint64_t)off + (uint64_t)count <= a->length) return 1;
  char msg[160];
  snprintf(msg, sizeof msg, "%s: out of bounds (%s: %zu values, needs %lld)", fn, name, a->length, (long long)(off + count));
  napi_throw_range_error(env, "ARCHLAB_NATIVE", msg);
  return 0;
}

/*
 * Reads the arguments (op, X, xOff, Y, yOff, Z, zOff, n) of unaryBackward and binary: an op code up
 * to max_op, three arrays all Float32Array or all Float64Array, each with its offset, and a count.
 * `names` gives the six names of the middle arguments for messages; `ops` what the op codes mean.
 * A named error (and 0) for the first bad one.
 */
static int op_three_arrays(napi_env env, napi_callback_info info, const char *fn, const char *usage, const char *names[6], int64_t max_op,
                           const char *ops, int64_t *op, Array arrays[3], int64_t offsets[3], int64_t *n) {
  napi_value argv[8];
  if (!exact_args(env, info, 8, argv, usage) || !int_arg(env, argv[0], fn, "op", op)) return 0;
  for (int j = 0; j < 3; j++)
    if (!array_arg(env, argv[1 + 2 * j], fn, names[2 * j], &arrays[j]) || !int_arg(env, argv[2 + 2 * j], fn, names[2 * j + 1], &offsets[j])) return 0;
  if (!int_arg(env, argv[7], fn, "n", n)) return 0;
  char msg[160];
  if (*op > max_op) {
    snprintf(msg, sizeof msg, "%s: op must be %s", fn, ops);
    napi_throw_range_error(env, "ARCHLAB_NATIVE", msg);
    return 0;
  }
  if (arrays[0].type != arrays[1].type || arrays[0].type != arrays[2].type) {
    snprintf(msg, sizeof msg, "%s: %s, %s and %s must all be Float32Array or all Float64Array", fn, names[0], names[2], names[4]);
    napi_throw_type_error(env, "ARCHLAB_NATIVE", msg);
    return 0;
  }
  return 1;
}

/* unaryBackward(op, G, gOff, Y, yOff, D, dOff, n): D[dOff + k] += G[gOff + k] · f'(Y[yOff + k]) for k < n, from the
 * output y: op 0 sigmoid (y (1 − y)), 1 tanh (1 − y²); op 2 adds G (an add's operands), op 3 subtracts it (a sub's). */
static napi_value unary_backward(napi_env env, napi_callback_info info) {
  static const char *names[6] = {"G", "gOff", "Y", "yOff", "D", "dOff"};
  int64_t op, off[3], n;
  Array arrays[3];
  if (!op_three_arrays(env, info, "unaryBackward", "unaryBackward(op, G, gOff, Y, yOff, D, dOff, n)", names, 3,
                       "0 (sigmoid), 1 (tanh), 2 (add) or 3 (subtract)", &op, arrays, off, &n))
    return NULL;
  const Array G = arrays[0], Y = arrays[1], D = arrays[2];
  const int64_t gOff = off[0], yOff = off[1], dOff = off[2];
  if (!span_arg(env, "unaryBackward", "G", &G, gOff, n) || !span_arg(env, "unaryBackward", "Y", &Y, op < 2 ? yOff : 0, op < 2 ? n : 0) ||
      !span_arg(env, "unaryBackward", "D", &D, dOff, n))
    return NULL;
  if (G.type == napi_float64_array)
    UNARY_BACKWARD(double)
  else
    UNARY_BACKWARD(float)
  return NULL;
}

#define MUL_BACKWARD(T)                                                 \
  do {                                                                  \
    const T *g = (const T *)G.data + gOff;                              \
    const T *a = (const T *)A.data + aOff, *b = (const T *)Bv.data + bOff; \
    T *da = (T *)DA.data + daOff, *db = (T *)DB.data + dbOff;           \
    for (int64_t k = 0; k < n; k++) {                                   \
      double gk = g[k];                                                 \
      da[k] = (T)((double)da[k] + gk * (double)b[k]);                   \
      db[k] = (T)((double)db[k] + gk * (double)a[k]);                   \
    }                                                                   \
  } while (0)

/* mulBackward(G, gOff, A, aOff, DA, daOff, B, bOff, DB, dbOff, n): y = a ⊙ b, so DA += G ⊙ B and DB += G ⊙ A, k < n. */
static napi_value mul_backward(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  if (!exact_args(env, info, 11, argv, "mulBackward(G, gOff, A, aOff, DA, daOff, B, bOff, DB, dbOff, n)")) return NULL;
  int64_t gOff, aOff, daOff, bOff, dbOff, n;
  Array G, A, DA, Bv, DB;
  if (!array_arg(env, argv[0], "mulBackward", "G", &G) || !int_arg(env, argv[1], "mulBackward", "gOff", &gOff) ||
      !array_arg(env, argv[2], "mulBackward", "A", &A) || !int_arg(env, argv[3], "mulBackward", "aOff", &aOff) ||
      !array_arg(env, argv[4], "mulBackward", "DA", &DA) || !int_arg(env, argv[5], "mulBackward", "daOff", &daOff) ||
      !array_arg(env, argv[6], "mulBackward", "B", &Bv) || !int_arg(env, argv[7], "mulBackward", "bOff", &bOff) ||
      !array_arg(env, argv[8], "mulBackward", "DB", &DB) || !int_arg(env, argv[9], "mulBackward", "dbOff", &dbOff) ||
      !int_arg(env, argv[10], "mulBackward", "n", &n))
    return NULL;
  if (G.type != A.type || G.type != DA.type || G.type != Bv.type || G.type != DB.type) {
    napi_throw_type_error(env, "ARCHLAB_NATIVE", "mulBackward: G, A, DA, B and DB must all be Float32Array or all Float64Array");
    return NULL;
  }
  if (!span_arg(env, "mulBackward", "G", &G, gOff, n) || !span_arg(env, "mulBackward", "A", &A, aOff, n) ||
      !span_arg(env, "mulBackward", "DA", &DA, daOff, n) || !span_arg(env, "mulBackward", "B", &Bv, bOff, n) ||
      !span_arg(env, "mulBackward", "DB", &DB, dbOff, n))
    return NULL;
  if (G.type == napi_float64_array)
    MUL_BACKWARD(double);
  else
    MUL_BACKWARD(float);
  return NULL;
}
/* ------------------------------------- end of the backward pass's section ------------------------------------- */

/* ---------------------------------------------------------------------------------------------
 * Forward pass (engine/program.ts): the two-operand elementwise ops of a large run's step,
 * binary(op, A, aOff, B, bOff, O, oOff, n): O[oOff + k] = A[aOff + k] ∘ B[bOff + k] for k < n, with
 * ∘ op 0 multiply, 1 add, 2 subtract, 3 divide — computed in double precision and stored once, as
 * the generated JavaScript computes `O[o + k] = A[a + k] * B[b + k]`: the same numbers to the bit,
 * in float64 and float32. Values go in order of k, so overlapping arrays read what the loop would.
 * ------------------------------------------------------------------------------------------- */
#define BINARY(T, expr)                                                                \
  do {                                                                                 \
    const T *a = (const T *)A.data + aOff, *b = (const T *)Bv.data + bOff;             \
    T *o = (T *)O.data + oOff;                                                         \
    for (int64_t k = 0; k < n; k++) {                                                  \
      double x = a[k], y = b[k];                                                       \
      o[k] = (T)(expr);                                                                \
    }                                                                                  \
  } while (0)
#define BINARY_OPS(T)                        \
  switch (op) {                              \
    case 0: BINARY(T, x * y); break;         \
    case 1: BINARY(T, x + y); break;         \
    case 2: BINARY(T, x - y); break;         \
    default: BINARY(T, x / y); break;        \
  }

static napi_value binary(napi_env env, napi_callback_info info) {
  static const char *names[6] = {"A", "aOff", "B", "bOff", "O", "oOff"};
  int64_t op, off[3], n;
  Array arrays[3];
  if (!op_three_arrays(env, info, "binary", "binary(op, A, aOff, B, bOff, O, oOff, n)", names, 3, "0 (multiply), 1 (add), 2 (subtract) or 3 (divide)",
                       &op, arrays, off, &n))
    return NULL;
  const Array A = arrays[0], Bv = arrays[1], O = arrays[2];
  const int64_t aOff = off[0], bOff = off[1], oOff = off[2];
  if (!span_arg(env, "binary", "A", &A, aOff, n) || !span_arg(env, "binary", "B", &Bv, bOff, n) || !span_arg(env, "binary", "O", &O, oOff, n)) return NULL;
  if (A.type == napi_float64_array)
    BINARY_OPS(double)
  else
    BINARY_OPS(float)
  return NULL;
}
/* ------------------------------------- end of the forward pass's section ------------------------------------- */

/* ---------------------------------------------------------------------------------------------
 * Forward pass's prologue (engine/program.ts): an affine node's bias and its product on a narrow
 * cell input, for every row of a run at once, in one pass over the node's storage,
 * affineRows(X, xOff, M, K, W, N, bias, C, cOff, ldc):
 *   C[cOff + i·ldc + j] = bias[j] + Σ_k X[xOff + i·K + k] · W[j·K + k]   for i < M, j < N
 * (C overwritten). Each sum is one fused multiply-add per k in order of k from zero, then the bias
 * added, as OpenBLAS's kernels add a product into C already holding the bias: instead of writing the
 * bias into every row first and reading it back. Only for small K (the caller's choice), where
 * packing for BLAS costs more than the arithmetic.
 * ------------------------------------------------------------------------------------------- */
#define AFFINE_ROWS_SCALAR(T, FMA)                                           \
  for (int64_t i = 0; i < M; i++) {                                          \
    const T *x = (const T *)X.data + xOff + i * K;                           \
    T *c = (T *)C.data + cOff + i * ldc;                                     \
    for (int64_t j = j0; j < N; j++) {                                       \
      T a = 0;                                                               \
      for (int64_t k = 0; k < K; k++) a = FMA(x[k], wt[k * N + j], a);       \
      c[j] = ((const T *)bias.data)[j] + a;                                  \
    }                                                                        \
  }

#ifdef ARCHLAB_MVEC
/* The float64 columns j < N − N mod 4 with AVX2 and FMA: the same operations as the scalar loop, four columns at a time. Returns the first column left. */
__attribute__((target("avx2,fma"))) static int64_t affine_rows_avx2(const double *X, int64_t M, int64_t K, const double *wt, int64_t N, const double *bias,
                                                                       double *C, int64_t ldc) {
  for (int64_t i = 0; i < M; i++) {
    const double *x = X + i * K;
    double *c = C + i * ldc;
    int64_t j = 0;
    for (; j + 16 <= N; j += 16) {
      __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
      for (int64_t k = 0; k < K; k++) {
        const __m256d xk = _mm256_broadcast_sd(x + k);
        const double *w = wt + k * N + j;
        a0 = _mm256_fmadd_pd(xk, _mm256_loadu_pd(w), a0);
        a1 = _mm256_fmadd_pd(xk, _mm256_loadu_pd(w + 4), a1);
        a2 = _mm256_fmadd_pd(xk, _mm256_loadu_pd(w + 8), a2);
        a3 = _mm256_fmadd_pd(xk, _mm256_loadu_pd(w + 12), a3);
      }
      _mm256_storeu_pd(c + j, _mm256_add_pd(_mm256_loadu_pd(bias + j), a0));
      _mm256_storeu_pd(c + j + 4, _mm256_add_pd(_mm256_loadu_pd(bias + j + 4), a1));
      _mm256_storeu_pd(c + j + 8, _mm256_add_pd(_mm256_loadu_pd(bias + j + 8), a2));
      _mm256_storeu_pd(c + j + 12, _mm256_add_pd(_mm256_loadu_pd(bias + j + 12), a3));
    }
    for (; j + 4 <= N; j += 4) {
      __m256d a = _mm256_setzero_pd();
      for (int64_t k = 0; k < K; k++) a = _mm256_fmadd_pd(_mm256_broadcast_sd(x + k), _mm256_loadu_pd(wt + k * N + j), a);
      _mm256_storeu_pd(c + j, _mm256_add_pd(_mm256_loadu_pd(bias + j), a));
    }
  }
  return N - N % 4;
}

static int64_t affine_rows_vector(const double *X, int64_t M, int64_t K, const double *wt, int64_t N, const double *bias, double *C, int64_t ldc) {
  return cpu_avx2(1) ? affine_rows_avx2(X, M, K, wt, N, bias, C, ldc) : 0;
}
#else
static int64_t affine_rows_vector(const double *X, int64_t M, int64_t K, const double *wt, int64_t N, const double *bias, double *C, int64_t ldc) {
  (void)X, (void)M, (void)K, (void)wt, (void)N, (void)bias, (void)C, (void)ldc;
  return 0;
}
#endif

static napi_value affine_rows(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  if (!exact_args(env, info, 10, argv, "affineRows(X, xOff, M, K, W, N, bias, C, cOff, ldc)")) return NULL;
  Array X, W, bias, C;
  int64_t xOff, M, K, N, cOff, ldc;
  if (!array_arg(env, argv[0], "affineRows", "X", &X) || !int_arg(env, argv[1], "affineRows", "xOff", &xOff) ||
      !int_arg(env, argv[2], "affineRows", "M", &M) || !int_arg(env, argv[3], "affineRows", "K", &K) ||
      !array_arg(env, argv[4], "affineRows", "W", &W) || !int_arg(env, argv[5], "affineRows", "N", &N) ||
      !array_arg(env, argv[6], "affineRows", "bias", &bias) || !array_arg(env, argv[7], "affineRows", "C", &C) ||
      !int_arg(env, argv[8], "affineRows", "cOff", &cOff) || !int_arg(env, argv[9], "affineRows", "ldc", &ldc))
    return NULL;
  if (X.type != W.type || X.type != bias.type || X.type != C.type) {
    napi_throw_type_error(env, "ARCHLAB_NATIVE", "affineRows: X, W, bias and C must all be Float32Array or all Float64Array");
    return NULL;
  }
  if (M == 0 || N == 0) return NULL;
  if (ldc < N) {
    napi_throw_range_error(env, "ARCHLAB_NATIVE", "affineRows: ldc must be at least N");
    return NULL;
  }
  if (!span_arg(env, "affineRows", "X", &X, xOff, M * K) || !span_arg(env, "affineRows", "W", &W, 0, N * K) ||
      !span_arg(env, "affineRows", "bias", &bias, 0, N) || !span_arg(env, "affineRows", "C", &C, cOff, (M - 1) * ldc + N))
    return NULL;
  int is32 = X.type == napi_float32_array;
  size_t size = is32 ? sizeof(float) : sizeof(double);
  /* W transposed, [K, N]: each k's weights of all columns side by side. */
  void *t = malloc(K * N * size + 1);
  if (!t) {
    napi_throw_error(env, "ARCHLAB_NATIVE", "affineRows: out of memory");
    return NULL;
  }
  if (is32) {
    float *wt = t;
    for (int64_t j = 0; j < N; j++)
      for (int64_t k = 0; k < K; k++) wt[k * N + j] = ((const float *)W.data)[j * K + k];
    int64_t j0 = 0;
    AFFINE_ROWS_SCALAR(float, fmaf)
  } else {
    double *wt = t;
    for (int64_t j = 0; j < N; j++)
      for (int64_t k = 0; k < K; k++) wt[k * N + j] = ((const double *)W.data)[j * K + k];
    int64_t j0 = affine_rows_vector((const double *)X.data + xOff, M, K, wt, N, (const double *)bias.data, (double *)C.data + cOff, ldc);
    AFFINE_ROWS_SCALAR(double, fma)
  }
  free(t);
  return NULL;
}
/* ------------------------------------- end of the forward prologue's section ------------------------------------- */

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"gemm", NULL, gemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unary", NULL, unary, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"info", NULL, info, NULL, NULL, NULL, napi_enumerable, NULL},
      {"conv2d", NULL, conv2d, NULL, NULL, NULL, napi_enumerable, NULL},
      {"narrow", NULL, narrow, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gemmTN", NULL, gemm_tn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unaryBackward", NULL, unary_backward, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mulBackward", NULL, mul_backward, NULL, NULL, NULL, napi_enumerable, NULL},
      {"binary", NULL, binary, NULL, NULL, NULL, napi_enumerable, NULL},
      {"affineRows", NULL, affine_rows, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
