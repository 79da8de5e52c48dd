/**
 * The fast path's trace holds each node's tfjs tensor until it is first read (reading every node
 * back as it was computed took ~40% of the ConvAutoEncoder's run): read lazily it gives the same
 * values as read at once; dispose, reading, a failed run and traces kept without dispose all leave
 * tfjs's memory bounded.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import * as tf from "@tensorflow/tfjs-core";
import { ArchlabError } from "../errors";
import { tensorflow } from "../engine/tensorflow";
import { convAutoEncoder } from "../zoo/conv-autoencoder";
import { add, batchNorm, inits, input, matmul, model, named, param, relu, reshape, scan, tanh, upsample, type ND } from "./index";

/** A small scan (its body's nodes are recorded per step) beside a feed-forward part. */
function scanned() {
  return model("Scanned", { In: 3, H: 4 }, () => {
    const xs = input("x", ["B", "T", "In"]);
    const h0 = input("h0", ["B", "H"]);
    const Wx = param("Wx", ["In", "H"]);
    const Wh = param("Wh", ["H", "H"]);
    const { out } = scan("rnn", { x: xs }, { h: h0 }, ({ x }, { h }) => {
      const hn = named("h", tanh(add(matmul(x, Wx), matmul(h, Wh))));
      return { state: { h: hn }, out: { h: hn } };
    });
    return { hs: named("hs", tanh(out.h)) };
  });
}

const image = (side: number): ND => ({ shape: [1, side, side, 3], data: Float64Array.from({ length: side * side * 3 }, (_, i) => Math.sin(0.37 * i)) });
const sequence = { x: Array.from({ length: 2 }, (_, b) => Array.from({ length: 5 }, (_, t) => [Math.sin(b + t), Math.cos(t), 0.1 * t])), h0: [[0, 0.5, -0.5, 1], [1, 0, 0, -1]] };

test("a fast trace read lazily equals the same run read as it computed (checkFinite reads every node at once) and the reference, at every path", async () => {
  for (const [m, inputs] of [
    [convAutoEncoder({ height: 16, width: 16 }), { x: image(16) }],
    [scanned(), sequence],
  ] as const) {
    const lazy = await m.run(inputs);
    const eager = await m.run(inputs, { checkFinite: true });
    const reference = await m.run(inputs, { backend: "reference" });
    assert.ok(lazy.trace.paths.length > 10);
    for (const path of lazy.trace.paths) {
      const a = lazy.trace.get(path);
      assert.deepEqual(a, eager.trace.get(path), path);
      const r = reference.trace.get(path);
      assert.deepEqual(a.shape, r.shape, path);
      r.data.forEach((v, i) => assert.ok(Math.abs(a.data[i] - v) <= 1e-4 * (1 + Math.abs(v)), `${path}[${i}]: fast ${a.data[i]}, reference ${v}`));
    }
    assert.deepEqual(lazy.outputs, eager.outputs);
    lazy.trace.dispose();
  }
});

test("dispose frees every tensor a trace holds; values read before stay readable, unread ones are a named error", async () => {
  await tensorflow();
  const m = convAutoEncoder({ height: 16, width: 16 });
  const before = tf.memory().numTensors;
  const { trace, outputs } = await m.run({ x: image(16) });
  assert.ok(tf.memory().numTensors > before + 20, "the trace holds its nodes' tensors until read");
  const pool = trace.get("enc1/pool");
  trace.dispose();
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(trace.get("enc1/pool"), pool);
  assert.deepEqual(trace.get("y"), outputs.y, "the outputs were read by the run");
  assert.throws(() => trace.get("enc2/pool"), (e: unknown) => e instanceof ArchlabError && e.code === "disposed" && /^The trace of ConvAutoEncoder was disposed before enc2\/pool was read/.test(e.message));

  // Reading every path frees every tensor too, without dispose.
  const again = await m.run({ x: image(16) });
  for (const path of again.trace.paths) again.trace.get(path);
  assert.equal(tf.memory().numTensors, before);
});

test("a run that fails part way frees the tensors it had recorded", async () => {
  await tensorflow();
  const m = model("Fails", {}, () => ({ y: reshape(named("t", tanh(input("x", ["B", 3]))), ["B", 4]) }));
  const before = tf.memory().numTensors;
  await assert.rejects(m.run({ x: [[1, 2, 3]] }), /^ArchlabError: reshape \(reshape\) on operands of shapes \[1, 3\]/);
  assert.equal(tf.memory().numTensors, before);
});

/** A model whose one run holds a 64 MiB upsampled image (2048 × 2048 × 4 float32), and its input. */
const bigRun = () => ({
  m: model("Big", {}, () => ({ y: relu(named("big", upsample(input("x", ["B", 2, 2, 4]), 1024))) })),
  x: { shape: [1, 2, 2, 4], data: Float64Array.from({ length: 16 }, (_, i) => i / 16) } as ND,
});

