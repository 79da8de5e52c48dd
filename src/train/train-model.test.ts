/**
 * Training a model of the definition language (`train(model, batches, options)`): a definition that
 * outputs a scalar loss learns XOR and the adding problem with a fixed seed; one SGD step moves
 * every parameter by minus its gradient; stopping keeps the last finished step's weights.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LSTM } from "../cells/builtins";
import { cell } from "../engine/cell";
import { ArchlabError } from "../errors";
import { cellParams, cellScan } from "../lang/cells";
import { add, fill, input, losses, matmul, mean, model, mul, named, param, scan, sigmoid, tanh, transpose } from "../lang";
import type { Tensor } from "../lang";
import { adam, sgd } from "./optimizers";
import { tasks } from "./tasks";
import { readout, train } from "./train";

const torch = JSON.parse(readFileSync(join(__dirname, "fixtures", "torch-training.json"), "utf8"));

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

/**
 * PyTorch's `nn.LSTM + nn.Linear` of the training fixture, as a model of the language: the cell's
 * scan with the fixture's weights (mapped from PyTorch's names by Readout.loadStateDict), a linear
 * head on the last h (MSE) or on every h (cross-entropy over the classes O), the loss in the definition.
 */
function torchReadoutModel(c: any) {
  const r = readout(cell(LSTM, { inputSize: c.inputSize, hiddenSize: c.hiddenSize }), { outputSize: c.outputSize }).loadStateDict(c.stateDict);
  const value = (data: number[]) => (shape: readonly number[]) => ({ shape, data: Float64Array.from(data) });
  return model("TorchReadout", { ...r.cell.sizes, O: c.outputSize }, () => {
    const x = input("x", ["T", "B", "In"]);
    const zeros = fill(["B", "H"], 0);
    const { out, final } = cellScan("LSTM", LSTM, cellParams(r.cell), { x }, { h: zeros, c: zeros });
    const W = param("head_weight", ["O", "H"], { init: value(r.head.weight.flat()) });
    const b = param("head_bias", ["O"], { init: value(r.head.bias) });
    const y = add(matmul(c.at === "last" ? final.h : out.h, transpose(W)), b);
    return { loss: c.at === "last" ? losses.mse(y, input("y", ["B", "O"])) : losses.crossEntropy(y, input("y", ["T", "B"], { dtype: "int" }), "O") };
  });
}

describe("train(model, batches): a model of the language whose definition outputs a scalar loss", () => {
  for (const c of torch.readouts)
    it(`PyTorch's nn.LSTM + nn.Linear as a definition: loss and every gradient equal PyTorch autograd's (${c.at === "last" ? "MSE at the last step" : "cross-entropy at every step"}, float64)`, async () => {
      const m = torchReadoutModel(c);
      const run = await m.run({ x: c.xs, y: c.targets }, { backend: "reference", training: true });
      assert.ok(Math.abs(run.outputs.loss.data[0] - c.loss) <= 1e-12 * c.loss, `loss ${run.outputs.loss.data[0]}, PyTorch ${c.loss}`);
      const g = m.backward(run);
      // PyTorch stacks the gates' rows i, f, g, o; archlab's one bias per gate takes bias_ih's (= bias_hh's) gradient.
      const stacked = (prefix: string) => ["i", "f", "g", "o"].flatMap((k) => Array.from(g.params[`${prefix}_${k}`].data));
      const pairs: [string, number[]][] = [
        ["rnn.weight_ih_l0", stacked("W")],
        ["rnn.weight_hh_l0", stacked("U")],
        ["rnn.bias_ih_l0", stacked("b")],
        ["rnn.bias_hh_l0", stacked("b")],
        ["head.weight", Array.from(g.params.head_weight.data)],
        ["head.bias", Array.from(g.params.head_bias.data)],
      ];
      for (const [name, got] of pairs) {
        const want = [c.grads[name]].flat(2) as number[];
        assert.equal(got.length, want.length, name);
        want.forEach((w, k) => assert.ok(Math.abs(got[k] - w) <= 1e-10 * Math.max(1, Math.abs(w)), `∂L/∂${name}[${k}] = ${got[k]}, PyTorch ${w}`));
      }
    });

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

  it("clipping scales every gradient once, also where one op passes the same dy to two parameters (add)", async () => {
    const m = model("Sum", {}, () => {
      const p = param("p", [3], { init: (shape) => ({ shape, data: new Float64Array(3) }) });
      const q = param("q", [3], { init: (shape) => ({ shape, data: new Float64Array(3) }) });
      return { loss: mean(add(p, q)) };
    });
    // ∂loss/∂p = ∂loss/∂q = 1/3 each; global norm √6/3 = 0.816…, clipped to 0.5 (PyTorch's factor 0.5 / (norm + 1e-6)).
    await train(m, () => ({}), { steps: 1, optimizer: sgd({ lr: 1 }), clip: 0.5, progress: "none" });
    const moved = (1 / 3) * (0.5 / (Math.sqrt(6) / 3 + 1e-6));
    for (const v of [...m.params.p.data, ...m.params.q.data]) assert.ok(Math.abs(v + moved) < 1e-15, `${v}, expected ${-moved}`);
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

  it("a trained model's weights save as a state dict (JSON) and load into a fresh model, which then computes the same", async () => {
    const trained = xorModel();
    await train(trained, () => XOR, { steps: 20, progress: "none" });
    const saved = JSON.parse(JSON.stringify(trained.stateDict()));
    assert.deepEqual(Object.keys(saved), ["W1", "b1", "W2", "b2"]);
    assert.deepEqual(saved.W1.length, 2);
    const fresh = xorModel(5).loadStateDict(saved);
    const [a, b] = await Promise.all([trained, fresh].map((m) => m.run(XOR, { backend: "reference" })));
    assert.deepEqual(a.outputs.logit, b.outputs.logit);
    const is = (text: RegExp) => (e: unknown) => e instanceof ArchlabError && text.test(e.message);
    assert.throws(() => fresh.loadStateDict({ ...saved, W3: [1] }), is(/Unexpected weight "W3"/));
    assert.throws(() => fresh.loadStateDict({ ...saved, b2: [1, 2] }), is(/b2/));
    const { b1: _, ...missing } = saved;
    assert.throws(() => fresh.loadStateDict(missing), is(/Missing weight "b1" \[4\]/));
    assert.deepEqual(fresh.stateDict(), saved, "a refused state dict changes nothing");
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
