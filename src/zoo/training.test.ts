/**
 * The zoo's sequence models learn: with a fixed seed, a few plain training steps (reference
 * forward run → model.backward → clipping → Adam, the same rules as torch.optim) lower the NLP
 * RNN's character-level loss on the shipped text below a stated value, and bring seq2seq with
 * attention to a stated token accuracy on sequence reversal — with its decoder started from zeros,
 * attending along the anti-diagonal. And the tied weight is one tensor: a
 * step's gradient sums both of its uses, and the stepped value is what both uses read next.
 * Sizes are smaller than the notebooks' (CI has 2 cores).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import seedrandom from "seedrandom";
import { ArchlabError } from "../errors";
import type { Model, ND } from "../lang";
import { adam, clipGradNorm, tasks, type Optimizer } from "../train";
import { nlpRnn } from "./rnns";
import { seq2seqAttention } from "./seq2seq-attention";

type Batch = Record<string, number[][] | number[][][]>;

/** One training step on `batch`: the loss before the step; the model holds the stepped weights. */
async function step(m: Model, batch: Batch, optimizer: Optimizer, clip = 1): Promise<number> {
  const trainable = m.graph.params.filter((p) => p.attrs.kind === "trainable");
  const run = await m.run(batch, { backend: "reference", training: true });
  const g = m.backward(run, { loss: 1 });
  const params = Object.fromEntries(trainable.map((p) => [p.path, Float64Array.from(m.graph.values.get(p)!.data)]));
  const grads = Object.fromEntries(trainable.map((p) => [p.path, Float64Array.from(g.params[p.path].data)]));
  clipGradNorm(grads, clip);
  optimizer.step(params, grads);
  for (const p of trainable) m.graph.values.set(p, { shape: m.graph.values.get(p)!.shape, data: params[p.path] });
  return run.outputs.loss.data[0];
}

/** Character windows of the shipped text as the NLP RNN's inputs: ids [B, L] and the next ids [B, L]. */
function textBatches(length: number, seed: number) {
  const task = tasks.text({ length, seed });
  const ids = (xs: number[][][]) => xs[0].map((_, b) => xs.map((x) => x[b].indexOf(1)));
  const next = (targets: number[][]) => targets[0].map((_, b) => targets.map((t) => t[b]));
  return { V: task.vocabulary.length, batch: (size: number) => { const { xs, targets } = task.batch(size); return { ids: ids(xs), next: next(targets as number[][]) }; } };
}

/** Sequence reversal over `A` symbols: sources one-hot [B, S, A]; decoder inputs the previous target one-hot (zeros first); targets the reversed ids [B, S]. */
function reversal(A: number, S: number, seed: number) {
  const random = seedrandom(String(seed));
  const oneHot = (k: number) => Array.from({ length: A }, (_, j) => (j === k ? 1 : 0));
  return (size: number) => {
    const seqs = Array.from({ length: size }, () => Array.from({ length: S }, () => Math.floor(random() * A)));
    const targets = seqs.map((s) => [...s].reverse());
    return { src: seqs.map((s) => s.map(oneHot)), tgt: targets.map((t) => [Array(A).fill(0), ...t.slice(0, -1).map(oneHot)]), targets };
  };
}

/** Fraction of steps where the highest score `o` [B, T, K] is the target class. */
function accuracy(o: ND, targets: number[][]): number {
  const K = o.shape[2];
  const flat = targets.flat();
  let right = 0;
  flat.forEach((y, i) => {
    let best = 0;
    for (let k = 1; k < K; k++) if (o.data[i * K + k] > o.data[i * K + best]) best = k;
    if (best === y) right++;
  });
  return right / flat.length;
}