test("traces kept without dispose hold bounded memory: past 256 MiB the oldest are read back to the host, their values unchanged", async () => {
  await tensorflow();
  const { m, x } = bigRun();
  const base = tf.memory().numBytes;
  const kept = [];
  for (let k = 0; k < 6; k++) {
    kept.push((await m.run({ x })).trace);
    assert.ok(tf.memory().numBytes - base <= 2 ** 28, `after ${k + 1} runs the traces hold ${tf.memory().numBytes - base} bytes`);
  }
  // The first trace was read back: its upsampled image repeats each input pixel over 1024 × 1024.
  const big = kept[0].get("big");
  assert.deepEqual(big.shape, [1, 2048, 2048, 4]);
  for (const [i, j, c] of [[0, 0, 0], [1023, 1023, 3], [1024, 0, 1], [2047, 2047, 2]]) assert.equal(big.data[(i * 2048 + j) * 4 + c], Math.fround(x.data[((i >> 10) * 2 + (j >> 10)) * 4 + c]));
  assert.deepEqual(kept[5].get("big"), big);
  for (const t of kept) t.dispose();
  assert.equal(tf.memory().numBytes, base);
});

test("per-channel kernels of the fast path (a bias added either side, batch norm in both modes, as a 1×1 depthwise convolution on wasm) equal the reference at ranks 2 to 4", async () => {
  for (const shape of [["B", 64, 80], ["B", 40, 8, 20], ["B", 64]] as const) {
    const C = shape[shape.length - 1] as number;
    const m = model("Channels", {}, () => {
      const x = input("x", [...shape]);
      const b = param("b", [C]);
      const left = named("left", add(x, b));
      const right = named("right", add(b, x));
      const stat = (name: string, around: number) => param(name, [C], { init: inits.value(Array.from({ length: C }, (_, c) => around + Math.cos(c))) });
      return { y: named("bn", batchNorm(add(left, right), stat("gamma", 1), stat("beta", 0), stat("mean", 6), stat("var", 2))) };
    });
    const dims = shape.map((d) => (d !== "B" ? d : shape.length === 2 ? 128 : 2));
    const n = dims.reduce((a, b) => a * b, 1);
    assert.ok(n >= 4096, "large enough for the fast channel kernel");
    // Channels offset far from 0, so batch norm's statistics matter.
    const x: ND = { shape: dims, data: Float64Array.from({ length: n }, (_, i) => 3 + (i % C) / 7 + Math.sin(i)) };
    for (const training of [false, true]) {
      const fast = await m.run({ x }, { training });
      const reference = await m.run({ x }, { training, backend: "reference" });
      // A bias added is exactly float32's x + b, as tfjs's add gives.
      const b = reference.trace.get("b").data;
      const sum = Float32Array.from(x.data, (v, i) => Math.fround(v) + Math.fround(b[i % C]));
      assert.deepEqual(fast.trace.get("left"), { shape: dims, data: sum });
      assert.deepEqual(fast.trace.get("right"), { shape: dims, data: sum });
      // Batch norm to float32's accuracy on statistics of values ~30 (tfjs's own batchNorm is as far).
      const [a, r] = [fast.trace.get("bn"), reference.trace.get("bn")];
      assert.deepEqual(a.shape, r.shape);
      r.data.forEach((v, i) => assert.ok(Math.abs(a.data[i] - v) <= 1e-4 * (1 + Math.abs(v)), `${shape} bn[${i}] training ${training}: fast ${a.data[i]}, reference ${v}`));
      fast.trace.dispose();
    }
  }
});

test("a trace dropped without dispose frees its tensors when garbage-collected", async () => {
  await tensorflow();
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const m = convAutoEncoder({ height: 16, width: 16 });
  const before = tf.memory().numTensors;
  const held = async () => {
    const { trace } = await m.run({ x: image(16) });
    return trace.paths.length;
  };
  assert.ok((await held()) > 20);
  assert.ok(tf.memory().numTensors > before + 20, "the dropped trace still holds its tensors");
  for (let k = 0; k < 20 && tf.memory().numTensors > before; k++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(tf.memory().numTensors, before);
});

test("before refusing a node too large for the WebAssembly backend's memory left, earlier traces' unread tensors are read back to the host", async () => {
  await tensorflow();
  const { m, x } = bigRun();
  const base = tf.memory().numBytes;
  const { trace } = await m.run({ x });
  assert.ok(tf.memory().numBytes - base >= 2 ** 26, "the trace holds its 64 MiB image");
  // 2^30 float32 (4 GiB): more than the backend's memory whatever is held; refused before allocating, after reading
  // the held trace back (the run then holds only its own 16-float input).
  const wide = model("wide", {}, () => ({ y: named("wide", upsample(input("x", ["B", 2, 2, 4]), 8192)) }));
  await assert.rejects(wide.run({ x }), (e: unknown) => e instanceof ArchlabError && e.code === "too-large" && /this run already holds 64 bytes\)/.test(e.message));
  assert.equal(tf.memory().numBytes, base, "the held trace was read back");
  const big = trace.get("big");
  assert.equal(big.data[(1024 * 2048 + 1024) * 4 + 3], Math.fround(x.data[15]));
  trace.dispose();
});
