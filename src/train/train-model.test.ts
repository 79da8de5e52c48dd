/**
 * Training a model of the definition language (`train(model, batches, options)`): a definition that
 * outputs a scalar loss learns XOR and the adding problem with a fixed seed; one SGD step moves
 * every parameter by minus its gradient; stopping keeps the last finished step's weights.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ArchlabError } from "../errors";
import { add, fill, input, losses, matmul, model, mul, named, param, scan, sigmoid, tanh } from "../lang";
import type { Tensor } from "../lang";
import { adam, sgd } from "./optimizers";
import { tasks } from "./tasks";
import { train } from "./train";

const XOR = { x: [[0, 0], [0, 1], [1, 0], [1, 1]], y: [[0], [1], [1], [0]] };

const xorModel = (seed = 1) =>
  model(
    "XOR",
    { H: 4 },
    () => {
      const x = input("x", ["B", 2]);
      const y = input("y", ["B", 1]);
      const h = named("h", tanh(add(matmul(x, param("W1", [2, "H"])), param("b1", ["H"]))));
      const logit = named("logit", add(matmul(h, param("W2", ["H", 1])), param("b2", [1])));
      return { loss: losses.binaryCrossEntropy(logit, y), logit };
    },
    { seed },
  );

/** An LSTM written out gate by gate, with a linear head on its last h: the adding problem's model. */
const addingModel = () =>
  model(
    "AddingLSTM",
    { In: 2, H: 8 },
    () => {
      const x = input("x", ["T", "B", "In"]);
      const y = input("y", ["B", 1]);
      const gate = (name: string) => ({ W: param(`W_${name}`, ["In", "H"]), U: param(`U_${name}`, ["H", "H"]), b: param(`b_${name}`, ["H"]) });
      const g = { i: gate("i"), f: gate("f"), g: gate("g"), o: gate("o") };
      const pre = (k: keyof typeof g, xt: Tensor, h: Tensor) => add(add(matmul(xt, g[k].W), matmul(h, g[k].U)), g[k].b);
      const zeros = fill(["B", "H"], 0);
      const { final } = scan(
        "lstm",
        { x },
        { h: zeros, c: zeros },
        ({ x: xt }, { h, c }) => {
          const cn = named("c", add(mul(sigmoid(pre("f", xt, h)), c), mul(sigmoid(pre("i", xt, h)), tanh(pre("g", xt, h)))));
          const hn = named("h", mul(sigmoid(pre("o", xt, h)), tanh(cn)));
          return { state: { h: hn, c: cn } };
        },
        { axis: 0 },
      );
      const prediction = named("prediction", add(matmul(final.h, param("W_out", ["H", 1])), param("b_out", [1])));
      return { loss: losses.mse(prediction, y), prediction };
    },
    { seed: 3 },
  );

describe("train(model, batches): a model of the language whose definition outputs a scalar loss", () => {
  it("an MLP learns XOR: every point classified, loss < 0.05 after 300 Adam steps (seed 1)", async () => {
    const m = xorModel();
    const result = await train(m, () => XOR, { steps: 300, optimizer: adam({ lr: 0.05 }), progress: "none" });
    assert.equal(result.steps, 300);
    assert.equal(result.model, m);
    const { outputs } = await m.run(XOR, { backend: "reference" });
    assert.ok(outputs.loss.data[0] < 0.05, `loss ${outputs.loss.data[0]}`);
    assert.deepEqual(Array.from(outputs.logit.data, (v) => (v > 0 ? 1 : 0)), [0, 1, 1, 0]);
  });

  it("an LSTM with a linear head learns the adding problem (T = 10): test MSE < 0.02 (a constant guess scores 0.17) in 200 steps", async () => {
    const m = addingModel();
    const result = await train(m, tasks.adding({ length: 10, seed: 1 }), { steps: 200, batchSize: 32, optimizer: adam({ lr: 1e-2 }), clip: 1, progress: "none" });
    const test = tasks.adding({ length: 10, seed: 99 }).batch(256);
    const { outputs } = await m.run({ x: test.xs, y: test.targets }, { backend: "reference" });
    assert.ok(outputs.loss.data[0] < 0.02, `test MSE ${outputs.loss.data[0]} after ${result.seconds.toFixed(1)} s`);
  });

  it("one SGD step with lr 1 moves every trainable parameter by minus its gradient (model.backward of the loss)", async () => {
    const m = xorModel(2);
    const before = m.params;
    const g = m.backward(await m.run(XOR, { backend: "reference", training: true }));
    await train(m, () => XOR, { steps: 1, optimizer: sgd({ lr: 1 }), progress: "none" });
    for (const [path, value] of Object.entries(m.params)) value.data.forEach((v, k) => assert.ok(Math.abs(v - (before[path].data[k] - g.params[path].data[k])) < 1e-15, `${path}[${k}]`));
  });

  it("stopping (an AbortSignal) keeps the weights of the last finished step: those of a run of that many steps", async () => {
    const stopped = xorModel();
    const controller = new AbortController();
    const result = await train(stopped, () => XOR, { steps: 50, progress: "none", signal: controller.signal, onStep: ({ step }) => void (step === 7 && controller.abort()) });
    assert.equal(result.steps, 7);
    assert.ok(result.stopped);
    const seven = xorModel();
    await train(seven, () => XOR, { steps: 7, progress: "none" });
    assert.deepEqual(stopped.params, seven.params);
    assert.notDeepEqual(seven.params, xorModel().params);
  });

  it("batches may differ per step (the step index is given) and be async; the fast interpreter trains too", async () => {
    const m = xorModel();
    const seen: number[] = [];
    const result = await train(m, async (step) => (seen.push(step), XOR), { steps: 3, backend: "fast", progress: "none" });
    assert.deepEqual(seen, [0, 1, 2]);
    assert.ok(result.losses.every(Number.isFinite));
  });

  it("named errors: no such output, a loss that is not a scalar, a task for a model without x and y, bad batches", async () => {
    const m = xorModel();
    const is = (text: RegExp) => (e: unknown) => e instanceof ArchlabError && text.test(e.message);
    await assert.rejects(train(m, () => XOR, { steps: 1, output: "cost", progress: "none" }), is(/output of train.*its outputs: loss, logit/));
    await assert.rejects(train(m, () => XOR, { steps: 1, output: "logit", progress: "none" }), is(/logit of shape \[4, 1\].*a scalar loss/));
    const noXY = model("NoXY", {}, () => {
      const a = input("a", ["B", 1]);
      return { loss: losses.mse(matmul(a, param("w", [1, 1])), a) };
    });
    await assert.rejects(train(noXY, tasks.adding(), { steps: 1, progress: "none" }), is(/model with inputs a.*inputs named x .* and y/));
    await assert.rejects(train(m, 42 as never, { steps: 1, progress: "none" }), is(/batches of train/));
    await assert.rejects(train(m, () => XOR, { steps: 0 }), is(/steps of train/));
    const untouched = xorModel().params;
    assert.deepEqual(m.params, untouched, "a refused training changes nothing");
  });
});
