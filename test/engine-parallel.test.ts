import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import { cell, GRU_RESET_AFTER, LSTM, PEEPHOLE_LSTM, type CellDef, type DType } from "../src";
import { selectBackend } from "../src/engine/backend";
import { nativeBlas, useNative } from "../src/engine/native";
import { closePool, PARALLEL_MIN_WORK, partsFor, ranges } from "../src/engine/parallel";

const sequence = (T: number, B: number, In: number) =>
  Array.from({ length: T }, (_, t) => Array.from({ length: B }, (_, b) => Array.from({ length: In }, (_, j) => Math.sin(0.29 * t + 0.13 * j - 0.7 * b))));

/** Runs with ARCHLAB_THREADS set to `threads` (restored afterwards). */
function withThreads<T>(threads: number, f: () => T): T {
  const saved = process.env.ARCHLAB_THREADS;
  process.env.ARCHLAB_THREADS = String(threads);
  try {
    return f();
  } finally {
    if (saved === undefined) delete process.env.ARCHLAB_THREADS;
    else process.env.ARCHLAB_THREADS = saved;
  }
}

/**
 * One run on one thread and one split across `threads`, same cell, input and options; every stored
 * value compared: identical when every product is archlab's own (JavaScript or TensorFlow.js), within
 * `tolerance` when OpenBLAS computes the large ones (its rounding depends on how many rows and threads a product has).
 */
function compareSplit(def: CellDef, { T, B, In, H }: { T: number; B: number; In: number; H: number }, dtype: DType, threads: number, options = {}, tolerance = 0) {
  const c = cell(def, { inputSize: In, hiddenSize: H, seed: 5, dtype });
  const xs = sequence(T, B, In);
  const serial = withThreads(1, () => c.run(xs, options));
  const tensors = tf.memory().numTensors;
  const split = withThreads(threads, () => c.run(xs, options));
  assert.equal(tf.memory().numTensors, tensors, "no tfjs tensor outlives a split run");
  const first = def.nodes[0].name;
  assert.ok(split.raw(first).buffer instanceof SharedArrayBuffer, "the run was split (its trace lives in shared memory)");
  assert.ok(!(serial.raw(first).buffer instanceof SharedArrayBuffer));
  assert.equal(split.length, T);
  for (const node of def.nodes) {
    const a = serial.raw(node.name);
    const b = split.raw(node.name);
    assert.equal(b.length, a.length, node.name);
    let worst = 0;
    for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k] - b[k]));
    assert.ok(worst <= tolerance, `${node.name}: split and single-thread runs differ by up to ${worst} (tolerance ${tolerance})`);
  }
  return split;
}

describe("large runs split across threads compute exactly what one thread computes", () => {
  let native = true;
  before(async () => {
    await selectBackend();
    native = useNative(false); // archlab's own products: splitting must not change a single bit
  });
  after(async () => {
    useNative(native);
    await closePool();
  });

  it("decides to split only when the run is large, the batch has several elements and threads are allowed", () => {
    const large = { T: 400, B: 4 };
    withThreads(2, () => {
      assert.equal(partsFor(LSTM, { In: 64, H: 64 }, large.T, large.B), 2);
      assert.equal(partsFor(LSTM, { In: 64, H: 64 }, large.T, 1), 1, "batch 1 cannot be split");
      assert.equal(partsFor(LSTM, { In: 8, H: 16 }, 1000, 1), 1, "teaching sizes stay on one thread");
      assert.equal(partsFor(LSTM, { In: 8, H: 16 }, 10, 4), 1, "small work stays on one thread");
    });
    withThreads(8, () => assert.equal(partsFor(LSTM, { In: 64, H: 64 }, large.T, 3), 3, "never more parts than batch elements"));
    withThreads(1, () => assert.equal(partsFor(LSTM, { In: 64, H: 64 }, large.T, large.B), 1, "ARCHLAB_THREADS=1 turns splitting off"));
    assert.ok(PARALLEL_MIN_WORK > 0);
  });

  it("ranges cover [0, n) exactly once, in order, as evenly as possible", () => {
    for (const [n, parts] of [[10, 3], [32, 2], [5, 5], [7, 4]]) {
      const r = ranges(n, parts);
      assert.equal(r.length, parts);
      assert.equal(r[0][0], 0);
      assert.equal(r[parts - 1][1], n);
      r.forEach(([a, b], k) => {
        if (k > 0) assert.equal(a, r[k - 1][1]);
        assert.ok(b - a >= Math.floor(n / parts) && b - a <= Math.ceil(n / parts));
      });
    }
  });

  it("LSTM float64 on 2 threads: every intermediate identical to one thread", () => {
    compareSplit(LSTM, { T: 400, B: 4, In: 64, H: 64 }, "float64", 2);
  });

  it("LSTM float32 (tfjs products on the chosen backend) on 3 threads with an odd batch: identical", () => {
    compareSplit(LSTM, { T: 300, B: 5, In: 64, H: 96 }, "float32", 3);
  });

  it("reset-after GRU and peephole LSTM, run backwards from given initial states: identical", () => {
    const B = 4;
    const H = 64;
    const initial = { h: Array.from({ length: B }, (_, b) => Array.from({ length: H }, (_, r) => Math.cos(b + 0.1 * r) / 2)) };
    compareSplit(GRU_RESET_AFTER, { T: 400, B, In: 64, H }, "float64", 2, { initial, reverse: true });
    compareSplit(PEEPHOLE_LSTM, { T: 400, B, In: 64, H }, "float64", 2, { initial: { ...initial, c: initial.h } });
  });

  it("a split trace is an ordinary trace: queries, CSV and later runs work", () => {
    const trace = compareSplit(LSTM, { T: 400, B: 4, In: 64, H: 64 }, "float64", 2);
    assert.equal(trace.series("h", 3, { b: 2 }).length, 400);
    assert.ok(trace.toCSV({ names: ["h"] }).split("\n").length > 400);
  });
});

describe("large runs split across threads with the native kernels (OpenBLAS products, vector sigmoid/tanh)", () => {
  before(() => selectBackend());
  after(() => closePool());

  it("agree with one thread to rounding, in float64 and float32, and leave OpenBLAS's thread count as it was", () => {
    const blas = nativeBlas();
    assert.ok(blas, "the native kernels are built (bash scripts/setup-system.sh, then npm ci)");
    const threads = blas.info().threads;
    // Large enough that every slice's products and sigmoids/tanhs go native (see engine-native.test.ts).
    compareSplit(LSTM, { T: 100, B: 16, In: 64, H: 256 }, "float64", 2, {}, 1e-12);
    assert.equal(blas.info().threads, threads);
    compareSplit(GRU_RESET_AFTER, { T: 100, B: 24, In: 64, H: 256 }, "float32", 3, { reverse: true }, 1e-5);
    assert.equal(blas.info().threads, threads);
  });
});
