/**
 * Matrix products for the compute interpreter: `C[i, ldc·i + j] += Σ_k A[i, k] · W[j, k]`, that is
 * `C += A Wᵀ` with W stored as archlab stores weights (`[rows, cols]`, applied as `x Wᵀ`).
 *
 * Three implementations, same contract:
 * - a register-tiled JavaScript kernel (2 rows × 4 columns of dot products per pass, summed in
 *   float64 in order): no dispatch cost, the same numbers on every machine — teaching sizes;
 * - the system's OpenBLAS through archlab's native binding (native.ts), when it is built: large
 *   products, float32 and float64, straight on the trace's memory;
 * - TensorFlow.js's `matMul` on the backend {@link selectBackend} chose: large float32 products where
 *   the native binding is absent.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { FloatArray } from "./arrays";
import { currentBackend } from "./backend";
import { nativeBlas, type NativeBlas } from "./native";

/** One product `C[cOff + i·ldc + j] += Σ_k A[aOff + i·K + k] · W[j·K + k]` for i < M, j < N, k < K. */
export interface GemmCall {
  A: FloatArray;
  aOff: number;
  M: number;
  K: number;
  W: FloatArray;
  N: number;
  C: FloatArray;
  cOff: number;
  ldc: number;
}

export type Gemm = (g: GemmCall) => void;

/** The JavaScript kernel: 2×4 blocks of dot products, with remainder rows and columns. */
export const gemmJS: Gemm = ({ A, aOff, M, K, W, N, C, cOff, ldc }) => {
  const M2 = M - (M % 2);
  const N4 = N - (N % 4);
  for (let i = 0; i < M2; i += 2) {
    const a0 = aOff + i * K;
    const a1 = a0 + K;
    const c0 = cOff + i * ldc;
    const c1 = c0 + ldc;
    for (let j = 0; j < N4; j += 4) {
      const w0 = j * K;
      const w1 = w0 + K;
      const w2 = w1 + K;
      const w3 = w2 + K;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      for (let k = 0; k < K; k++) {
        const x0 = A[a0 + k];
        const x1 = A[a1 + k];
        const y0 = W[w0 + k];
        const y1 = W[w1 + k];
        const y2 = W[w2 + k];
        const y3 = W[w3 + k];
        s00 += x0 * y0;
        s01 += x0 * y1;
        s02 += x0 * y2;
        s03 += x0 * y3;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
      }
      C[c0 + j] += s00;
      C[c0 + j + 1] += s01;
      C[c0 + j + 2] += s02;
      C[c0 + j + 3] += s03;
      C[c1 + j] += s10;
      C[c1 + j + 1] += s11;
      C[c1 + j + 2] += s12;
      C[c1 + j + 3] += s13;
    }
    for (let j = N4; j < N; j++) {
      const w = j * K;
      let s0 = 0, s1 = 0;
      for (let k = 0; k < K; k++) {
        s0 += A[a0 + k] * W[w + k];
        s1 += A[a1 + k] * W[w + k];
      }
      C[c0 + j] += s0;
      C[c1 + j] += s1;
    }
  }
  for (let i = M2; i < M; i++) {
    const a = aOff + i * K;
    const c = cOff + i * ldc;
    for (let j = 0; j < N; j++) {
      const w = j * K;
      let s = 0;
      for (let k = 0; k < K; k++) s += A[a + k] * W[w + k];
      C[c + j] += s;
    }
  }
};

/**
 * A product bound to one weight `W [N, K]`: `run` adds `A Wᵀ` into C. `dispose` frees what the
 * product holds outside JavaScript's heap (a tfjs tensor); a disposed product still runs (it
 * re-creates what it needs).
 */
export interface Product {
  run(A: FloatArray, aOff: number, M: number, C: FloatArray, cOff: number, ldc: number): void;
  dispose(): void;
}

/** The JavaScript kernel bound to W. */
const productJS = (W: FloatArray, N: number, K: number): Product => ({
  run: (A, aOff, M, C, cOff, ldc) => gemmJS({ A, aOff, M, K, W, N, C, cOff, ldc }),
  dispose() {},
});

/**
 * TensorFlow.js's `matMul` bound to W (float32). W is uploaded once, transposed to `[K, N]`: the
 * wasm backend multiplies `A · B` about ten times faster than `A · Bᵀ` (measured: 0.96 ms against
 * 8.7 ms for [32, 256] × [256, 1024]).
 */
