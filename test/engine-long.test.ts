import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import { cell, LSTM, type DType } from "../src";
import { selectBackend } from "../src/engine/backend";

const T = 100_000;
const In = 8;
const H = 64;
const xs = Array.from({ length: T }, (_, t) => Array.from({ length: In }, (_, j) => Math.sin(0.01 * t + j)));

describe("a 100 000-step trace of hidden size 64", () => {
  for (const dtype of ["float32", "float64"] as const satisfies readonly DType[]) {
    it(`fits in memory, keeps every step, and leaves the live tfjs tensor count unchanged (${dtype})`, async () => {
      await selectBackend();
      const lstm = cell(LSTM, { inputSize: In, hiddenSize: H, seed: 7, dtype });
      const before = tf.memory().numTensors;
      const trace = lstm.run(xs);
      assert.equal(tf.memory().numTensors, before);
      assert.equal(trace.length, T);
      assert.ok(trace.value("h", { t: T - 1 }).every(Number.isFinite));
      // The long run's first steps are the short run's steps: nothing depends on the sequence length
      // (to rounding: the long run's input products are large enough for OpenBLAS or tfjs, the short one's are not).
      const short = lstm.run(xs.slice(0, 50));
      const tol = dtype === "float64" ? 1e-14 : 1e-6;
      for (const name of ["i", "f", "c", "h"]) {
        const d = Math.max(...trace.value(name, { t: 49 }).map((v, r) => Math.abs(v - short.value(name, { t: 49 })[r])));
        assert.ok(d <= tol, `${name}: long and short runs differ by ${d} at step 49`);
      }
    });
  }
});
