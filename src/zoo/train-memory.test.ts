/**
 * The memory and image models of the zoo train: the NTM's training form is differentiated exactly
 * (model.backward against finite differences of the whole model), and with a fixed seed the NTM
 * learns the copy task and the small convolutional autoencoder learns to reconstruct digits, each
 * to a stated error in a few seconds of training (notebooks 13 and 15 train the same way, longer).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { relativeError } from "../lang/fixtures/finite-differences";
import { adam, train } from "../train";
import { copyBits } from "./copy-bits";
import { convAutoEncoder } from "./conv-autoencoder";
import { digits } from "./digits";
import { ntm } from "./ntm";

const nd = (v: number[][][]) => ({ shape: [v.length, v[0].length, v[0][0].length], data: Float64Array.from(v.flat(2)) });

test("NTM training form: ∂loss/∂(every parameter) equals central finite differences of the whole NTM", async () => {
  const net = ntm({ NInput: 3, NOutput: 2, N: 4, W: 3, NController: 4, loss: true, seed: 3 });
  const { x, target } = copyBits({ count: 2, bits: 2, length: 2, seed: 5 });
  const inputs = { x: nd(x), target: nd(target) };
  const g = net.backward(await net.run(inputs, { backend: "reference" }), { loss: 1 });
  const loss = async () => (await net.run(inputs, { backend: "reference" })).outputs.loss.data[0];
  // ε = 1e-4, not the lang tests' 1e-5: the keys' and key strengths' gradients are small (the memory
  // starts nearly uniform), and at 1e-5 the rounding of the loss (≈1e-16/ε) is already 1e-6 of them.
  const eps = 1e-4;
  const params = net.graph.params.filter((p) => p.attrs.kind === "trainable");
  assert.equal(params.length, 28, "controller, two heads of 6 maps, erase, add and readout: 28 weights and biases");
  for (const p of params) {
    const values = net.graph.values.get(p)!.data as Float64Array;
    const numeric: number[] = [];
    for (let k = 0; k < values.length; k++) {
      const v = values[k];
      values[k] = v + eps;
      const plus = await loss();
      values[k] = v - eps;
      const minus = await loss();
      values[k] = v;
      numeric.push((plus - minus) / (2 * eps));
    }
    const e = relativeError(g.params[p.path].data, numeric);
    assert.ok(e < 2e-5, `∂loss/∂${p.path}: relative error ${e.toExponential(2)}`);
  }
});

/** The fraction of output-phase bits of `batch` on the wrong side of ½. */
async function bitErrorRate(net: ReturnType<typeof ntm>, batch: ReturnType<typeof copyBits>): Promise<number> {
  const { outputs } = await net.run({ x: batch.x, target: batch.target });
  const [, T, bits] = outputs.y.shape;
  let wrong = 0;
  batch.target.forEach((seq, b) => batch.outputSteps.forEach((t) => seq[t].forEach((bit, k) => (wrong += Number((outputs.y.data[(b * T + t) * bits + k] > 0.5 ? 1 : 0) !== bit)))));
  return wrong / (batch.target.length * batch.outputSteps.length * bits);
}

test("NTM learns to copy: a tiny NTM's bit error rate on held-out sequences falls from about ½ to below 0.2 in 200 steps", async () => {
  const net = ntm({ NInput: 3, NOutput: 2, N: 8, W: 4, NController: 16, loss: true, seed: 1 });
  const heldOut = copyBits({ count: 64, bits: 2, length: 2, seed: 99 });
  const before = await bitErrorRate(net, heldOut);
  assert.ok(before > 0.3, `the untrained NTM guesses: ${before}`);
  const result = await train(net, (step) => {
    const { x, target } = copyBits({ count: 16, bits: 2, length: 2, seed: step + 1 });
    return { x, target };
  }, { steps: 200, optimizer: adam({ lr: 1e-2 }), clip: 10, progress: "none" });
  const after = await bitErrorRate(net, heldOut);
  assert.ok(after < 0.2, `bit error rate after training ${after} (before ${before}), last loss ${result.losses.at(-1)}`);
  assert.ok(result.losses.slice(-20).reduce((a, b) => a + b, 0) / 20 < result.losses.slice(0, 20).reduce((a, b) => a + b, 0) / 20 / 2, "the loss halves");
});

test("the small convolutional autoencoder learns to reconstruct digits: test MSE below half the all-background output’s in 60 steps", async () => {
  const shrink = (count: number, start: number) => {
    // 28×28 → 14×14 by 2×2 means, in a 16×16 frame (as notebook 15).
    const { x } = digits({ count, start, layout: "image" });
    const out = new Float64Array(count * 256);
    for (let k = 0; k < count; k++)
      for (let r = 0; r < 14; r++)
        for (let c = 0; c < 14; c++) {
          const at = (i: number, j: number) => x.data[k * 784 + i * 28 + j];
          out[k * 256 + (r + 1) * 16 + c + 1] = (at(2 * r, 2 * c) + at(2 * r, 2 * c + 1) + at(2 * r + 1, 2 * c) + at(2 * r + 1, 2 * c + 1)) / 4;
        }
    return { shape: [count, 16, 16, 1], data: out };
  };
  const trainSet = shrink(480, 0);
  const testSet = shrink(32, 5000);
  const net = convAutoEncoder({ height: 16, width: 16, channels: 1, loss: true, seed: 1 });
  const testMse = async () => (await net.run({ x: testSet }, { training: true })).outputs.loss.data[0];
  const background = testSet.data.reduce((s, v) => s + v * v, 0) / testSet.data.length;
  const before = await testMse();
  assert.ok(before > background, `untrained: ${before}, all-background: ${background}`);
  await train(net, (step) => {
    const from = ((step * 16) % 480) * 256;
    return { x: { shape: [16, 16, 16, 1], data: trainSet.data.slice(from, from + 16 * 256) } };
  }, { steps: 60, optimizer: adam({ lr: 0.01 }), progress: "none" });
  const after = await testMse();
  assert.ok(after < background / 2, `test MSE after training ${after}; all-background ${background}, untrained ${before}`);
});

test("the training forms' options and the copy task's sizes: named errors", () => {
  assert.throws(() => ntm({ loss: "yes" as never }), (e: Error) => e.name === "ArchlabError" && /loss of zoo\.ntm/.test(e.message));
  assert.throws(() => convAutoEncoder({ channels: 0 }), (e: Error) => e.name === "ArchlabError" && /channels of zoo\.convAutoEncoder/.test(e.message));
  assert.throws(() => convAutoEncoder({ loss: 1 as never }), (e: Error) => e.name === "ArchlabError" && /loss of zoo\.convAutoEncoder/.test(e.message));
  assert.throws(() => copyBits({ length: 0 }), (e: Error) => e.name === "ArchlabError" && /length of zoo\.copyBits/.test(e.message));
  assert.throws(() => copyBits({ bit: 4 } as never), (e: Error) => e.name === "ArchlabError" && /bit/.test(e.message));
  // The training form adds the target input and the loss output, and leaves y as it was.
  const plain = ntm({ NInput: 3, NOutput: 2, N: 4, W: 3, NController: 4, seed: 3 });
  const trained = ntm({ NInput: 3, NOutput: 2, N: 4, W: 3, NController: 4, seed: 3, loss: true });
  assert.deepEqual(Object.keys(plain.graph.outputs), ["y"]);
  assert.deepEqual(Object.keys(trained.graph.outputs).sort(), ["loss", "y"]);
  assert.deepEqual(trained.graph.inputs.map((i) => i.name).sort(), ["target", "x"]);
});
