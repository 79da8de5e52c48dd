/**
 * The backward pass of the definition language (model.backward) on whole models: built-in cells as
 * scans against the cell engine's backward pass (itself checked against PyTorch autograd and finite
 * differences in src/engine/backward.test.ts), and reversed, nested and tied models against central
 * finite differences of the whole model (float64 reference interpreter): every parameter and input
 * element moved by ±ε and the model re-run.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import seedrandom from "seedrandom";
import { GRU, LSTM } from "../cells/builtins";
import { backward as engineBackward } from "../engine/backward";
import { cell } from "../engine/cell";
import { ArchlabError } from "../errors";
import { plot } from "../plot";
import { nlpRnn } from "../zoo/rnns";
import { add, fill, input, matmul, mean, model, mul, named, param, pow, scan, sub, sum, tanh, type Model } from "./index";
import { cellModel } from "./cells";
import * as nd from "./nd";
import type { ND } from "./nd";
import { OPS, type OpSpec } from "./ops";
import type { ValueLike } from "./run";
import { checkAgainstFiniteDifferences, relativeError } from "./fixtures/finite-differences";

const random = (seed: string) => {
  const r = seedrandom(seed);
  return () => 2 * r() - 1;
};
const nested = (shape: number[], next: () => number): ValueLike => (shape.length === 0 ? next() : Array.from({ length: shape[0] }, () => nested(shape.slice(1), next)));
const flat = (v: ValueLike): number[] => (typeof v === "number" ? [v] : "data" in v ? Array.from(v.data) : (v as ValueLike[]).flatMap(flat));

const rand = (shape: number[], next: () => number): ND => ({ shape, data: Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, next) });

/** A bidirectional RNN of the language's own ops: a forward scan and a reversed one (its initial state an input), a loss of both. */
const biRnn = () =>
  model(
    "BiRNN",
    { In: 2, H: 3 },
    () => {
      const x = input("x", ["B", "T", "In"]);
      const y = input("y", ["B", "T", "H"]);
      const hb0 = input("hb0", ["B", "H"]);
      const rnn = (name: string, h0: ReturnType<typeof input>, reverse: boolean) => {
        const W = param(`W_${name}`, ["In", "H"]);
        const U = param(`U_${name}`, ["H", "H"]);
        const b = param(`b_${name}`, ["H"], { init: (shape, r) => ({ shape, data: Float64Array.from({ length: shape[0] }, () => r() - 0.5) }) });
        return scan(name, { x }, { h: h0 }, ({ x: xt }, { h }) => {
          const hn = named("h", tanh(add(add(matmul(xt, W), matmul(h, U)), b)));
          return { state: { h: hn }, out: { h: hn } };
        }, { reverse });
      };
      const fwd = rnn("fwd", fill(["B", "H"], 0), false);
      const bwd = rnn("bwd", hb0, true);
      const both = named("both", add(fwd.out.h, mul(bwd.out.h, 0.5)));
      return { loss: named("loss", add(mean(pow(sub(both, y), 2)), sum(mul(bwd.final.h, 0.3)))), both };
    },
    { seed: 4 },
  );

