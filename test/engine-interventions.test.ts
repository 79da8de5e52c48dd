/**
 * Interventions: overriding traced values during a run (a clamped forget gate, an ablated unit).
 * The reference is a plain loop over the LSTM's equations (Hochreiter & Schmidhuber 1997, forget gate
 * of Gers et al. 2000), written here independently of the engine, with the same overrides applied
 * by hand: `i, f, o = σ(W x + U h₋ + b)`, `g = tanh(W_g x + U_g h₋ + b_g)`, `c = f ⊙ c₋ + i ⊙ g`,
 * `h = o ⊙ tanh(c)`.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { ArchlabError, cell, LSTM, player, RNN_TANH, type Intervention, type RunOptions } from "../src";
import { generate, plan } from "../src/engine/program";
import { hookedNodes } from "../src/engine/interventions";

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
type Vec = number[];
type Override = (name: string, t: number, v: Vec) => void;

/** The LSTM of one batch element, step by step; `override` may change each value in place right after it is computed. */
function lstmLoop(w: Record<string, number[][] | number[]>, xs: number[][], H: number, override: Override = () => {}) {
  const affine = (g: string, x: Vec, h: Vec) =>
    Array.from({ length: H }, (_, r) => {
      const W = w[`W_${g}`] as number[][];
      const U = w[`U_${g}`] as number[][];
      return (w[`b_${g}`] as number[])[r] + W[r].reduce((s, a, k) => s + a * x[k], 0) + U[r].reduce((s, a, k) => s + a * h[k], 0);
    });
  let h: Vec = new Array(H).fill(0);
  let c: Vec = new Array(H).fill(0);
  const out: Record<string, Vec>[] = [];
  xs.forEach((x, t) => {
    const value = (name: string, v: Vec) => (override(name, t, v), v);
    const i = value("i", affine("i", x, h).map(sigmoid));
    const f = value("f", affine("f", x, h).map(sigmoid));
    const g = value("g", affine("g", x, h).map(Math.tanh));
    const o = value("o", affine("o", x, h).map(sigmoid));
    const cNew = value("c", f.map((fk, k) => fk * c[k] + i[k] * g[k]));
    const hNew = value("h", o.map((ok, k) => ok * Math.tanh(cNew[k])));
    out.push({ i, f, g, o, c: cNew, h: hNew });
    [h, c] = [hNew, cNew];
  });
  return out;
}

const H = 4;
const T = 10;
const xs = Array.from({ length: T }, (_, t) => [Math.sin(t * 0.7), Math.cos(t * 0.3) - 0.2]);
const lstm = cell(LSTM, { inputSize: 2, hiddenSize: H, seed: 3 });

function assertClose(actual: number[], expected: number[], what: string, tolerance = 1e-12) {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((a, k) => assert.ok(Math.abs(a - expected[k]) <= tolerance, `${what}[${k}]: ${a} vs ${expected[k]}`));
}

const code = (c: string, pattern?: RegExp) => (e: unknown) => e instanceof ArchlabError && e.code === c && (!pattern || pattern.test(e.message));

