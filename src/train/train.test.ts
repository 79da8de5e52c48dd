import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { LSTM } from "../cells/builtins";
import { DISPLAY, setPublisher, type DisplayOptions, type MimeBundle } from "../display/protocol";
import { cell } from "../engine/cell";
import { ArchlabError } from "../errors";
import { LOSSES } from "./losses";
import { adam, sgd } from "./optimizers";
import { tasks, type Task } from "./tasks";
import { progressChart, readout, train } from "./train";

const torch = JSON.parse(readFileSync(join(__dirname, "fixtures", "torch-training.json"), "utf8"));
after(() => setPublisher(undefined));

const lstmReadout = (In: number, H: number, O: number, seed = 0) => readout(cell(LSTM, { inputSize: In, hiddenSize: H, seed }), { outputSize: O, seed });
/** A task that always gives the same batch. */
const fixed = (name: string, at: "last" | "every", loss: "mse" | "crossEntropy", c: any): Task => ({
  name, at, loss, length: c.xs.length, inputSize: c.inputSize, outputSize: c.outputSize,
  batch: () => ({ xs: c.xs, targets: c.targets }),
});
const close = (a: number, e: number, tol = 1e-10) => assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `${a} ≠ ${e}`);

describe("one training step equals PyTorch's loss and gradients for nn.LSTM + nn.Linear (float64)", () => {
  for (const c of torch.readouts)
    it(`scored at ${c.at === "last" ? "the last step (MSE)" : "every step (cross-entropy)"}`, async () => {
      const model = lstmReadout(c.inputSize, c.hiddenSize, c.outputSize).loadStateDict(c.stateDict);
      const before = model.stateDict();
      // One SGD step with lr 1 moves every weight by minus its gradient: before − after is the gradient.
      const result = await train(model, fixed("fixed", c.at, c.at === "last" ? "mse" : "crossEntropy", c), { steps: 1, optimizer: sgd({ lr: 1 }), progress: "none" });
      close(result.losses[0], c.loss);
      const after = model.stateDict();
      for (const name of ["rnn.weight_ih_l0", "rnn.weight_hh_l0", "head.weight", "head.bias"]) {
        const grad = [before[name]].flat(2).map((v, k) => v - ([after[name]].flat(2)[k] as number));
        grad.forEach((g, k) => close(g, [c.grads[name]].flat(2)[k], 1e-9));
      }
      // archlab keeps one bias per gate (PyTorch's bias_ih + bias_hh); its gradient is either of PyTorch's.
      const bias = before["rnn.bias_ih_l0"].map((v, k) => (v as number) - (after["rnn.bias_ih_l0"][k] as number));
      bias.forEach((g, k) => close(g, c.grads["rnn.bias_ih_l0"][k], 1e-9));
    });

  it("a state dict round-trips through PyTorch's names", () => {
    const c = torch.readouts[1];
    const model = lstmReadout(c.inputSize, c.hiddenSize, c.outputSize).loadStateDict(c.stateDict);
    const copy = lstmReadout(c.inputSize, c.hiddenSize, c.outputSize, 7).loadStateDict(model.stateDict());
    assert.deepEqual(copy.stateDict(), model.stateDict());
    assert.deepEqual(Object.keys(model.stateDict()), Object.keys(c.stateDict));
    assert.throws(() => copy.loadStateDict({ ...c.stateDict, "head.weight": [[1]] }), (e: unknown) => e instanceof ArchlabError && /head\.weight/.test(e.message));
    assert.deepEqual(copy.stateDict(), model.stateDict(), "a refused state dict changes nothing");
  });
});