describe("model.backward", () => {
  for (const def of [LSTM, GRU]) {
    test(`${def.name} as a scan: parameter, input and initial-state gradients equal the cell engine's backward (float64, 1e-10)`, async () => {
      const c = cell(def, { inputSize: 3, hiddenSize: 4, seed: 2 });
      const next = random(def.name);
      const [T, B, H] = [5, 2, 4];
      const x = nested([T, B, 3], next) as number[][][];
      const initial = Object.fromEntries(def.states.map((s) => [s.name, nested([B, H], next) as number[][]]));
      const up = { output: nested([T, B, H], next) as number[][][], final: Object.fromEntries(def.states.map((s) => [s.name, nested([B, H], next) as number[][]])) };
      const want = engineBackward(c.run(x, { initial }), up);

      const m = cellModel(c);
      const run = await m.run({ x, ...Object.fromEntries(Object.entries(initial).map(([k, v]) => [`${k}0`, v])) }, { backend: "reference" });
      // The model's outputs: every state stacked (h, and c for the LSTM) and the final states (hN, cN).
      const seeds: Record<string, ValueLike> = { [def.output]: up.output, ...Object.fromEntries(def.states.map((s) => [`${s.name}N`, up.final[s.name]])) };
      const g = m.backward(run, seeds);
      assert.deepEqual(Object.keys(g.params).sort(), Object.keys(want.params).sort());
      for (const [name, v] of Object.entries(want.params)) {
        const e = relativeError(g.params[name].data, flat(v as ValueLike));
        assert.ok(e <= 1e-10, `∂L/∂${name}: relative error ${e}`);
      }
      assert.ok(relativeError(g.inputs.x.data, flat(want.inputs.x)) <= 1e-10, "∂L/∂x");
      for (const s of def.states) assert.ok(relativeError(g.inputs[`${s.name}0`].data, flat(want.initial[s.name])) <= 1e-10, `∂L/∂${s.name}0`);
      // The gradient trace: ∂L/∂h at every step, as the engine's gradient trace has it.
      const gh = g.trace.get(`${def.name}/${def.output}`);
      assert.deepEqual(gh.shape, [T, B, H]);
      assert.ok(relativeError(gh.data, want.trace.get(def.output).flat(2)) <= 1e-10, "∂L/∂h at every step");
    });
  }

  test("a bidirectional RNN (a reversed scan, an initial state given as input) against finite differences of the whole model", async () => {
    const m = biRnn();
    const next = random("bi");
    const [B, T] = [2, 4];
    const inputs = { x: rand([B, T, 2], next), y: rand([B, T, 3], next), hb0: rand([B, 3], next) };
    const { worst } = await checkAgainstFiniteDifferences(m, inputs, { loss: 1, both: nested([B, T, 3], next) });
    assert.deepEqual(Object.keys(worst).sort(), ["input hb0", "input x", "input y", "param U_bwd", "param U_fwd", "param W_bwd", "param W_fwd", "param b_bwd", "param b_fwd"]);
  });

  test("the gradient trace: same paths as the forward trace, each scan step's gradient in processing order (a reversed scan's first row is its last position)", async () => {
    const m = biRnn();
    const next = random("trace");
    const [B, T, H] = [2, 5, 3];
    const inputs = { x: rand([B, T, 2], next), y: rand([B, T, H], next), hb0: rand([B, H], next) };
    const run = await m.run(inputs, { backend: "reference" });
    const seed = rand([B, T, H], next);
    const g = m.backward(run, { both: seed });
    assert.deepEqual(g.trace.paths, run.trace.paths);
    for (const path of run.trace.paths) assert.deepEqual(g.trace.get(path).shape, run.trace.get(path).shape, path);
    assert.deepEqual(g.trace.get("bwd/h").shape, [T, B, H]);
    // The reversed scan ran position T−1 first, so position 0 is its last step (row T−1 of the trace):
    // nothing comes after it, and ∂L/∂h there is the seed's share at position 0 alone: 0.5 · seed[:, 0].
    const last = g.trace.get("bwd/h").data.subarray((T - 1) * B * H, T * B * H);
    const want = Array.from({ length: B * H }, (_, i) => 0.5 * seed.data[Math.floor(i / H) * T * H + (i % H)]);
    assert.ok(relativeError(last, want) < 1e-15, `∂L/∂h at the reversed scan's last step: ${[...last]} vs ${want}`);
    // Unseeded: the loss output's gradient is zero, ∂L/∂both is the seed.
    assert.deepEqual([...g.trace.get("loss").data], [0]);
    assert.deepEqual([...g.trace.get("both").data], [...seed.data]);
    // The views read it as any trace.
    const chart = await plot.tensor(g.trace, "fwd/h");
    assert.ok(chart);
  });

  test("a tied parameter used twice gets the sum of both uses (finite differences)", async () => {
    const m = model("Tied", { In: 3 }, () => {
      const x = input("x", ["B", "In"]);
      const W = param("W", ["In", "In"]);
      return { loss: sum(pow(matmul(tanh(matmul(x, W)), W), 2)) };
    });
    const next = random("tied");
    const { g, run } = await checkAgainstFiniteDifferences(m, { x: rand([2, 3], next) }, { loss: 1 });
    // The two uses' shares, from the gradient trace: xᵀ ∂L/∂(x W) and tanh(x W)ᵀ ∂L/∂(h W). Their sum is the gradient; neither alone is.
    const share = (a: ND, dy: ND) => nd.matmul(nd.transpose(a, [1, 0]), dy);
    const first = share(run.trace.get("x"), g.trace.get("matmul"));
    const second = share(run.trace.get("tanh"), g.trace.get("matmul_2"));
    assert.ok(relativeError(g.params.W.data, nd.zip(first, second, (a, b) => a + b).data) < 1e-14);
    assert.ok(relativeError(g.params.W.data, first.data) > 1e-3 && relativeError(g.params.W.data, second.data) > 1e-3);
  });

  test("zoo.nlpRnn: the embedding tied to the output layer gets both uses' gradients (finite differences)", async () => {
    const m = nlpRnn({ VocabSize: 5, NHidden: 3, NLayers: 1, seed: 1 });
    const next = random("nlp");
    const ids = { shape: [2, 3], data: Float64Array.of(0, 3, 4, 1, 1, 2) };
    const run = await m.run({ ids }, { backend: "reference" });
    const seeds = { p: rand([...run.outputs.p.shape], next) };
    await checkAgainstFiniteDifferences(m, { ids } as Record<string, ND>, seeds);
  });

  test("nested scans (a reversed inner scan over each outer step) against finite differences", async () => {
    const m = model("Nested", { In: 2, H: 2 }, () => {
      const x = input("x", ["B", "T", "S", "In"]);
      const W = param("W", ["In", "H"]);
      const U = param("U", ["H", "H"]);
      const outer = scan("outer", { xs: x }, { h: fill(["B", "H"], 0.1) }, ({ xs }, { h }) => {
        const inner = scan("inner", { x: xs }, { g: h }, ({ x: xt }, { g }) => {
          const gn = named("g", tanh(add(matmul(xt, W), matmul(g, U))));
          return { state: { g: gn }, out: { g: gn } };
        }, { reverse: true });
        const hn = named("h", add(inner.final.g, mul(sum(inner.out.g, 1), 0.1)));
        return { state: { h: hn }, out: { h: hn } };
      });
      return { loss: sum(mul(outer.out.h, outer.out.h)) };
    });
    const next = random("nested");
    const { g, run } = await checkAgainstFiniteDifferences(m, { x: rand([2, 3, 2, 2], next) }, { loss: 1 });
    assert.deepEqual(g.trace.get("outer/inner/g").shape, [3 * 2, 2, 2]);
    assert.deepEqual(g.trace.get("outer/inner/g").shape, run.trace.get("outer/inner/g").shape);
  });

  test("a masked scan (variable lengths: states carried over where the mask is 0) against finite differences", async () => {
    const m = model("Masked", { In: 2, H: 3 }, () => {
      const x = input("x", ["B", "T", "In"]);
      const mask = input("mask", ["B", "T"]);
      const W = param("W", ["In", "H"]);
      const U = param("U", ["H", "H"]);
      const { out, final } = scan("rnn", { x }, { h: fill(["B", "H"], 0) }, ({ x: xt }, { h }) => {
        const hn = named("h", tanh(add(matmul(xt, W), matmul(h, U))));
        return { state: { h: hn }, out: { h: hn } };
      }, { mask });
      return { loss: add(sum(mul(final.h, final.h)), mean(out.h)), last: final.h };
    });
    const next = random("masked");
    const mask = { shape: [2, 4], data: Float64Array.of(1, 1, 1, 1, 1, 1, 0, 0) };
    const { g, run } = await checkAgainstFiniteDifferences(m, { x: rand([2, 4, 2], next), mask }, { loss: 1 }, ["mask"]);
    assert.deepEqual([...g.inputs.mask.data], new Array(8).fill(0), "a mask takes no gradient");
    // The second row's final state is its state at step 1 (steps 2 and 3 masked): its inputs there do not reach it.
    const last = m.backward(run, { last: 1 });
    assert.deepEqual([...last.inputs.x.data.subarray(12, 16)], [0, 0, 0, 0]);
    assert.ok(last.inputs.x.data.subarray(8, 12).every((v) => v !== 0));
  });

  test("a fast (float32) run's gradients agree with the reference run's to float32 precision", async () => {
    const m = biRnn();
    const next = random("fast");
    const inputs = { x: rand([2, 4, 2], next), y: rand([2, 4, 3], next), hb0: rand([2, 3], next) };
    const ref = m.backward(await m.run(inputs, { backend: "reference" }));
    const fast = m.backward(await m.run(inputs));
    for (const [k, v] of Object.entries(ref.params)) assert.ok(relativeError(fast.params[k].data, v.data) < 1e-4, k);
    assert.ok(fast.params.W_fwd.data instanceof Float64Array);
  });

  test("named errors: unknown seed output, seed of the wrong shape, no seeds without exactly one scalar output, an op without a gradient rule", async () => {
    const m = biRnn();
    const next = random("errors");
    const run = await m.run({ x: rand([1, 2, 2], next), y: rand([1, 2, 3], next), hb0: rand([1, 3], next) }, { backend: "reference" });
    const code = (code: string, text: RegExp) => (e: unknown) => e instanceof ArchlabError && e.code === code && text.test(e.message);
    assert.throws(() => m.backward(run, { los: 1 }), code("unknown-output", /no output "los".*Its outputs: loss, both/));
    assert.throws(() => m.backward(run, { both: [[1, 2, 3]] }), code("shape", /seed of output both has shape \[1, 3\].*output has shape \[1, 2, 3\]/));
    // One scalar output (loss): no seeds needed.
    assert.ok(m.backward(run).params.W_fwd);
    const two = model("Two", {}, () => {
      const x = input("x", ["B"]);
      return { a: sum(x), b: mean(x) };
    });
    const twoRun = await two.run({ x: [1, 2] }, { backend: "reference" });
    assert.throws(() => two.backward(twoRun), code("no-seed", /exactly one scalar output.*several: a, b/));
    assert.throws(() => biRnn().backward(run), code("bad-option", /run must be what run\(\) of model BiRNN returned/));
    // An op reached without a rule (as a new op would be): the error names the op and the node.
    const spec = OPS.tanh as OpSpec;
    const rule = spec.vjp;
    try {
      delete spec.vjp;
      assert.throws(() => m.backward(run), code("no-gradient-rule", /bwd\/h \(tanh\).*the op tanh has no gradient rule/));
      // Not on the path from the seeded output: no rule needed.
      const off = model("Off", {}, () => {
        const x = input("x", ["B"]);
        return { loss: sum(x), side: tanh(x) };
      });
      const offRun = await off.run({ x: [0.5, 2] }, { backend: "reference" });
      assert.deepEqual([...off.backward(offRun, { loss: 1 }).inputs.x.data], [1, 1]);
    } finally {
      spec.vjp = rule;
    }
  });
});
