import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { cell, GRU_RESET_BEFORE, LSTM, type Cell, type CellDef, type DType } from "../src";
import { selectBackend } from "../src/engine/backend";
import { VJP, type VjpArgs } from "../src/cells/gradients";
import { EXPRESSION, type OpKind } from "../src/cells/ops";
import { gemmJS, NATIVE_MIN_MACS, productKind } from "../src/engine/gemm";
import { nativeBlas, nativeInfo, useNative, type NativeBlas } from "../src/engine/native";
import { generate, NATIVE_BINARY_MIN_VALUES, NATIVE_MIN_VALUES, plan } from "../src/engine/program";
import { currentBackend } from "../src/engine/backend";
import { tensorflow } from "../src/engine/tensorflow";
import * as nd from "../src/lang/nd";
import { zoo } from "../src";
import * as nn from "../src/lang";
import type { Model } from "../src/lang";

/** A deterministic pseudo-random array (xorshift), values in [−scale, scale). */
function random(T: typeof Float32Array | typeof Float64Array, n: number, seed: number, scale = 1) {
  let s = seed >>> 0 || 1;
  const out = new T(n);
  for (let k = 0; k < n; k++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[k] = ((s >>> 0) / 2 ** 32 - 0.5) * 2 * scale;
  }
  return out;
}

const sigmoidJS = new Function("v", `return ${EXPRESSION.sigmoid("v")};`) as (v: number) => number;
const tanhJS = new Function("v", `return ${EXPRESSION.tanh("v")};`) as (v: number) => number;

