/**
 * The gradient tricks' backward passes and notebook 18's claims: DANN's reversal sends −λ × the
 * domain gradient to the features; DNI's step seeds each layer with its synthetic gradient and each
 * module with its error (checked against plain loops); RAM's REINFORCE loss has the policy-gradient
 * estimate as its gradient at μ and leaves the classifier's gradient out of the locator. Then the
 * trainings of the notebook, at its sizes and seeds, and what its text says of them.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ND } from "../lang";
import { assertClose, softmax } from "../../test/support/plain-loop";
import * as zoo from ".";

const rowsOf = (v: ND) => Array.from({ length: v.shape[0] }, (_, i) => Array.from(v.data.slice((i * v.data.length) / v.shape[0], ((i + 1) * v.data.length) / v.shape[0])));
/** x Wᵀ for a row x and W [n, K] stored row-major (the gradient of x W with respect to x). */
const timesTransposed = (d: number[], W: ND) => Array.from({ length: W.shape[0] }, (_, k) => d.reduce((s, v, j) => s + v * W.data[k * W.shape[1] + j], 0));
/** Σ_b a_bᵀ d_b: the gradient of a matrix from its rows' inputs a and output gradients d. */
const outerSum = (a: number[][], d: number[][]) => a[0].flatMap((_, i) => d[0].map((_, j) => a.reduce((s, row, b) => s + row[i] * d[b][j], 0)));

describe("DANN's gradient reversal layer in the backward pass", () => {
  const inputs = { x: [[0.2, -0.4], [1, 0.3], [-0.5, 0.8]], y: [0, 1, 1], domain: [0, 1, 0] };

  it("the features receive −λ × the domain loss's gradient, and the label loss's unchanged", async () => {
    for (const lambda of [1, 0.5, 0]) {
      const net = zoo.dann({ lambda, NFeature: 6, NDomainHidden: 4, seed: 2 });
      const run = await net.run(inputs, { backend: "reference" });
      const domain = net.backward(run, { domainLoss: 1 }).trace;
      const above = Array.from(domain.get("reversed").data);
      assert.ok(above.some((v) => v !== 0), "the domain loss reaches the reversal");
      assertClose(domain.get("features/h").data, above.map((v) => -lambda * v), 1e-12, `λ = ${lambda}: ∂L_d/∂f`);
      const label = net.backward(run, { labelLoss: 1 }).trace;
      assert.ok(label.get("reversed").data.every((v) => v === 0), "the label loss does not pass the reversal");
      const both = net.backward(run, { loss: 1 }).trace.get("features/h").data;
      assertClose(both, Array.from(label.get("features/h").data, (v, i) => v - lambda * above[i]), 1e-12, `λ = ${lambda}: ∂L/∂f`);
    }
  });
});