describe("the zoo's sequence models train (fixed seeds, a few plain Adam steps)", () => {
  it("the NLP RNN on the shipped text: the character-level cross-entropy falls from ln V to below 2.6 nats (3.75 bits) on 32 fresh windows of the page (another seed) after 60 steps", async () => {
    const { V, batch } = textBatches(16, 1);
    const m = nlpRnn({ VocabSize: V, NHidden: 32, NLayers: 1, loss: true, seed: 1 });
    const optimizer = adam({ lr: 0.02 });
    const losses: number[] = [];
    for (let s = 0; s < 60; s++) losses.push(await step(m, batch(8), optimizer));
    assert.ok(Math.abs(losses[0] - Math.log(V)) < 0.1, `the untrained model is near uniform: ${losses[0]} vs ln ${V} = ${Math.log(V)}`);
    // Fresh windows of the same page (another seed), after training: the page is all the text there is.
    const held = textBatches(16, 2).batch(32);
    const after = (await m.run(held, { backend: "reference" })).outputs.loss.data[0];
    assert.ok(after < 2.6, `loss on fresh windows after 60 steps: ${after} nats (${after / Math.LN2} bits)`);
  });

  it("seq2seq with attention reverses sequences of 5 over 4 symbols: ≥ 90% of tokens right on fresh sequences after 80 steps", async () => {
    const m = seq2seqAttention({ NIn: 4, NOut: 4, NHidden: 16, NAttention: 8, loss: true, seed: 1 });
    const train = reversal(4, 5, 1);
    const optimizer = adam({ lr: 0.03 });
    for (let s = 0; s < 80; s++) await step(m, train(32), optimizer);
    const test = reversal(4, 5, 2)(200);
    const { outputs } = await m.run(test, { backend: "reference" });
    const acc = accuracy(outputs.o, test.targets);
    assert.ok(acc >= 0.9, `token accuracy on 200 fresh sequences: ${acc}`);
  });

  it("seq2seq with the decoder started from zeros learns reversal's alignment: on 8 symbols of 8, ≥ 90% of tokens right and over 0.4 of the attention on the mirror-image source step at every target step (uniform: 0.125) after 150 steps", async () => {
    const [A, S] = [8, 8];
    const m = seq2seqAttention({ NIn: A, NOut: A, NHidden: 32, NAttention: 16, start: "zeros", loss: true, seed: 1 });
    const train = reversal(A, S, 1);
    const optimizer = adam({ lr: 0.03 });
    for (let s = 0; s < 150; s++) await step(m, train(32), optimizer);
    const test = reversal(A, S, 2)(200);
    const { outputs } = await m.run(test, { backend: "reference" });
    const acc = accuracy(outputs.o, test.targets);
    assert.ok(acc >= 0.9, `token accuracy on 200 fresh sequences: ${acc}`);
    const alpha = outputs.alpha; // [B, T, S]
    const mirror = Array.from({ length: S }, (_, t) => test.targets.reduce((sum, _, b) => sum + alpha.data[(b * S + t) * S + (S - 1 - t)], 0) / test.targets.length);
    assert.ok(mirror.every((w) => w > 0.4), `mean attention on source step S−1−t: ${mirror.map((w) => w.toFixed(2))}`);
  });

  it("the tied weight is one tensor: its gradient is the sum of both uses', and a step changes what both uses read", async () => {
    const { V, batch } = textBatches(6, 3);
    const m = nlpRnn({ VocabSize: V, NHidden: 8, NLayers: 1, loss: true, seed: 2 });
    assert.deepEqual(m.graph.params.map((p) => p.path).filter((p) => !p.startsWith("rnn1/")), ["embedding/w"], "no separate output weight");
    const data = batch(3);
    const run = await m.run(data, { backend: "reference" });
    const g = m.backward(run, { loss: 1 });
    // ∂L/∂E = scatter-add of ∂L/∂x over the ids (the lookup) + (∂L/∂Eᵀ)ᵀ (the output): summed here by hand.
    const H = 8;
    const dx = g.trace.get("embedding/x"), dWT = g.trace.get("out/wT");
    const expected = new Float64Array(V * H);
    data.ids.flat().forEach((id, r) => { for (let h = 0; h < H; h++) expected[id * H + h] += dx.data[r * H + h]; });
    for (let v = 0; v < V; v++) for (let h = 0; h < H; h++) expected[v * H + h] += dWT.data[h * V + v];
    const dE = g.params["embedding/w"].data;
    expected.forEach((e, i) => assert.ok(Math.abs(dE[i] - e) < 1e-12, `∂L/∂E[${i}]: ${dE[i]} vs lookup + output ${e}`));
    assert.ok(dWT.data.some((v) => v !== 0) && dx.data.some((v) => v !== 0), "both uses pass gradient");

    const before = Float64Array.from(m.params["embedding/w"].data);
    await step(m, data, adam({ lr: 0.01 }));
    const E = m.params["embedding/w"].data;
    assert.ok(E.some((v, i) => v !== before[i]), "the step changed the embedding");
    const again = await m.run(data, { backend: "reference" });
    const wT = again.trace.get("out/wT").data, x = again.trace.get("embedding/x").data;
    for (let v = 0; v < V; v++) for (let h = 0; h < H; h++) assert.equal(wT[h * V + v], E[v * H + h], "the output reads the stepped embedding, transposed");
    data.ids.flat().forEach((id, r) => { for (let h = 0; h < H; h++) assert.equal(x[r * H + h], E[id * H + h], "the lookup reads the stepped embedding"); });
  });

  it("seq2seq's training form and start option keep the documented inputs and outputs, and bad values are named", () => {
    const m = seq2seqAttention({ NIn: 3, NOut: 3, NHidden: 4, NAttention: 2, start: "zeros", loss: true });
    assert.deepEqual(m.graph.inputs.map((i) => i.name), ["src", "tgt", "targets"]);
    assert.deepEqual(Object.keys(m.graph.outputs), ["o", "alpha", "loss"]);
    assert.throws(() => seq2seqAttention({ start: "last" as never }), (e: unknown) => e instanceof ArchlabError && /start of zoo\.seq2seqAttention/.test(e.message));
    assert.throws(() => seq2seqAttention({ loss: 1 as never }), (e: unknown) => e instanceof ArchlabError && /loss of zoo\.seq2seqAttention/.test(e.message));
    assert.throws(() => nlpRnn({ loss: "yes" as never }), (e: unknown) => e instanceof ArchlabError && /loss of zoo\.nlpRnn/.test(e.message));
  });
});
