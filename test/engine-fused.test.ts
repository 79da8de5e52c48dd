import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import { cell, LSTM, type DType } from "../src";
import { currentBackend, selectBackend } from "../src/engine/backend";
import { productKind } from "../src/engine/gemm";
import { useNative } from "../src/engine/native";
import { plan } from "../src/engine/program";

/** The LSTM equations written out with plain loops, in float64, from the cell's own weights (archlab layout, x Wᵀ). */
function straightforwardLstm(weights: Record<string, any>, xs: number[][][], H: number) {
  const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
  const B = xs[0].length;
  let h = Array.from({ length: B }, () => new Array(H).fill(0));
  let c = Array.from({ length: B }, () => new Array(H).fill(0));
  const out: Record<string, number[][][]> = { i: [], f: [], g: [], o: [], c: [], h: [] };
  const pre = (gate: string, x: number[], hp: number[], r: number) => {
    let s = weights[`b_${gate}`][r];
    weights[`W_${gate}`][r].forEach((w: number, k: number) => (s += w * x[k]));
    weights[`U_${gate}`][r].forEach((u: number, k: number) => (s += u * hp[k]));
    return s;
  };
  for (const xt of xs) {
    const step: Record<string, number[][]> = { i: [], f: [], g: [], o: [], c: [], h: [] };
    for (let b = 0; b < B; b++) {
      const unit = (gate: string, act: (v: number) => number) => Array.from({ length: H }, (_, r) => act(pre(gate, xt[b], h[b], r)));
      const [i, f, g, o] = [unit("i", sigmoid), unit("f", sigmoid), unit("g", Math.tanh), unit("o", sigmoid)];
      const cb = c[b].map((cp, r) => f[r] * cp + i[r] * g[r]);
      Object.assign(step, { i: [...step.i, i], f: [...step.f, f], g: [...step.g, g], o: [...step.o, o], c: [...step.c, cb], h: [...step.h, cb.map((v, r) => o[r] * Math.tanh(v))] });
    }
    for (const k of Object.keys(out)) out[k].push(step[k]);
    h = step.h;
    c = step.c;
  }
  return out;
}

const sequence = (T: number, B: number, In: number) =>
  Array.from({ length: T }, (_, t) => Array.from({ length: B }, (_, b) => Array.from({ length: In }, (_, j) => Math.sin(0.37 * t + 0.11 * j - 0.5 * b))));

const maxDiff = (a: number[][][], b: number[][][]) => Math.max(...a.flatMap((at, t) => at.flatMap((ab, bb) => ab.map((v, r) => Math.abs(v - b[t][bb][r])))));

function check(sizes: { T: number; B: number; In: number; H: number }, dtype: DType, tol: number) {
  const { T, B, In, H } = sizes;
  const lstm = cell(LSTM, { inputSize: In, hiddenSize: H, seed: 3, dtype });
  const xs = sequence(T, B, In);
  const before = tf.memory().numTensors;
  const trace = lstm.run(xs);
  assert.equal(tf.memory().numTensors, before, "no tfjs tensor outlives the run");
  const reference = straightforwardLstm(lstm.weights(), xs, H);
  for (const name of ["i", "f", "g", "o", "c", "h"]) {
    const d = maxDiff(trace.get(name), reference[name]);
    assert.ok(d < tol, `${name}: max |fused − straightforward| = ${d}, tolerance ${tol}`);
  }
}

describe("hoisted and fused products agree with the straightforward equations", () => {
  before(() => selectBackend());

  it("the plan fuses LSTM's four U·h[t−1] products into one at large sizes and keeps teaching sizes unrolled", () => {
    const big = plan(LSTM, { In: 40, H: 48 }, 4);
    assert.equal(big.groups.length, 1);
    assert.deepEqual(big.groups[0].members.map((m) => m.weight), ["U_i", "U_f", "U_g", "U_o"]);
    assert.equal(big.groups[0].R, 4 * 48);
    assert.deepEqual([...big.hoisted], ["x"]);
    assert.equal(plan(LSTM, { In: 8, H: 16 }, 1).groups.length, 0);
  });

  it("float64, fused JavaScript products: every gate, c and h within 1e-12 of plain loops (B=4, In=40, H=48)", () => {
    check({ T: 30, B: 4, In: 40, H: 48 }, "float64", 1e-12);
  });

  it("float64 at a teaching size (unrolled, hoisted input terms) within 1e-12", () => {
    check({ T: 25, B: 2, In: 3, H: 5 }, "float64", 1e-12);
  });

  it("float32 with tfjs products on the chosen backend, where the native binding is off (B=32, In=16, H=128) within 1e-4, no tensor left", () => {
    const previous = useNative(false);
    try {
      assert.equal(productKind(true, 4 * 128, 128, 32), currentBackend() === "cpu" ? "javascript" : "tensorflow");
      check({ T: 12, B: 32, In: 16, H: 128 }, "float32", 1e-4);
    } finally {
      useNative(previous);
    }
  });

  it("float32 and float64 with native products (B=32, In=16, H=128) within 1e-4 and 1e-12", () => {
    assert.equal(productKind(true, 4 * 128, 128, 32), "native", "the native kernels are built (bash scripts/setup-system.sh, then npm ci)");
    check({ T: 12, B: 32, In: 16, H: 128 }, "float32", 1e-4);
    check({ T: 12, B: 32, In: 16, H: 128 }, "float64", 1e-12);
  });
});