describe("DNI's training step", () => {
  const data = zoo.spiral({ n: 12, classes: 3, seed: 4 });
  const o = { NInput: 2, NHidden: 5, NLayers: 2, NClasses: 3, seed: 3 };

  it("each layer updates from its synthetic gradient, the output layer from the loss, each module from ĝ − δ (a plain loop's values)", async () => {
    const net = zoo.dni(o);
    const p = net.params;
    for (const i of [1, 2]) p[`M${i}/A`].data.set(Array.from({ length: 25 }, (_, k) => Math.sin(k + i) / 3)); // modules that predict something
    const run = await net.run({ x: data.x, y: data.y }, { backend: "reference" });
    const grads = zoo.dniGradients(net, run);
    const [h1, h2, g1, g2] = ["h1", "h2", "g1", "g2"].map((k) => rowsOf(run.outputs[k]));
    const B = data.y.length;
    // δ2 = ∂L/∂h2 through the output layer: (softmax − onehot)/B times W_outᵀ.
    const dLogits = rowsOf(run.outputs.y).map((r, b) => softmax(r).map((v, k) => (v - (k === data.y[b] ? 1 : 0)) / B));
    const delta2 = dLogits.map((d) => timesTransposed(d, p["output/W"]));
    // δ1 = ĝ2 sent back through layer 2: (ĝ2 ⊙ relu′) W2ᵀ.
    const masked2 = g2.map((g, b) => g.map((v, j) => (h2[b][j] > 0 ? v : 0)));
    const delta1 = masked2.map((d) => timesTransposed(d, p["layer2/W"]));
    const masked1 = g1.map((g, b) => g.map((v, j) => (h1[b][j] > 0 ? v : 0)));
    const tol = 1e-12;
    assertClose(grads["output/W"].data, outerSum(h2, dLogits), tol, "output layer from the loss");
    assertClose(grads["layer2/W"].data, outerSum(h1, masked2), tol, "layer 2 from ĝ2");
    assertClose(grads["layer1/W"].data, outerSum(data.x, masked1), tol, "layer 1 from ĝ1");
    const err2 = g2.map((g, b) => g.map((v, j) => v - delta2[b][j]));
    const err1 = g1.map((g, b) => g.map((v, j) => v - delta1[b][j]));
    assertClose(grads["M2/A"].data, outerSum(h2, err2), tol, "M2 regresses on δ2 = ∂L/∂h2");
    assertClose(grads["M1/A"].data, outerSum(h1, err1), tol, "M1 regresses on δ1 (ĝ2 through layer 2)");
    assertClose(grads["M1/c"].data, err1[0].map((_, j) => err1.reduce((s, r) => s + r[j], 0)), tol, "M1's bias");
  });

  it("without the cuts the same step is backpropagation", async () => {
    const net = zoo.dni({ ...o, decoupled: false });
    const run = await net.run({ x: data.x, y: data.y }, { backend: "reference" });
    const grads = zoo.dniGradients(net, run);
    const bp = net.backward(run, { loss: 1 }).params;
    assert.deepEqual(Object.keys(grads).sort(), Object.keys(bp).sort());
    for (const k of Object.keys(bp)) assert.deepEqual(grads[k].data, bp[k].data, k);
    assert.ok(bp["layer1/W"].data.some((v) => v !== 0), "the loss reaches the first layer");
  });
});

describe("RAM's hybrid loss in the backward pass", () => {
  const o = { height: 8, width: 8, glimpseSize: 2, scales: 2, glimpses: 3, NGlimpseHidden: 4, NLocHidden: 3, NGlimpse: 5, NHidden: 6, NClasses: 4, sigma: 0.25, seed: 5, noiseSeed: 2 };

  it("REINFORCE: ∂L/∂μ_t = −(R − b_t)(l_t − μ_t)/(σ² B); the classifier's gradient never reaches the locator", async () => {
    const net = zoo.ram(o);
    const data = zoo.brightSquares({ n: 4, size: 8, seed: 3 });
    const run = await net.run(data, { backend: "reference" });
    const g = net.backward(run, { reinforceLoss: 1 });
    const [mu, sample, b] = ["ram/locator/μ", "ram/locator/sample", "ram/baseline/baseline"].map((k) => run.trace.get(k).data);
    const R = run.outputs.reward.data;
    const B = 4;
    const want = Array.from(mu, (m, k) => {
      const [t, row] = [Math.floor(k / (2 * B)), Math.floor(k / 2) % B];
      return (-(R[row] - b[t * B + row]) * (sample[k] - m)) / (o.sigma ** 2 * B);
    });
    assertClose(g.trace.get("ram/locator/μ").data, want, 1e-12, "∂L_REINFORCE/∂μ");
    assert.ok(want.some((v) => v !== 0));
    const cls = net.backward(run, { classLoss: 1 }).params;
    for (const k of ["ram/locator/W", "ram/locator/b", "ram/baseline/W"]) assert.ok(cls[k].data.every((v) => v === 0), `${k}: no classification gradient`);
    assert.ok(cls["ram/core/W_hh"].data.some((v) => v !== 0), "the classifier trains the core");
  });
});