describe("toy tasks: seeded batches of the documented shapes, targets that follow from the inputs", () => {
  const shape = (a: unknown): number[] => (Array.isArray(a) ? [a.length, ...shape(a[0])] : []);
  it("the same seed gives the same batches; another seed others", () => {
    assert.deepEqual(tasks.adding({ seed: 3 }).batch(4), tasks.adding({ seed: 3 }).batch(4));
    assert.notDeepEqual(tasks.adding({ seed: 3 }).batch(4), tasks.adding({ seed: 4 }).batch(4));
  });
  it("adding: xs [T, B, 2], targets [B, 1] = the sum of the two marked values, one marker in each half", () => {
    const { xs, targets } = tasks.adding({ length: 12 }).batch(5);
    assert.deepEqual([shape(xs), shape(targets)], [[12, 5, 2], [5, 1]]);
    for (let b = 0; b < 5; b++) {
      const marked = xs.map((x, t) => ({ t, x: x[b] })).filter((m) => m.x[1] === 1);
      assert.equal(marked.length, 2);
      assert.ok(marked[0].t < 6 && marked[1].t >= 6);
      close((targets as number[][])[b][0], marked[0].x[0] + marked[1].x[0], 1e-15);
    }
  });
  it("copy: the last items targets repeat the first items inputs; blanks elsewhere", () => {
    const t = tasks.copy({ items: 3, symbols: 4, delay: 5 });
    const { xs, targets } = t.batch(2);
    assert.deepEqual([shape(xs), shape(targets), t.outputSize], [[11, 2, 6], [11, 2], 5]);
    for (let b = 0; b < 2; b++) {
      const inputs = xs.map((x) => x[b].indexOf(1));
      const out = (targets as number[][]).map((r) => r[b]);
      assert.deepEqual(out.slice(8), inputs.slice(0, 3));
      assert.deepEqual(out.slice(0, 8), new Array(8).fill(4));
      assert.equal(inputs[7], 5, "the delimiter");
    }
  });
  it("temporal order: the class is the order of X and Y", () => {
    const { xs, targets } = tasks.temporalOrder({ length: 20 }).batch(8);
    (targets as number[]).forEach((k, b) => {
      const marks = xs.map((x) => x[b].indexOf(1)).filter((s) => s >= 4).map((s) => s - 4);
      assert.equal(k, 2 * marks[0] + marks[1]);
    });
  });
  it("parity, delayed XOR, sine: targets computed from the inputs", () => {
    const p = tasks.parity({ length: 7 }).batch(6);
    (p.targets as number[][]).forEach((y, b) => assert.equal(y[0], p.xs.reduce((s, x) => s + x[b][0], 0) % 2));
    const d = tasks.delayedXor({ length: 9, delay: 2 }).batch(3);
    (d.targets as number[][][]).forEach((row, t) => row.forEach((y, b) => assert.equal(y[0], (d.xs[t][b][0] + (t >= 2 ? d.xs[t - 2][b][0] : 0)) % 2)));
    const s = tasks.sine({ length: 10 }).batch(2);
    for (let t = 0; t + 1 < 10; t++) for (let b = 0; b < 2; b++) close((s.targets as number[][][])[t][b][0], s.xs[t + 1][b][0], 1e-12);
  });
  it("text: one-hot windows of the shipped corpus, targets the next characters", () => {
    const t = tasks.text({ length: 16 });
    const { xs, targets } = t.batch(3);
    assert.deepEqual(shape(xs), [16, 3, t.vocabulary.length]);
    for (let b = 0; b < 3; b++) {
      const read = xs.map((x) => t.vocabulary[x[b].indexOf(1)]).join("");
      const next = (targets as number[][]).map((r) => t.vocabulary[r[b]]).join("");
      assert.ok(t.vocabulary.length > 30);
      assert.ok(tasks.text().vocabulary === t.vocabulary && (read.slice(1) + next.at(-1)) === next);
      assert.ok(require("./corpus").ALICE.includes(read + next.at(-1)));
    }
  });
  it("bad sizes are named errors", () => {
    assert.throws(() => tasks.adding({ length: 1 }), (e: unknown) => e instanceof ArchlabError && /length of tasks\.adding/.test(e.message));
    assert.throws(() => tasks.copy().batch(0), (e: unknown) => e instanceof ArchlabError && /batch size of task copy/.test(e.message));
  });
});