describe("interventions", () => {
  it("clamping the forget gate to 1 at t = 5 matches a plain loop with the same clamp, at every step, and c[5] = c[4] + i ⊙ g", () => {
    const trace = lstm.run(xs, { interventions: [{ node: "f", t: 5, value: 1 }] });
    const ref = lstmLoop(lstm.weights() as never, xs, H, (name, t, v) => name === "f" && t === 5 && v.fill(1));
    for (let t = 0; t < T; t++) for (const name of ["i", "f", "g", "o", "c", "h"]) assertClose(trace.value(name, { t }), ref[t][name], `${name} at t=${t}`);
    assert.deepEqual(trace.value("f", { t: 5 }), [1, 1, 1, 1]);
    const [c4, i5, g5] = [trace.value("c", { t: 4 }), trace.value("i", { t: 5 }), trace.value("g", { t: 5 })];
    assert.deepEqual(trace.value("c", { t: 5 }), c4.map((c, k) => c * 1 + i5[k] * g5[k]));
    const plain = lstm.run(xs);
    assert.notDeepEqual(plain.value("f", { t: 5 }), [1, 1, 1, 1]);
    for (let t = 0; t < 5; t++) assert.deepEqual(trace.value("h", { t }), plain.value("h", { t }), "steps before the clamp are untouched");
    assert.notDeepEqual(trace.value("h", { t: 6 }), plain.value("h", { t: 6 }), "steps after it change");
  });

  it("ablating unit 3 of h zeroes it at every step and changes what follows as the hand loop does, for every batch element", () => {
    const batch = xs.map((x) => [x, x.map((v) => -v)]);
    const trace = lstm.run(batch, { interventions: [{ node: "h", units: [3], value: 0 }] });
    for (let b = 0; b < 2; b++) {
      const ref = lstmLoop(lstm.weights() as never, batch.map((step) => step[b]), H, (name, _t, v) => name === "h" && (v[3] = 0));
      for (let t = 0; t < T; t++) {
        assert.equal(trace.value("h", { t, b })[3], 0);
        for (const name of ["i", "f", "g", "o", "c", "h"]) assertClose(trace.value(name, { t, b }), ref[t][name], `${name} at t=${t}, b=${b}`);
      }
    }
    const plain = lstm.run(batch);
    assert.deepEqual(trace.value("c", { t: 0 }), plain.value("c", { t: 0 }), "step 0 reads no h yet: c is unchanged");
    assert.notDeepEqual(trace.value("f", { t: 1 }), plain.value("f", { t: 1 }), "step 1's gates read the ablated h");
  });

  it("a hand-computed RNN step: with unit 0 of h ablated, the next h is tanh(W x + U [0, h₁] + b)", () => {
    const rnn = cell(RNN_TANH, { inputSize: 1, hiddenSize: 2, weights: { W: [[1], [0.5]], U: [[0.3, -0.2], [0.4, 0.1]], b: [0.05, 0.1] } });
    const trace = rnn.run([[0.5], [1]], { interventions: [{ node: "h", t: 0, units: 0, value: 0 }] });
    const h0 = [0, Math.tanh(0.5 * 0.5 + 0.1)];
    assert.deepEqual(trace.value("h", { t: 0 }), h0);
    const h1 = [Math.tanh(1 + 0.3 * h0[0] - 0.2 * h0[1] + 0.05), Math.tanh(0.5 + 0.4 * h0[0] + 0.1 * h0[1] + 0.1)];
    assertClose(trace.value("h", { t: 1 }), h1, "h at t=1");
  });

  it("several interventions: steps as lists, later ones win, inputs too (before anything reads them)", () => {
    const list: Intervention[] = [
      { node: "x", t: [2, 3], value: 0 },
      { node: "i", t: [1, 4], units: [0, 2], value: 0.5 },
      { node: "i", t: 4, units: 2, value: 0.25 },
    ];
    const trace = lstm.run(xs, { interventions: list });
    const ref = lstmLoop(lstm.weights() as never, xs.map((x, t) => (t === 2 || t === 3 ? [0, 0] : x)), H, (name, t, v) => {
      if (name === "i" && (t === 1 || t === 4)) [v[0], v[2]] = [0.5, t === 4 ? 0.25 : 0.5];
    });
    for (let t = 0; t < T; t++) for (const name of ["i", "f", "c", "h"]) assertClose(trace.value(name, { t }), ref[t][name], `${name} at t=${t}`);
    assert.deepEqual(trace.value("x", { t: 2 }), [0, 0]);
    assert.deepEqual(trace.interventions, [{ node: "x", value: 0, t: [2, 3] }, { node: "i", value: 0.5, t: [1, 4], units: [0, 2] }, { node: "i", value: 0.25, t: [4], units: [2] }]);
    assert.deepEqual(lstm.run(xs, { interventions: JSON.parse(JSON.stringify(trace.interventions)) }).get("h"), trace.get("h"), "a trace's interventions, as JSON, run again");
  });

  it("a stepper with interventions computes what the run does, also after reset", () => {
    const interventions = [{ node: "f", t: 5, value: 1 }];
    const run = lstm.run(xs, { interventions });
    const s = lstm.stepper(xs, { interventions }).run();
    for (let t = 0; t < T; t++) assert.deepEqual(s.trace.at(t), run.at(t));
    s.reset();
    s.seek(7);
    assert.deepEqual(s.trace.value("c", { t: 7 }), run.value("c", { t: 7 }));
    s.reset({});
    s.run();
    assert.deepEqual(s.trace.value("c", { t: 7 }), lstm.run(xs).value("c", { t: 7 }), "reset without interventions runs the plain cell");
  });

  it("large sizes (fused or native products, native sigmoids) override the same way", () => {
    const [Hl, Bl, Tl] = [64, 32, 4];
    const big = cell(LSTM, { inputSize: 3, hiddenSize: Hl, seed: 2 });
    const batch = Array.from({ length: Tl }, (_, t) => Array.from({ length: Bl }, (_, b) => [Math.sin(t + b), Math.cos(t * b), 0.1 * b]));
    const trace = big.run(batch, { interventions: [{ node: "f", t: 1, value: 1 }, { node: "h", units: [5, 40], value: 0 }, { node: "i_pre", t: 2, units: 7, value: 3 }] });
    for (const b of [0, 31]) {
      const ref = lstmLoop(big.weights() as never, batch.map((step) => step[b]), Hl, (name, t, v) => {
        if (name === "f" && t === 1) v.fill(1);
        if (name === "h") v[5] = v[40] = 0;
        if (name === "i" && t === 2) v[7] = sigmoid(3);
      });
      for (let t = 0; t < Tl; t++) for (const name of ["i", "f", "c", "h"]) assertClose(trace.value(name, { t, b }), ref[t][name], `${name} at t=${t}, b=${b}`, 1e-10);
    }
  });

  it("float32 runs and reverse runs take interventions (steps in processing order)", () => {
    const f32 = cell(LSTM, { inputSize: 2, hiddenSize: H, seed: 3, dtype: "float32" });
    assert.deepEqual(f32.run(xs, { interventions: [{ node: "o", t: 2, value: 0 }] }).value("h", { t: 2 }), [0, 0, 0, 0]);
    const back = lstm.run(xs, { reverse: true, interventions: [{ node: "h", t: 0, value: 0.5 }] });
    assert.deepEqual(back.value("h", { t: 0 }), [0.5, 0.5, 0.5, 0.5]);
    assert.deepEqual(back.value("x", { t: 0 }), xs[T - 1]);
  });
});