describe("notebook 18's trainings and what its text says of them", () => {
  it("DANN on the rotated moons: with reversal (λ = 0.5) the target accuracy beats the source-only network (λ = 0) on each of three seeds", async () => {
    for (const seed of [1, 2, 3]) {
      const moons = { source: zoo.twoMoons({ n: 100, seed }), target: zoo.twoMoons({ n: 100, angle: 35, seed: 100 + seed }), test: zoo.twoMoons({ n: 200, angle: 35, seed: 200 + seed }) };
      const [without, withReversal] = [await zoo.trainDann({ lambda: 0, NFeature: 32, seed }, moons, { steps: 300, lr: 0.01 }), await zoo.trainDann({ lambda: 0.5, NFeature: 32, seed }, moons, { steps: 300, lr: 0.01 })];
      assert.ok(withReversal.targetAccuracy > without.targetAccuracy, `seed ${seed}: target ${withReversal.targetAccuracy} with reversal, ${without.targetAccuracy} without`);
      assert.ok(without.sourceAccuracy >= 0.98 && withReversal.sourceAccuracy >= 0.95, `seed ${seed}: both fit the source`);
      const last = (r: typeof without) => r.history.slice(-20).reduce((s, h) => s + h.domainLoss, 0) / 20;
      assert.ok(last(withReversal) > last(without), `seed ${seed}: the domain loss stays higher with reversal (${last(withReversal)}) than without (${last(without)})`);
    }
  });

  it("DNI on the spiral: learns without true gradients across layers, more slowly than backprop", async () => {
    const data = zoo.spiral({ n: 300, classes: 3, seed: 2 });
    const s = { NInput: 2, NHidden: 32, NLayers: 3, NClasses: 3, seed: 1 };
    const bp = await zoo.trainDni(zoo.dni({ ...s, decoupled: false }), data, { steps: 200, lr: 0.01 });
    const dni = await zoo.trainDni(zoo.dni(s), data, { steps: 200, lr: 0.01 });
    const end = (h: typeof bp) => h[h.length - 1];
    assert.ok(end(dni).loss < 0.6 * dni[0].loss && end(dni).accuracy >= 0.7, `DNI learns: loss ${dni[0].loss} → ${end(dni).loss}, accuracy ${end(dni).accuracy}`);
    assert.ok(end(bp).loss < end(dni).loss && end(bp).accuracy >= end(dni).accuracy, "backprop ends lower");
    for (const t of [50, 100, 150]) assert.ok(bp[t].loss < dni[t].loss, `step ${t}: backprop ahead`);
  });

  it("RAM on the bright squares: 200 steps of the hybrid loss take its test accuracy well above the untrained model's and chance", async () => {
    const o = { height: 16, width: 16, glimpseSize: 4, scales: 2, glimpses: 3, NGlimpseHidden: 32, NLocHidden: 16, NGlimpse: 32, NHidden: 32, NClasses: 4, sigma: 0.2, seed: 1 };
    const test = zoo.brightSquares({ n: 300, seed: 7 });
    const untrained = zoo.accuracy((await zoo.ram(o).run(test)).outputs.y, test.y);
    const { net, history } = await zoo.trainRam(o, (s) => zoo.brightSquares({ n: 32, seed: 1000 + s }), { steps: 200, lr: 0.005 });
    const trained = zoo.accuracy((await net.run(test)).outputs.y, test.y);
    assert.ok(trained >= 0.6 && trained > untrained + 0.25, `test accuracy ${trained}, untrained ${untrained}`);
    const mean = (a: typeof history) => a.reduce((s, h) => s + h.reward, 0) / a.length;
    assert.ok(mean(history.slice(-25)) > mean(history.slice(0, 25)) + 0.2, "the reward rises");
  });
});
