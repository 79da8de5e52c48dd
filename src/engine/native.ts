/**
 * The optional native matrix products (src/engine/native/blas.c): the system's OpenBLAS through a
 * thin Node-API binding, built by `npm ci` (its install step) where a C compiler and OpenBLAS's
 * headers are present (Debian: `libopenblas-dev`, which scripts/setup-system.sh installs). Where it
 * is absent, nothing fails: large products go to TensorFlow.js as before. {@link nativeInfo} says
 * which, and why. `ARCHLAB_NATIVE=0` turns it off.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PACKAGE_ROOT } from "../package-root";
import type { FloatArray } from "./arrays";

/** The binding's functions (see blas.c). */
export interface NativeBlas {
  /** `C[cOff + i·ldc + j] += Σ_k A[aOff + i·K + k] · W[j·K + k]` for i < M, j < N, k < K (sgemm or dgemm, by array type). */
  gemm(A: FloatArray, aOff: number, M: number, K: number, W: FloatArray, N: number, C: FloatArray, cOff: number, ldc: number): void;
  /**
   * `O[oOff + k] = f(A[aOff + k])` for k < n, computed in double precision: op 0 is the logistic
   * sigmoid `1 / (1 + exp(−x))`, op 1 is `tanh(x)`.
   */
  unary(op: 0 | 1, A: FloatArray, aOff: number, O: FloatArray, oOff: number, n: number): void;
  /**
   * `C[cOff + i·ldc + j] += Σ_k A[aOff + k·lda + i] · B[bOff + k·ldb + j]` for i < M, j < N, k < K:
   * C += Aᵀ B with A and B row-major `[K, lda]`, `[K, ldb]` (sgemm or dgemm, by array type) — a
   * weight's gradient summed over the rows of a trace, with no transposed copy (engine/backward.ts).
   */
  gemmTN(A: FloatArray, aOff: number, lda: number, B: FloatArray, bOff: number, ldb: number, K: number, M: number, N: number, C: FloatArray, cOff: number, ldc: number): void;
  /**
   * The elementwise gradient rules of cells/gradients.ts, computed as there (double precision, in the
   * same order; stored once): `D[dOff + k] += G[gOff + k] · f'(Y[yOff + k])` for k < n from the
   * output y — op 0 sigmoid `y (1 − y)`, op 1 tanh `1 − y²` — or op 2 `D += G` (add), op 3 `D += −G` (sub).
   */
  unaryBackward(op: 0 | 1 | 2 | 3, G: FloatArray, gOff: number, Y: FloatArray, yOff: number, D: FloatArray, dOff: number, n: number): void;
  /** y = a ⊙ b: `DA[daOff + k] += G[gOff + k] · B[bOff + k]`, then `DB[dbOff + k] += G[gOff + k] · A[aOff + k]`, for k < n. */
  mulBackward(G: FloatArray, gOff: number, A: FloatArray, aOff: number, DA: FloatArray, daOff: number, B: FloatArray, bOff: number, DB: FloatArray, dbOff: number, n: number): void;
  /**
   * The forward step's two-operand elementwise ops: `O[oOff + k] = A[aOff + k] ∘ B[bOff + k]` for
   * k < n, ∘ op 0 multiply, 1 add, 2 subtract, 3 divide, computed in double precision and stored
   * once — the same numbers as the generated JavaScript, to the bit.
   */
  binary(op: 0 | 1 | 2 | 3, A: FloatArray, aOff: number, B: FloatArray, bOff: number, O: FloatArray, oOff: number, n: number): void;
  /**
   * `C[cOff + i·ldc + j] = bias[j] + Σ_k X[xOff + i·K + k] · W[j·K + k]` for i < M, j < N (C
   * overwritten): an affine node's bias and its product on a narrow input in one pass, each sum one
   * fused multiply-add per k in order from zero, then the bias added (as OpenBLAS adds a product
   * into C holding the bias). For small K only: it does not block for caches as BLAS does.
   */
  affineRows(X: FloatArray, xOff: number, M: number, K: number, W: FloatArray, N: number, bias: FloatArray, C: FloatArray, cOff: number, ldc: number): void;
  /** Sets the threads OpenBLAS uses per product (process-wide); returns the previous count. */
  setThreads(n: number): number;
  /** OpenBLAS's description of its build (e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64") and its threads per product. */
  info(): { config: string; threads: number };
  /**
   * A float32 NHWC convolution, Out overwritten: `Out[b, oy, ox, co] = Σ X[b, oy·stride − padTop + ky·dilation,
   * ox·stride − padLeft + kx·dilation, c] · Wt[ky, kx, c, co]` over the taps inside the image, with
   * X [B, H, W, C], Wt [KH, KW, C, CO], Out [B, OH, OW, CO] (im2col + sgemm).
   */
  conv2d(X: Float32Array, Wt: Float32Array, Out: Float32Array, geometry: readonly [B: number, H: number, W: number, C: number, KH: number, KW: number, CO: number, stride: number, padTop: number, padLeft: number, dilation: number, OH: number, OW: number]): void;
  /** `O[k] = A[k]` rounded to float32 (to nearest, as `Math.fround`) for k < A.length. */
  narrow(A: Float64Array, O: Float32Array): void;
}

/** Whether the native products are in use, and why (or why not). */
export interface NativeInfo {
  loaded: boolean;
  /** OpenBLAS's own description when loaded; otherwise what failed and what to do. */
  detail: string;
}

/** Where `npm ci` (node-gyp) puts the binding. */
export const NATIVE_PATH = join(PACKAGE_ROOT, "build", "Release", "archlab_blas.node");

let loaded: { blas: NativeBlas | undefined; info: NativeInfo } | undefined;
/** Whether the native kernels may be used (ARCHLAB_NATIVE=0 turns them off; {@link useNative} for tests and worker threads). */
let enabled = !["0", "false"].includes(process.env.ARCHLAB_NATIVE ?? "");

function load(): { blas: NativeBlas | undefined; info: NativeInfo } {
  if (!existsSync(NATIVE_PATH))
    return {
      blas: undefined,
      info: {
        loaded: false,
        detail: `not built (${NATIVE_PATH} is missing): install a C compiler and OpenBLAS's headers (Debian: bash scripts/setup-system.sh), then npm run build:native`,
      },
    };
  try {
    const blas = require(NATIVE_PATH) as NativeBlas;
    return { blas, info: { loaded: true, detail: blas.info().config.trim() } };
  } catch (e) {
    const why = e instanceof Error ? e.message.split("\n")[0] : String(e);
    return { blas: undefined, info: { loaded: false, detail: `${NATIVE_PATH} did not load (${why}); rebuild it with npm run build:native` } };
  }
}

/** The native products, or undefined where they are not built, do not load or are turned off. */
export function nativeBlas(): NativeBlas | undefined {
  return enabled ? (loaded ??= load()).blas : undefined;
}

/**
 * @internal Turns the native kernels on or off for this thread's later runs (a split run hands the
 * calling thread's choice to its workers; tests compare both paths). Returns the previous setting.
 */
export function useNative(on: boolean): boolean {
  const previous = enabled;
  enabled = on;
  return previous;
}

/**
 * Whether large matrix products run natively (OpenBLAS), and why or why not.
 *
 * @example
 * nativeInfo(); // { loaded: true, detail: "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64" }
 */
export function nativeInfo(): NativeInfo {
  const { blas, info } = (loaded ??= load());
  return enabled || !blas ? info : { loaded: false, detail: "built, but turned off (ARCHLAB_NATIVE=0)" };
}