describe("views of a stepper with interventions", () => {
  it("the player of a stepper runs the whole sequence with the stepper's interventions (not the plain cell)", async () => {
    const small = cell(LSTM, { inputSize: 2, hiddenSize: 2, seed: 1 });
    const runs: (RunOptions | undefined)[] = [];
    const run = small.run.bind(small);
    small.run = (input, options) => (runs.push(options), run(input, options));
    const interventions = [{ node: "f", t: 5, value: 1 }];
    await player(small.stepper(xs.slice(0, 6), { interventions }), { heatmap: false, states: false, maxFrames: 2 });
    assert.equal(runs.length, 1);
    assert.deepEqual(runs[0]!.interventions, [{ node: "f", value: 1, t: [5] }]);
  });
});

describe("interventions refused by name", () => {
  it("unknown names, steps and units out of range, non-finite values: each says which intervention and the valid range", () => {
    const bad = (interventions: unknown, c: string, pattern: RegExp) => assert.throws(() => lstm.run(xs, { interventions: interventions as Intervention[] }), code(c, pattern));
    bad([{ node: "forget", value: 1 }], "unknown-name", /Unknown node "forget" in interventions\[0\]\. Known nodes: "x", "i_pre", .*"f"/);
    bad([{ node: "f", value: 1 }, { node: "f", t: 10, value: 1 }], "out-of-range", /Step t of interventions\[1\] \(node "f"\) 10 is outside the sequence: valid steps are 0…9/);
    bad([{ node: "f", t: -1, value: 1 }], "out-of-range", /valid steps are 0…9/);
    bad([{ node: "h", units: [4], value: 0 }], "out-of-range", /Unit of "h" in interventions\[0\] 4 is out of range: valid units are 0…3/);
    bad([{ node: "h", units: [], value: 0 }], "bad-option", /interventions\[0\]\.units/);
    bad([{ node: "h", unit: 3, value: 0 }], "unknown-name", /Unknown field "unit" in interventions\[0\]\. Known fields: "node", "value", "t", "units"/);
    bad([{ node: "h", value: Infinity }], "bad-option", /interventions\[0\]\.value = Infinity .*a finite number/);
    bad([{ node: "h" }], "bad-option", /interventions\[0\]\.value = undefined/);
    bad({ node: "h", value: 0 }, "bad-option", /Option interventions = .* a list of \{ node, value, t\?, units\? \}/);
    bad([null], "bad-option", /interventions\[0\] = null/);
  });

  it("interventions round-tripped through JSON with hostile values (strings, NaN → null, __proto__) are refused by name", () => {
    const hostile = JSON.parse(
      JSON.stringify([
        [{ node: "f", t: 5, value: NaN }, /interventions\[0\]\.value = null/],
        [{ node: "f", t: "5", value: 1 }, /interventions\[0\]\.t = "5" .*not a whole number/],
        [{ node: "f", t: 5, value: "1" }, /interventions\[0\]\.value = "1"/],
        [{ node: "f", units: ["0"], value: 1 }, /interventions\[0\]\.units/],
        [{ node: "f", t: 2.5, value: 1 }, /interventions\[0\]\.t = 2\.5/],
        [{ node: ["f"], value: 1 }, /interventions\[0\]\.node = \[ 'f' \]/],
        [{ node: "__proto__", value: 1 }, /Unknown node "__proto__"/],
        [{ node: "toString", value: 1 }, /Unknown node "toString"/],
      ]),
    ) as [unknown, string][];
    for (const [item, pattern] of hostile)
      assert.throws(() => lstm.run(xs, { interventions: [item] as Intervention[] }), (e: unknown) => e instanceof ArchlabError && new RegExp(pattern).test(e.message), JSON.stringify(item));
    const proto = JSON.parse('[{ "node": "f", "value": 1, "__proto__": { "t": 99 } }]');
    assert.throws(() => lstm.run(xs, { interventions: proto }), code("unknown-name", /Unknown field "__proto__"/));
  });

  describe("no user text reaches generated code", () => {
    const scope = globalThis as { pwned?: number };
    afterEach(() => delete scope.pwned);
    it("hostile node names are unknown names and run nothing; the hooked source holds only indices", () => {
      for (const payload of ["f\nglobalThis.pwned = 1;//", "f*/globalThis.pwned = 1;/*", "f${globalThis.pwned = 1}"]) {
        assert.throws(() => lstm.run(xs, { interventions: [{ node: payload, value: 1 }] }), code("unknown-name"));
        assert.equal(scope.pwned, undefined);
      }
      const hooked = hookedNodes(LSTM, [{ node: "f", value: 1 }]);
      const plain = generate(LSTM, lstm.sizes, 1, { b0: 0, b1: 1 }, plan(LSTM, lstm.sizes, 1));
      const source = generate(LSTM, lstm.sizes, 1, { b0: 0, b1: 1 }, plan(LSTM, lstm.sizes, 1), hooked);
      const added = source.split("\n").filter((line) => !plain.split("\n").includes(line));
      assert.deepEqual(added, ["const I = rt.intervene;", `I(${LSTM.nodes.findIndex((n) => n.name === "f")}, t);`]);
      assert.throws(() => generate(LSTM, lstm.sizes, 1, undefined, undefined, ["1);globalThis.pwned=1;(" as never]), code("bad-definition"));
    });
  });
});