describe("train: progress, stopping, checks", () => {
  it("in a notebook, progress is one output updated in place: the loss curve with steps/s and ETA", async () => {
    const published: { bundle: MimeBundle; options: DisplayOptions }[] = [];
    setPublisher({ display: (bundle, options) => published.push({ bundle, options }), clearOutput: () => {} });
    try {
      const result = await train(lstmReadout(2, 4, 1), tasks.adding({ length: 5 }), { steps: 3, batchSize: 4, every: 0 });
      // The first step and the last are always shown; between them, as rendering time allows.
      assert.ok(published.length >= 2);
      assert.equal(new Set(published.map((p) => p.options.id)).size, 1, "one display id");
      assert.deepEqual(published.map((p) => p.options.update), [false, ...new Array(published.length - 1).fill(true)]);
      const last = published.at(-1)!.bundle as any;
      const spec = last["application/vnd.vegalite.v5+json"];
      assert.deepEqual(spec.data.values.map((v: any) => v.loss), result.losses);
      assert.match(last["text/plain"], /^step 3\/3 · loss [\d.e-]+ · [\d.]+ steps\/s · done in/);
      assert.match((published[0].bundle as any)["text/plain"], /step 1\/3 .* steps\/s · ETA /);
      assert.ok(last["image/png"].length > 100, "a static fallback");
    } finally {
      setPublisher(undefined);
    }
  });

  it("a long run's curve shows at most 400 points, each the mean of a window of steps", () => {
    const losses = Array.from({ length: 1000 }, (_, k) => k);
    const values = (progressChart("adding", losses, "line").spec.data as { values: unknown }).values as { step: number; loss: number }[];
    assert.ok(values.length <= 400);
    assert.deepEqual(values[0], { step: 3, loss: 1 });
    assert.equal(values.at(-1)!.step, 1000);
  });

  it("stopping (a signal, or onStep returning false) keeps the weights of the last finished step", async () => {
    const model = lstmReadout(2, 4, 1);
    const controller = new AbortController();
    let atTwo: unknown;
    const result = await train(model, tasks.adding({ length: 5 }), {
      steps: 10, batchSize: 4, progress: "none", signal: controller.signal,
      onStep: ({ step }) => { if (step === 2) (atTwo = model.stateDict()), controller.abort(); },
    });
    assert.deepEqual([result.steps, result.stopped, result.losses.length], [2, true, 2]);
    assert.deepEqual(model.stateDict(), atTwo);
    const byReturn = await train(lstmReadout(2, 4, 1), tasks.adding({ length: 5 }), { steps: 10, batchSize: 4, progress: "none", onStep: ({ step }) => step < 3 });
    assert.deepEqual([byReturn.steps, byReturn.stopped], [3, true]);
    assert.match(byReturn[DISPLAY]()["text/plain"], /^stopped after 3 steps on adding in [\d.]+ s, last batch loss [\d.]+$/);
  });

  it("a model that does not fit the task, or a bad option, is a named error before any step", async () => {
    const task = tasks.adding();
    await assert.rejects(train(lstmReadout(3, 4, 1), task, { steps: 1 }), (e: unknown) => e instanceof ArchlabError && /inputSize 2 \(task adding\)/.test(e.message));
    await assert.rejects(train(lstmReadout(2, 4, 2), task, { steps: 1 }), (e: unknown) => e instanceof ArchlabError && /outputSize 1/.test(e.message));
    await assert.rejects(train(lstmReadout(2, 4, 1), task, { steps: 0 }), (e: unknown) => e instanceof ArchlabError && /steps of train/.test(e.message));
    await assert.rejects(train(lstmReadout(2, 4, 1), task, { steps: 1, loss: "hinge" as never }), (e: unknown) => e instanceof ArchlabError && /loss of train/.test(e.message));
  });
});

describe("an LSTM learns the adding problem", () => {
  it("T = 20, H = 16, batch 32, Adam 1e-2, clip 1: test MSE < 0.01 (guessing scores ≈ 0.167) within 600 steps", async () => {
    const model = lstmReadout(2, 16, 1, 1);
    const recent: number[] = [];
    const result = await train(model, tasks.adding({ length: 20, seed: 1 }), {
      steps: 600, batchSize: 32, optimizer: adam({ lr: 1e-2 }), clip: 1, progress: "none",
      // Stop once the last 10 batches average under 0.005.
      onStep: ({ loss }) => (recent.push(loss), recent.length > 10 && recent.shift(), !(recent.length === 10 && recent.reduce((a, b) => a + b) / 10 < 0.005)),
    });
    const test = tasks.adding({ length: 20, seed: "test" }).batch(500);
    const mse = LOSSES.mse(model.predict(test.xs).outputs.at(-1)!, test.targets as number[][]).value;
    console.log(`# adding problem: test MSE ${mse.toFixed(4)} after ${result.steps} steps in ${result.seconds.toFixed(1)} s`);
    assert.ok(result.stopped, `the batch loss fell under 0.005 within 600 steps (last: ${result.losses.at(-1)})`);
    assert.ok(mse < 0.01, `test MSE ${mse}`);
  });
});
