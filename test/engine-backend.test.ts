import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { backendInfo, currentBackend, selectBackend } from "../src/engine/backend";
import { tensorflow } from "../src/engine/tensorflow";

const installed = (name: string) => {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
};

describe("TensorFlow.js backend selection", () => {
  it("picks tfjs-node when it loads, else wasm (offline, from node_modules), and says what it tried", async () => {
    assert.equal(currentBackend(), undefined);
    assert.throws(() => backendInfo(), /selectBackend/);
    const info = await selectBackend();
    assert.deepEqual(backendInfo(), info);
    if (installed("@tensorflow/tfjs-node")) {
      assert.equal(info.name, "tensorflow");
    } else {
      assert.equal(info.name, "wasm");
      assert.deepEqual(info.tried.map((t) => [t.name, t.ok]), [["tensorflow", false], ["wasm", true]]);
      assert.match(info.tried[0].error!, /Cannot find module '@tensorflow\/tfjs-node'/);
      assert.match(info.reason, /tfjs-node is not available/);
    }
    const tf = await tensorflow();
    assert.equal(tf.getBackend(), info.name);
    assert.equal(currentBackend(), info.name);
  });

  it("computes on the chosen backend: a matrix product equals the same sums done by hand", async () => {
    const tf = await tensorflow();
    const a = [[1, 2, 3], [4, 5, 6]];
    const b = [[0.5, -1], [2, 0.25], [-3, 1]];
    const product = tf.matMul(tf.tensor2d(a), tf.tensor2d(b));
    const expected = a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
    assert.deepEqual(await product.array(), expected);
    product.dispose();
  });

  it("answers with the same backend on every later call", async () => {
    const first = await selectBackend();
    assert.equal(await selectBackend({ order: ["cpu"] }), first);
  });
});