const productTF = (W: FloatArray, N: number, K: number): Product => {
  let Wt: tf.Tensor2D | undefined;
  return {
    run(A, aOff, M, C, cOff, ldc) {
      Wt ??= tf.tidy(() => tf.transpose(tf.tensor2d(W as Float32Array, [N, K], "float32")));
      const weight = Wt;
      const product = tf.tidy(() => tf.matMul(tf.tensor2d(A.subarray(aOff, aOff + M * K) as Float32Array, [M, K], "float32"), weight));
      const out = product.dataSync();
      product.dispose();
      for (let i = 0; i < M; i++) {
        const c = cOff + i * ldc;
        const r = i * N;
        for (let j = 0; j < N; j++) C[c + j] += out[r + j];
      }
    },
    dispose() {
      Wt?.dispose();
      Wt = undefined;
    },
  };
};

/**
 * Multiply–adds from which a native product may use OpenBLAS's threads. Below it a product runs on
 * the calling thread: waking a second thread costs more than it gains at a few milliseconds of work,
 * and after every threaded call OpenBLAS's helper threads keep spinning for a while — on a machine
 * with two cores that is a whole core taken from everything else (measured: an LSTM training step at
 * B = 32, H = 32 took 2.5× as long with them). The per-step products of recurrent runs stay under it.
 */
export const THREADED_MIN_MACS = 1 << 24;

/** Runs one native product of `macs` multiply–adds: on OpenBLAS's threads from {@link THREADED_MIN_MACS} on, else on the calling thread only. */
function threadedFrom(blas: NativeBlas, macs: number, run: () => void): void {
  if (macs >= THREADED_MIN_MACS) return run();
  const threads = blas.setThreads(1);
  try {
    run();
  } finally {
    blas.setThreads(threads);
  }
}

/** OpenBLAS bound to W: one sgemm/dgemm per call, accumulating straight into C; one thread below {@link THREADED_MIN_MACS}. */
const productNative =
  (blas: NativeBlas) =>
  (W: FloatArray, N: number, K: number): Product => ({
    run: (A, aOff, M, C, cOff, ldc) => threadedFrom(blas, M * N * K, () => blas.gemm(A, aOff, M, K, W, N, C, cOff, ldc)),
    dispose() {},
  });

/**
 * `C[cOff + i·ldc + j] += Σ_k A[aOff + k·lda + i] · B[bOff + k·ldb + j]` (C += Aᵀ B, i < M, j < N,
 * k < K) through OpenBLAS's gemmTN, one thread below {@link THREADED_MIN_MACS}: the backward pass's
 * weight gradients, read straight from the gradient and forward traces.
 */
export function gemmTNNative(blas: NativeBlas, A: FloatArray, aOff: number, lda: number, B: FloatArray, bOff: number, ldb: number, K: number, M: number, N: number, C: FloatArray, cOff: number, ldc: number): void {
  threadedFrom(blas, M * N * K, () => blas.gemmTN(A, aOff, lda, B, bOff, ldb, K, M, N, C, cOff, ldc));
}

/**
 * Multiply–adds per product from which it leaves the JavaScript kernel for TensorFlow.js (below it,
 * a call — a tensor upload and a download — costs more than it saves).
 */
export const FAST_MIN_MACS = 1 << 20;

/**
 * Multiply–adds per product from which it goes to OpenBLAS when the native binding is built: a call
 * costs about a microsecond, so from 32×32×32 on OpenBLAS is several times faster than the
 * JavaScript kernel (an LSTM with B = 32, H = 32 runs its per-step products natively). Teaching
 * sizes (units and batch in single digits) stay below it: bit-for-bit the same on every machine.
 */
export const NATIVE_MIN_MACS = 1 << 15;

/**
 * Which implementation a product of M rows with W `[N, K]` uses (see {@link product}); `minMacs` is
 * the size from which it leaves the JavaScript kernel (default: {@link NATIVE_MIN_MACS} for the
 * native binding, {@link FAST_MIN_MACS} for TensorFlow.js).
 */
export function productKind(float32: boolean, N: number, K: number, M: number, minMacs?: number): "native" | "tensorflow" | "javascript" {
  const macs = M * N * K;
  if (nativeBlas()) return macs >= (minMacs ?? NATIVE_MIN_MACS) ? "native" : "javascript";
  if (macs < (minMacs ?? FAST_MIN_MACS)) return "javascript";
  const backend = currentBackend();
  return float32 && (backend === "wasm" || backend === "tensorflow") ? "tensorflow" : "javascript";
}

/**
 * A product with W `[N, K]` for M rows at a time: large products go to OpenBLAS when the native
 * binding is built, else (float32 only) to TensorFlow.js once a fast backend (wasm or tfjs-node) is
 * chosen; everything else runs in the JavaScript kernel. A caller whose products are all of one
 * size and many (the backward pass's per-step products) may move the threshold `minMacs`.
 */
export function product(W: FloatArray, N: number, K: number, M: number, minMacs?: number): Product {
  const kind = productKind(W instanceof Float32Array, N, K, M, minMacs);
  return kind === "native" ? productNative(nativeBlas()!)(W, N, K) : (kind === "tensorflow" ? productTF : productJS)(W, N, K);
}