describe("native kernels (OpenBLAS products, glibc vector sigmoid/tanh)", () => {
  let blas: NativeBlas;
  before(() => {
    const info = nativeInfo();
    assert.ok(info.loaded, `the native kernels must be built where the tests run: ${info.detail}`);
    assert.match(info.detail, /OpenBLAS/);
    blas = nativeBlas()!;
  });

  it("gemm adds A Wᵀ into C like archlab's JavaScript kernel, with offsets and a row stride, in float64 and float32", () => {
    for (const [T, tol] of [[Float64Array, 1e-13], [Float32Array, 1e-5]] as const) {
      for (const [M, K, N, ldc, aOff, cOff] of [[1, 1, 1, 1, 0, 0], [7, 33, 5, 9, 3, 2], [32, 256, 96, 100, 0, 17], [3, 0, 4, 4, 0, 0]]) {
        const A = random(T, aOff + M * K, 1 + M);
        const W = random(T, N * K, 2 + N);
        const C0 = random(T, cOff + (M - 1) * ldc + N + 3, 3 + K);
        const ours = C0.slice();
        const ref = C0.slice();
        blas.gemm(A, aOff, M, K, W, N, ours, cOff, ldc);
        gemmJS({ A, aOff, M, K, W, N, C: ref, cOff, ldc });
        let worst = 0;
        for (let k = 0; k < ref.length; k++) worst = Math.max(worst, Math.abs(ours[k] - ref[k]) / Math.max(1, Math.abs(ref[k])));
        assert.ok(worst <= tol, `${T.name} M=${M} K=${K} N=${N}: differs by ${worst}`);
        // Values outside the product (between rows, after the last) are untouched.
        for (let i = 0; i < M; i++) for (let j = N; j < ldc && cOff + i * ldc + j < ref.length; j++) assert.equal(ours[cOff + i * ldc + j], C0[cOff + i * ldc + j]);
      }
    }
  });

  it("affineRows writes bias + X Wᵀ like bias rows plus archlab's JavaScript kernel, with offsets and a row stride, in float64 and float32", () => {
    for (const [T, tol] of [[Float64Array, 1e-13], [Float32Array, 1e-5]] as const) {
      for (const [M, K, N, ldc, xOff, cOff] of [[1, 1, 1, 1, 0, 0], [7, 3, 5, 9, 3, 2], [100, 8, 32, 32, 0, 0], [33, 16, 37, 40, 5, 17], [3, 0, 4, 4, 0, 0]]) {
        const X = random(T, xOff + M * K, 1 + M);
        const W = random(T, N * K, 2 + N);
        const bias = random(T, N, 4 + N);
        const C0 = random(T, cOff + (M - 1) * ldc + N + 3, 3 + K);
        const ours = C0.slice();
        const ref = C0.slice();
        blas.affineRows(X, xOff, M, K, W, N, bias, ours, cOff, ldc);
        for (let i = 0; i < M; i++) ref.set(bias, cOff + i * ldc);
        gemmJS({ A: X, aOff: xOff, M, K, W, N, C: ref, cOff, ldc });
        let worst = 0;
        for (let k = 0; k < ref.length; k++) worst = Math.max(worst, Math.abs(ours[k] - ref[k]) / Math.max(1, Math.abs(ref[k])));
        assert.ok(worst <= tol, `${T.name} M=${M} K=${K} N=${N}: differs by ${worst}`);
        for (let i = 0; i < M; i++) for (let j = N; j < ldc && cOff + i * ldc + j < ref.length; j++) assert.equal(ours[cOff + i * ldc + j], C0[cOff + i * ldc + j]);
        assert.deepEqual(ours.subarray(0, cOff), C0.subarray(0, cOff), "nothing before the first row is written");
      }
    }
  });

  it("affineRows refuses calls that would read or write outside an array, or mix precisions, before writing", () => {
    const X = new Float64Array(6);
    const W = new Float64Array(6);
    const bias = new Float64Array(2);
    const C = new Float64Array(4);
    assert.throws(() => blas.affineRows(X, 1, 2, 3, W, 2, bias, C, 0, 2), (e: Error) => e instanceof RangeError && /affineRows: out of bounds \(X: 6 values, needs 7\)/.test(e.message));
    assert.throws(() => blas.affineRows(X, 0, 2, 3, W, 3, bias, C, 0, 3), /affineRows: out of bounds \(W: 6 values, needs 9\)/);
    assert.throws(() => blas.affineRows(X, 0, 2, 3, W, 2, new Float64Array(1), C, 0, 2), /affineRows: out of bounds \(bias: 1 values, needs 2\)/);
    assert.throws(() => blas.affineRows(X, 0, 2, 3, W, 2, bias, C, 1, 2), /affineRows: out of bounds \(C: 4 values, needs 5\)/);
    assert.throws(() => blas.affineRows(X, 0, 2, 3, W, 2, bias, C, 0, 1), /ldc must be at least N/);
    assert.throws(() => blas.affineRows(X, 0, 2, 3, W, 2, new Float32Array(2), C, 0, 2), (e: Error) => e instanceof TypeError && /X, W, bias and C must all be Float32Array or all Float64Array/.test(e.message));
    assert.throws(() => (blas.affineRows as (...a: unknown[]) => void)(X, 0, 2, 3, W, 2, bias, C, 0), (e: Error) => e instanceof TypeError && /takes 10 arguments/.test(e.message));
    assert.deepEqual([...C], [0, 0, 0, 0], "nothing was written");
  });

  it("gemm refuses calls that would read or write outside an array, or mix precisions, before BLAS runs", () => {
    const A = new Float64Array(6);
    const W = new Float64Array(6);
    const C = new Float64Array(4);
    assert.throws(() => blas.gemm(A, 1, 2, 3, W, 2, C, 0, 2), (e: Error) => e instanceof RangeError && /out of bounds.*A: 6 values, needs 7/.test(e.message));
    assert.throws(() => blas.gemm(A, 0, 2, 3, W, 2, C, 1, 2), /out of bounds/);
    assert.throws(() => blas.gemm(A, 0, 2, 3, W, 2, C, 0, 1), /ldc \(1\) must be at least N \(2\)/);
    assert.throws(() => blas.gemm(A, 0, 2, 3, new Float32Array(6), 2, C, 0, 2), (e: Error) => e instanceof TypeError && /must all be Float32Array or all Float64Array/.test(e.message));
    assert.throws(() => blas.gemm(A, -1, 2, 3, W, 2, C, 0, 2), /aOff must be an integer/);
    assert.throws(() => blas.gemm([1, 2] as unknown as Float64Array, 0, 1, 1, W, 1, C, 0, 1), /A must be a Float32Array or Float64Array/);
    assert.deepEqual([...C], [0, 0, 0, 0], "nothing was written");
  });

  it("gemmTN adds Aᵀ B into C like archlab's JavaScript kernel on transposed copies, with offsets and strides, in float64 and float32", () => {
    for (const [T, tol] of [[Float64Array, 1e-13], [Float32Array, 1e-5]] as const) {
      for (const [K, M, N, lda, ldb, ldc, aOff, bOff, cOff] of [[1, 1, 1, 1, 1, 1, 0, 0, 0], [33, 7, 5, 9, 6, 8, 3, 1, 2], [3200, 32, 8, 32, 8, 8, 64, 0, 0], [0, 3, 4, 3, 4, 4, 0, 0, 0]]) {
        const A = random(T, aOff + K * lda, 4 + M);
        const Bm = random(T, bOff + K * ldb, 5 + N);
        const C0 = random(T, cOff + (M - 1) * ldc + N + 3, 6 + K);
        const ours = C0.slice();
        const ref = C0.slice();
        blas.gemmTN(A, aOff, lda, Bm, bOff, ldb, K, M, N, ours, cOff, ldc);
        // The reference: Aᵀ [M, K] and Bᵀ [N, K] copied out, then C += Aᵀ (Bᵀ)ᵀ by the JavaScript kernel.
        const At = new T(M * K);
        const Bt = new T(N * K);
        for (let k = 0; k < K; k++) {
          for (let i = 0; i < M; i++) At[i * K + k] = A[aOff + k * lda + i];
          for (let j = 0; j < N; j++) Bt[j * K + k] = Bm[bOff + k * ldb + j];
        }
        gemmJS({ A: At, aOff: 0, M, K, W: Bt, N, C: ref, cOff, ldc });
        let worst = 0;
        for (let k = 0; k < ref.length; k++) worst = Math.max(worst, Math.abs(ours[k] - ref[k]) / Math.max(1, Math.abs(ref[k])));
        // sgemm sums in single precision: its rounding grows with the √K of a random-signed sum.
        assert.ok(worst <= tol * Math.sqrt(Math.max(K, 1)), `${T.name} K=${K} M=${M} N=${N}: differs by ${worst}`);
        for (let i = 0; i < M; i++) for (let j = N; j < ldc && cOff + i * ldc + j < ref.length; j++) assert.equal(ours[cOff + i * ldc + j], C0[cOff + i * ldc + j]);
      }
    }
  });

  it("gemmTN refuses calls that would read or write outside an array, bad strides or mixed precisions, before BLAS runs", () => {
    const A = new Float64Array(6);
    const Bm = new Float64Array(6);
    const C = new Float64Array(4);
    // A is [K = 3, lda = 2]: from aOff 1 it needs 7 values.
    assert.throws(() => blas.gemmTN(A, 1, 2, Bm, 0, 2, 3, 2, 2, C, 0, 2), (e: Error) => e instanceof RangeError && /out of bounds.*A: 6 values, needs 7/.test(e.message));
    assert.throws(() => blas.gemmTN(A, 0, 2, Bm, 1, 2, 3, 2, 2, C, 0, 2), /out of bounds.*B: 6, needs 7/);
    assert.throws(() => blas.gemmTN(A, 0, 2, Bm, 0, 2, 3, 2, 2, C, 1, 2), /out of bounds.*C: 4, needs 5/);
    assert.throws(() => blas.gemmTN(A, 0, 1, Bm, 0, 2, 3, 2, 2, C, 0, 2), /lda \(1\) must be at least M \(2\)/);
    assert.throws(() => blas.gemmTN(A, 0, 2, Bm, 0, 2, 3, 2, 2, C, 0, 1), /ldc \(1\) at least N \(2\)/);
    assert.throws(() => blas.gemmTN(A, 0, 2, new Float32Array(6), 0, 2, 3, 2, 2, C, 0, 2), (e: Error) => e instanceof TypeError && /must all be Float32Array or all Float64Array/.test(e.message));
    assert.throws(() => blas.gemmTN(A, 0, 2, Bm, 0, 2, -3, 2, 2, C, 0, 2), /K must be an integer/);
    assert.throws(() => blas.gemmTN(A, 0, 2, [1, 2] as unknown as Float64Array, 0, 2, 1, 1, 1, C, 0, 2), /B must be a Float32Array or Float64Array/);
    assert.throws(() => (blas.gemmTN as (...a: unknown[]) => void)(A, 0, 2), /takes 12 arguments/);
    assert.deepEqual([...C], [0, 0, 0, 0], "nothing was written");
  });

  it("unaryBackward and mulBackward add exactly what the JavaScript gradient rules add, in float64 and float32", () => {
    for (const T of [Float64Array, Float32Array]) {
      const n = 1000;
      const operand = (seed: number, scale = 1) => ({ size: n, value: random(T, n + 5, seed, scale), valueAt: 5, grad: random(T, n + 3, seed + 1), gradAt: 3 });
      const args = (op: string, operands: ReturnType<typeof operand>[], y = random(T, n + 2, 31, 0.999)) =>
        ({ node: { op } as never, n: 25, B: 40, grad: random(T, n + 1, 30, 3), gradAt: 1, value: y, valueAt: 2, operands, params: {}, paramGrads: {} }) satisfies VjpArgs;
      const cases: [string, (a: VjpArgs) => void][] = [
        ["sigmoid", (a) => blas.unaryBackward(0, a.grad, a.gradAt, a.value, a.valueAt, a.operands[0].grad, a.operands[0].gradAt, n)],
        ["tanh", (a) => blas.unaryBackward(1, a.grad, a.gradAt, a.value, a.valueAt, a.operands[0].grad, a.operands[0].gradAt, n)],
        ["add", (a) => a.operands.forEach((o) => blas.unaryBackward(2, a.grad, a.gradAt, a.grad, 0, o.grad, o.gradAt, n))],
        ["sub", (a) => a.operands.forEach((o, j) => blas.unaryBackward(j === 0 ? 2 : 3, a.grad, a.gradAt, a.grad, 0, o.grad, o.gradAt, n))],
        ["mul", (a) => blas.mulBackward(a.grad, a.gradAt, a.operands[0].value, a.operands[0].valueAt, a.operands[0].grad, a.operands[0].gradAt, a.operands[1].value, a.operands[1].valueAt, a.operands[1].grad, a.operands[1].gradAt, n)],
      ];
      for (const [op, native] of cases) {
        const count = op === "sigmoid" || op === "tanh" ? 1 : 2;
        const ours = args(op, Array.from({ length: count }, (_, j) => operand(40 + j, 2)));
        const theirs = { ...ours, operands: ours.operands.map((o) => ({ ...o, grad: o.grad.slice() })) };
        native(ours);
        VJP[op as OpKind](theirs);
        ours.operands.forEach((o, j) => assert.deepEqual(o.grad, theirs.operands[j].grad, `${T.name} ${op}, operand ${j}`));
        assert.ok(ours.operands[0].grad.some((v, k) => v !== operand(40, 2).grad[k]), `${op} changed something`);
      }
      // y = x ⊙ x: both operands the same gradient array, added into twice, as the JavaScript rule does.
      const x = operand(50);
      const same = args("mul", [x, x]);
      const reference = x.grad.slice();
      VJP.mul({ ...same, operands: [{ ...x, grad: reference }, { ...x, grad: reference }] });
      blas.mulBackward(same.grad, same.gradAt, x.value, x.valueAt, x.grad, x.gradAt, x.value, x.valueAt, x.grad, x.gradAt, n);
      assert.deepEqual(x.grad, reference);
    }
  });

  it("unaryBackward and mulBackward refuse out-of-bounds spans, mixed precisions and unknown ops before writing", () => {
    const G = new Float64Array(4);
    const D = new Float64Array(4);
    assert.throws(() => blas.unaryBackward(0, G, 1, G, 0, D, 0, 4), (e: Error) => e instanceof RangeError && /unaryBackward: out of bounds \(G: 4 values, needs 5\)/.test(e.message));
    assert.throws(() => blas.unaryBackward(1, G, 0, G, 0, D, 2, 4), /out of bounds \(D: 4 values, needs 6\)/);
    assert.throws(() => blas.unaryBackward(4 as 0, G, 0, G, 0, D, 0, 4), /op must be 0 \(sigmoid\), 1 \(tanh\), 2 \(add\) or 3 \(subtract\)/);
    assert.throws(() => blas.unaryBackward(0, G, 0, new Float32Array(4), 0, D, 0, 4), (e: Error) => e instanceof TypeError && /G, Y and D must all be/.test(e.message));
    assert.throws(() => blas.unaryBackward(0, G, 0, G, 0, D, 0, -1), /n must be an integer/);
    assert.throws(() => blas.mulBackward(G, 0, G, 0, D, 0, G, 3, D, 0, 4), /mulBackward: out of bounds \(B: 4 values, needs 7\)/);
    assert.throws(() => blas.mulBackward(G, 0, G, 0, D, 0, G, 0, new Float32Array(4), 0, 4), (e: Error) => e instanceof TypeError && /must all be Float32Array or all Float64Array/.test(e.message));
    assert.throws(() => (blas.mulBackward as (...a: unknown[]) => void)(G, 0, G), /takes 11 arguments/);
    assert.deepEqual([...D], [0, 0, 0, 0], "nothing was written");
  });

  it("binary computes mul, add, sub and div exactly as the generated JavaScript loop, in float64 and float32, overlapping arrays included", () => {
    const kinds = ["mul", "add", "sub", "div"] as const;
    for (const T of [Float64Array, Float32Array]) {
      const n = 1500;
      // Wide magnitudes (float32's rounding of a double result shows), specials, and zeros for div.
      const specials = [0, -0, 1e-310, -1e-45, 3.4e38, -3.4e38, 1e300, Infinity, -Infinity, NaN, 1, -1];
      const A = T.from([...specials, ...random(T, n, 61, 1e6)]);
      const B = T.from([...specials.slice().reverse(), ...random(T, n, 62, 1e-3)]);
      const m = n + specials.length - 7;
      kinds.forEach((kind, op) => {
        // The reference: the same loop the engine generates for this op (EXPRESSION), over the same typed arrays.
        const loop = new Function("A", "a", "B", "b", "O", "o", "n", `for (let k = 0; k < n; k++) O[o + k] = ${EXPRESSION[kind]("A[a + k]", "B[b + k]")};`);
        const ours = new T(m + 9).fill(7);
        const ref = ours.slice();
        blas.binary(op as 0, A, 5, B, 2, ours, 4, m);
        loop(A, 5, B, 2, ref, 4, m);
        assert.deepEqual(ours, ref, `${T.name} ${kind}`);
        assert.equal(ours[3], 7);
        assert.equal(ours[m + 4], 7, "nothing written past n");
        // Output overlapping an operand, shifted either way: read in order, as the loop reads.
        for (const shift of [-3, 0, 3]) {
          const [x, y] = [A.slice(), A.slice()];
          blas.binary(op as 0, x, 3, B, 0, x, 3 + shift, m);
          loop(y, 3, B, 0, y, 3 + shift, m);
          assert.deepEqual(x, y, `${T.name} ${kind} in place, shifted ${shift}`);
        }
      });
    }
  });

  it("binary refuses out-of-bounds spans, mixed precisions, unknown ops and a wrong argument count before writing", () => {
    const A = new Float64Array(4);
    const O = new Float64Array(4);
    assert.throws(() => blas.binary(0, A, 1, A, 0, O, 0, 4), (e: Error) => e instanceof RangeError && /binary: out of bounds \(A: 4 values, needs 5\)/.test(e.message));
    assert.throws(() => blas.binary(1, A, 0, A, 2, O, 0, 4), /binary: out of bounds \(B: 4 values, needs 6\)/);
    assert.throws(() => blas.binary(2, A, 0, A, 0, O, 1, 4), /binary: out of bounds \(O: 4 values, needs 5\)/);
    assert.throws(() => blas.binary(4 as 0, A, 0, A, 0, O, 0, 4), (e: Error) => e instanceof RangeError && /op must be 0 \(multiply\), 1 \(add\), 2 \(subtract\) or 3 \(divide\)/.test(e.message));
    assert.throws(() => blas.binary(0, A, 0, new Float32Array(4), 0, O, 0, 4), (e: Error) => e instanceof TypeError && /binary: A, B and O must all be Float32Array or all Float64Array/.test(e.message));
    assert.throws(() => blas.binary(0, A, 0, A, 0, [0, 0] as unknown as Float64Array, 0, 1), /binary: O must be a Float32Array or Float64Array/);
    assert.throws(() => blas.binary(0, A, 0, A, 0, O, 0, 1.5), /binary: n must be an integer/);
    assert.throws(() => (blas.binary as (...a: unknown[]) => void)(0, A, 0, A), /binary\(op, A, aOff, B, bOff, O, oOff, n\) takes 8 arguments/);
    assert.deepEqual([...O], [0, 0, 0, 0], "nothing was written");
  });

  it("sigmoid and tanh: float32 results identical to archlab's JavaScript, float64 within 4 ulp, over the whole range", () => {
    const specials = [0, -0, 1e-300, -1e-300, 1e-8, -1e-8, 0.5, -0.5, 20, -20, 40, -40, 709, -709, 745, -745, 800, -800, 1e300, -1e300];
    for (const T of [Float32Array, Float64Array]) {
      const a = T.from([...specials, ...random(T, 4001, 9, 12), ...random(T, 999, 10, 0.01)]);
      for (const [op, f] of [[0, sigmoidJS], [1, tanhJS]] as const) {
        const out = new T(a.length + 2).fill(7);
        blas.unary(op, a, 0, out, 1, a.length);
        assert.equal(out[0], 7);
        assert.equal(out[a.length + 1], 7, "nothing written past n");
        for (let k = 0; k < a.length; k++) {
          const ref = T === Float32Array ? Math.fround(f(a[k])) : f(a[k]);
          const got = out[k + 1];
          if (T === Float32Array) assert.equal(got, ref, `${op ? "tanh" : "sigmoid"}(${a[k]}) in float32`);
          else assert.ok(Math.abs(got - ref) <= 4 * 2 ** -52 * Math.abs(ref), `${op ? "tanh" : "sigmoid"}(${a[k]}): ${got} vs ${ref}`);
        }
      }
    }
    assert.throws(() => blas.unary(2 as 0, new Float64Array(1), 0, new Float64Array(1), 0, 1), /op must be 0 \(sigmoid\) or 1 \(tanh\)/);
    assert.throws(() => blas.unary(0, new Float64Array(4), 1, new Float64Array(4), 0, 4), /out of bounds/);
  });

  it("large products and elementwise ops go native; teaching sizes stay in JavaScript", () => {
    assert.equal(productKind(false, 1024, 256, 32), "native");
    assert.equal(productKind(true, 64, 8, 1), "javascript");
    assert.equal(productKind(true, 64, 8, NATIVE_MIN_MACS / 512 - 1), "javascript");
    const nativePlan = plan(LSTM, { In: 256, H: 256 }, 32, true);
    assert.deepEqual(nativePlan.direct.map((d) => `${d.node}:${d.weight}`), ["i_pre:U_i", "f_pre:U_f", "g_pre:U_g", "o_pre:U_o"], "each U·h[t−1] is one native product into its node");
    assert.equal(nativePlan.groups.length, 0);
    assert.equal(plan(LSTM, { In: 256, H: 256 }, 32, false).groups.length, 1, "without the binding, the four are fused (one tfjs call)");
    const large = generate(LSTM, { In: 256, H: 256 }, 32, { b0: 0, b1: 32 }, nativePlan);
    // 32×256×256 multiply-adds each: under OpenBLAS's threads, so straight calls on the binding in a step held at one thread.
    assert.equal(large.match(/NATIVE\.gemm\(/g)?.length, 4);
    assert.ok(!/D\d/.test(large));
    const huge = plan(LSTM, { In: 8, H: 2048 }, 32, true);
    assert.deepEqual(huge.direct.map((d) => d.threaded), [true, true, true, true], "32×2048×2048 multiply-adds: OpenBLAS's threads may share each");
    assert.equal(generate(LSTM, { In: 8, H: 2048 }, 32, { b0: 0, b1: 32 }, huge).match(/D\d\.run\(/g)?.length, 4);
    const threads = blas.info().threads;
    cell(LSTM, { inputSize: 8, hiddenSize: 32, seed: 1 }).run(Array.from({ length: 3 }, () => Array.from({ length: 32 }, () => new Array(8).fill(0.5))));
    assert.equal(blas.info().threads, threads, "a run gives OpenBLAS its threads back");
    assert.equal(large.match(/NATIVE\.unary\(0,/g)?.length, 3, "three sigmoids");
    assert.equal(large.match(/NATIVE\.unary\(1,/g)?.length, 2, "two tanh");
    assert.equal(large.match(/NATIVE\.binary\(0,/g)?.length, 3, "three products f⊙c, i⊙g, o⊙tanh(c)");
    assert.equal(large.match(/NATIVE\.binary\(1,/g)?.length, 1, "one sum c");
    // The bench size (B = 32, H = 32): 32×32×32 products are OpenBLAS's, each straight into its node, no fused scratch.
    const bench = plan(LSTM, { In: 8, H: 32 }, 32, true);
    assert.equal(bench.direct.length, 4);
    assert.equal(bench.groups.length, 0);
    assert.ok(!generate(LSTM, { In: 8, H: 32 }, 32, { b0: 0, b1: 32 }, bench).includes("S0"));
    assert.equal(plan(LSTM, { In: 8, H: 32 }, 32, false).groups.length, 1, "without the binding, still one fused product per step");
    const small = generate(LSTM, { In: 8, H: 16 }, 1, { b0: 0, b1: 1 }, plan(LSTM, { In: 8, H: 16 }, 1, true));
    assert.ok(!small.includes("NATIVE.unary") && !small.includes("NATIVE.binary"));
    assert.ok(16 < NATIVE_MIN_VALUES && 16 < NATIVE_BINARY_MIN_VALUES);
  });
});

describe("a large run computes the same trace with and without the native kernels", () => {
  before(() => selectBackend());
  after(() => useNative(true));

  const sequence = (T: number, B: number, In: number) =>
    Array.from({ length: T }, (_, t) => Array.from({ length: B }, (_, b) => Array.from({ length: In }, (_, j) => Math.cos(0.21 * t + 0.17 * j + 0.9 * b))));

  /** Runs `c` on `xs` with and without the native kernels: every node's values agree within `tol`. */
  function agree(def: CellDef, c: Cell, xs: number[][][], tol: number) {
    useNative(true);
    const fast = c.run(xs);
    useNative(false);
    const plain = c.run(xs);
    useNative(true);
    for (const node of def.nodes) {
      const a = fast.raw(node.name);
      const b = plain.raw(node.name);
      let worst = 0;
      for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k] - b[k]));
      assert.ok(worst <= tol, `${def.name} ${node.name}: native and JavaScript differ by ${worst}`);
    }
  }

  for (const [dtype, tol] of [["float64", 1e-12], ["float32", 2e-5]] as const satisfies readonly (readonly [DType, number])[]) {
    it(`LSTM and reset-before GRU, B=16 In=64 H=256, ${dtype}: every intermediate within ${tol}`, () => {
      for (const def of [LSTM, GRU_RESET_BEFORE]) agree(def, cell(def, { inputSize: 64, hiddenSize: 256, seed: 11, dtype }), sequence(60, 16, 64), tol);
    });
  }

  it("LSTM and reset-before GRU at the issue's bench size (T=100 B=32 In=8 H=32, float64), their input products and biases in one native pass: every intermediate within 1e-12", () => {
    for (const def of [LSTM, GRU_RESET_BEFORE]) agree(def, cell(def, { inputSize: 8, hiddenSize: 32, seed: 5 }), sequence(100, 32, 8), 1e-12);
  });
});

describe("native conv2d (im2col + OpenBLAS sgemm) against the float64 reference kernel", () => {
  let blas: NativeBlas;
  before(() => {
    assert.ok(nativeInfo().loaded, nativeInfo().detail);
    blas = nativeBlas()!;
  });

  type Pad = number | "same" | "valid";
  /** The binding's result and nd.conv2d's (float64, on the same float32 values), and Σ|x·w| per output (the rounding's scale). */
  function both(B: number, H: number, W: number, C: number, KH: number, KW: number, CO: number, stride: number, pad: Pad, dilation: number, seed: number) {
    const x = random(Float32Array, B * H * W * C, seed) as Float32Array;
    const w = random(Float32Array, KH * KW * C * CO, seed + 1) as Float32Array;
    const [top, , OH] = nd.padding(pad, H, (KH - 1) * dilation + 1, stride);
    const [left, , OW] = nd.padding(pad, W, (KW - 1) * dilation + 1, stride);
    const out = new Float32Array(B * OH * OW * CO).fill(NaN); // overwritten, not added to
    blas.conv2d(x, w, out, [B, H, W, C, KH, KW, CO, stride, top, left, dilation, OH, OW]);
    const nd64 = (a: Float32Array, shape: number[], f = (v: number) => v) => ({ shape, data: Float64Array.from(a, f) });
    const ref = nd.conv2d(nd64(x, [B, H, W, C]), nd64(w, [KH, KW, C, CO]), stride, pad, dilation);
    const scale = nd.conv2d(nd64(x, [B, H, W, C], Math.abs), nd64(w, [KH, KW, C, CO], Math.abs), stride, pad, dilation);
    return { out, ref, scale };
  }

  const cases: [string, number, number, number, number, number, number, number, number, Pad, number][] = [
    // what, B, H, W, C, KH, KW, CO, stride, padding, dilation
    ["1×1 stride 1 (one gemm on the input itself), batch 2", 2, 5, 6, 5, 1, 1, 7, 1, 0, 1],
    ["1×1 stride 2 (ResNet's downsampling shortcut)", 1, 7, 7, 3, 1, 1, 4, 2, 0, 1],
    ["1×1 with padding 2 (a zero border)", 1, 4, 3, 3, 1, 1, 2, 1, 2, 1],
    ["3×3 padding 1, batch 2, 3 channels", 2, 6, 5, 3, 3, 3, 5, 1, 1, 1],
    ["3×3 stride 2 padding 1, odd sizes", 1, 9, 8, 6, 3, 3, 4, 2, 1, 1],
    ["7×7 stride 2 padding 3, 3 channels (ResNet's stem)", 1, 17, 15, 3, 7, 7, 8, 2, 3, 1],
    ["3×3 dilation 2 padding 2, batch 2", 2, 9, 10, 5, 3, 3, 3, 1, 2, 2],
    ["3×2 stride 2 padding 1 dilation 3", 1, 13, 11, 5, 3, 2, 6, 2, 1, 3],
    ['4×4 stride 2 "same" (more padding after than before)', 1, 8, 7, 3, 4, 4, 5, 2, "same", 1],
    ['2×3 "valid"', 1, 6, 6, 2, 2, 3, 3, 1, "valid", 1],
    ["kernel wider than the image with padding (taps outside on both sides)", 1, 3, 2, 2, 5, 5, 3, 1, 2, 1],
    ["3×3 on 256×256, batch 2: several blocks of output rows, the last one partial", 2, 256, 256, 16, 3, 3, 4, 1, 1, 1],
  ];
  cases.forEach(([what, ...c], i) =>
    it(what, () => {
      const { out, ref, scale } = both(...c, 20 + 2 * i);
      assert.equal(out.length, ref.data.length);
      for (let k = 0; k < ref.data.length; k++)
        assert.ok(Math.abs(out[k] - ref.data[k]) <= 1e-6 * (scale.data[k] + 1e-3), `element ${k}: native ${out[k]}, reference ${ref.data[k]} (Σ|x·w| = ${scale.data[k]})`);
    }),
  );

  it("refuses bad arguments with a named error before touching memory", () => {
    const x = new Float32Array(2 * 4 * 4 * 3), w = new Float32Array(3 * 3 * 3 * 5), out = new Float32Array(2 * 4 * 4 * 5).fill(7);
    const g = [2, 4, 4, 3, 3, 3, 5, 1, 1, 1, 1, 4, 4];
    const call = (...args: unknown[]) => () => (blas.conv2d as (...a: unknown[]) => void)(...args);
    assert.throws(call(x, w, out), (e: Error) => e instanceof TypeError && /conv2d\(X, Wt, Out, geometry\) takes 4 arguments/.test(e.message));
    assert.throws(call(new Float64Array(x.length), w, out, g), (e: Error) => e instanceof TypeError && /X, Wt and Out must all be Float32Array/.test(e.message));
    assert.throws(call([1, 2], w, out, g), /conv2d: X must be a Float32Array or Float64Array/);
    assert.throws(call(x, w, out, g.slice(0, 12)), /geometry must be an array \[B, H, W, C, KH, KW, CO, stride, padTop, padLeft, dilation, OH, OW\]/);
    assert.throws(call(x, w, out, new Float64Array(g)), /geometry must be an array/);
    assert.throws(call(x, w, out, g.map((v, i) => (i === 7 ? 0 : v))), (e: Error) => e instanceof RangeError && /stride and dilation must be at least 1/.test(e.message));
    assert.throws(call(x, w, out, g.map((v, i) => (i === 10 ? 1.5 : v))), /conv2d: dilation must be an integer in \[0, 2\^31\)/);
    assert.throws(call(x, w, out, g.map((v, i) => (i === 8 ? -1 : v))), /conv2d: padTop must be an integer/);
    assert.throws(call(x, w, out, g.map((v, i) => (i === 0 ? 3 : v))), (e: Error) => e instanceof RangeError && /out of bounds \(X: 96 values, needs 144/.test(e.message));
    assert.throws(call(x, w, out, g.map((v, i) => (i === 6 ? 6 : v))), /out of bounds \(X: 96 values, needs 96; Wt: 135, needs 162/);
    assert.throws(call(x, w, out, g.map((v, i) => (i === 11 ? 5 : v))), /Out: 160, needs 200\)/);
    assert.throws(call(x, w, out, g.map((v, i) => (i === 1 ? 2 ** 31 : v))), /H must be an integer in \[0, 2\^31\)/);
    assert.deepEqual(new Set(out), new Set([7]), "nothing was written");
  });
});

describe("native narrow (float64 → float32, the fast path's parameters)", () => {
  it("rounds exactly as Math.fround: ties to even, subnormals, overflow to ±Infinity, NaN, −0", () => {
    const specials = [0, -0, 1, -1, 1 + 2 ** -24, 1 + 3 * 2 ** -24, 1e-40, -1e-45, 1e-46, 3.4028235677973366e38, 3.5e38, -1e300, Infinity, -Infinity, NaN, Math.PI];
    const a = Float64Array.from([...specials, ...random(Float64Array, 5000, 31, 1e3)]);
    const out = new Float32Array(a.length + 1).fill(7);
    nativeBlas()!.narrow(a, out);
    for (let k = 0; k < a.length; k++) assert.ok(Object.is(out[k], Math.fround(a[k])), `${a[k]}: ${out[k]} vs Math.fround's ${Math.fround(a[k])}`);
    assert.equal(out[a.length], 7, "nothing written past A's length");
  });

  it("refuses other array types and a short output", () => {
    const blas = nativeBlas()!;
    assert.throws(() => blas.narrow(new Float32Array(2) as unknown as Float64Array, new Float32Array(2)), (e: Error) => e instanceof TypeError && /narrow: A must be a Float64Array and O a Float32Array/.test(e.message));
    assert.throws(() => blas.narrow(new Float64Array(3), new Float32Array(2)), (e: Error) => e instanceof RangeError && /narrow: out of bounds \(O: 2 values, needs 3\)/.test(e.message));
    assert.throws(() => (blas.narrow as (...a: unknown[]) => void)(new Float64Array(3)), /narrow\(A, O\) takes 2 arguments/);
  });
});

describe("the fast path's convolutions compute the same with and without the native conv2d", () => {
  before(() => selectBackend());
  after(() => useNative(true));

  /** Every conv2d node's value and the outputs, native on and off; how far apart, relative to each value's largest magnitude. */
  async function compare(m: Model, side: number) {
    const x = { shape: [2, side, side, 3], data: Float32Array.from({ length: 2 * side * side * 3 }, (_, i) => Math.sin(0.37 * i)) };
    const runs = [];
    for (const on of [true, false]) {
      useNative(on);
      runs.push(await m.run({ x }));
    }
    useNative(true);
    // The native results live as tfjs tensors like tfjs's own: a run's trace disposed frees them all.
    const tf = await tensorflow();
    const held = () => [tf.memory().numTensors, tf.engine().backend.numDataIds()];
    const before = held();
    for (let i = 0; i < 2; i++) (await m.run({ x })).trace.dispose();
    assert.deepEqual(held(), before, "no tensor nor backend buffer left behind");
    const [a, b] = runs.map((r) => r.trace);
    const paths = a.paths.filter((p) => a.node(p).op === "conv2d" || Object.values(m.graph.outputs).includes(a.node(p)));
    assert.ok(paths.length > 3);
    let bitsDiffer = false;
    for (const p of paths) {
      const [u, v] = [a.get(p).data, b.get(p).data];
      const big = Math.max(...Array.from(v, Math.abs));
      for (let k = 0; k < u.length; k++) {
        assert.ok(Math.abs(u[k] - v[k]) <= 1e-4 * big, `${p}[${k}]: native ${u[k]}, tfjs ${v[k]} (largest |value| ${big})`);
        bitsDiffer ||= u[k] !== v[k];
      }
    }
    runs.forEach((r) => r.trace.dispose());
    // The two are different computations (another order of the sums): on the WebAssembly or CPU
    // backend some value differs in its last bits, which shows the native path ran. On tfjs-node
    // (which keeps its own kernels) both runs are tfjs's and equal.
    assert.equal(bitsDiffer, currentBackend() !== "tensorflow");
  }

  it("the op's options (stride, number / same / valid padding, dilation, 1×1) as the float64 reference computes them, ≥ 32 output channels", async () => {
    const cases: [number, number | "same" | "valid", number, number, number][] = [
      // stride, padding, dilation, kernel, output channels
      [2, "same", 1, 4, 32], [2, "same", 1, 5, 32], [1, "same", 2, 3, 33], [2, "valid", 1, 3, 40], [3, 2, 2, 3, 32], [1, 0, 1, 1, 64], [2, 0, 1, 1, 35],
    ];
    for (const [stride, padding, dilation, k, cout] of cases) {
      const m = nn.model("conv", {}, () => ({ y: nn.conv2d(nn.input("x", ["B", 11, 10, 5]), nn.param("w", [k, k, 5, cout]), { stride, padding, dilation }) }));
      const x = { shape: [2, 11, 10, 5], data: Float64Array.from({ length: 2 * 11 * 10 * 5 }, (_, i) => Math.fround(Math.cos(0.3 * i))) };
      m.graph.values.get(m.graph.params[0])!.data.forEach((v, i, a) => (a[i] = Math.fround(v)));
      const [fast, ref] = [(await m.run({ x })).outputs.y, (await m.run({ x }, { backend: "reference" })).outputs.y];
      const what = `stride ${stride}, padding ${padding}, dilation ${dilation}, ${k}×${k} → ${cout}`;
      assert.deepEqual(fast.shape, ref.shape, what);
      for (let i = 0; i < ref.data.length; i++) assert.ok(Math.abs(fast.data[i] - ref.data[i]) <= 1e-5 * (1 + Math.abs(ref.data[i])), `${what} [${i}]: ${fast.data[i]} vs ${ref.data[i]}`);
    }
  });

  it("ResNet-18 at [2, 32, 32, 3]: every convolution (7×7 stride 2, 3×3 strides 1 and 2, 1×1 stride 2) and the logits", async () => {
    await compare(zoo.resnet18({ height: 32, width: 32 }), 32);
  });

  it("ConvAutoEncoder at [2, 32, 32, 3]: every convolution and the output", async () => {
    await compare(zoo.convAutoEncoder({ height: 32, width: 32 }), 32);
  });
});
