import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { golden, maxAbsDiff } from "../../test/support/golden";
import { BUILTIN_CELLS, GRU_RESET_BEFORE, LSTM, MGU } from "../cells/builtins";
import { ArchlabError } from "../errors";
import { dbLstm } from "./dblstm";
import { sequence } from "./sequence";

type V = number[];
const σ = (x: number) => 1 / (1 + Math.exp(-x));
const mv = (M: number[][], x: V): V => M.map((row) => row.reduce((s, w, k) => s + w * x[k], 0));
const add = (...vs: V[]): V => vs[0].map((_, k) => vs.reduce((s, v) => s + v[k], 0));
/** CELLS.md's LSTM, plain loops, over one sequence in the given order; returns h by input position. */
function lstmRef(w: Record<string, any>, xs: V[], backward: boolean): V[] {
  const H = w.b_i.length;
  let h = new Array(H).fill(0), c = new Array(H).fill(0);
  const out: V[] = new Array(xs.length);
  for (let s = 0; s < xs.length; s++) {
    const t = backward ? xs.length - 1 - s : s;
    const pre = (n: string) => add(mv(w[`W_${n}`], xs[t]), mv(w[`U_${n}`], h), w[`b_${n}`]);
    const [i, f, g, o] = [pre("i").map(σ), pre("f").map(σ), pre("g").map(Math.tanh), pre("o").map(σ)];
    c = c.map((cv, k) => f[k] * cv + i[k] * g[k]);
    h = c.map((cv, k) => o[k] * Math.tanh(cv));
    out[t] = h;
  }
  return out;
}
const isError = (code: string, text: RegExp) => (e: unknown) => e instanceof ArchlabError && e.code === code && text.test(e.message);
const X = golden.X as number[][][]; // [T=4][B=2][3]
const column = (b: number) => X.map((step) => step[b]);

describe("sequence(): stacked and bidirectional layers", () => {
  it("bidirectional: the backward cell runs on the reversed sequence with its own weights, re-aligned, after the forward half", () => {
    const model = sequence(LSTM, { inputSize: 3, hiddenSize: 2, bidirectional: true, seed: 1 });
    const { output, trace } = model.forward(X);
    const wf = model.cell(0, "forward").weights(), wb = model.cell(0, "backward").weights();
    assert.notDeepEqual(wf, wb);
    for (let b = 0; b < 2; b++) {
      const fwd = lstmRef(wf, column(b), false), bwd = lstmRef(wb, column(b), true);
      X.forEach((_, t) => assert.ok(maxAbsDiff(output[t][b], [...fwd[t], ...bwd[t]]) < 1e-12, `t=${t} b=${b}`));
    }
    // The backward cell's own trace is in processing order; get() re-aligns it to positions.
    const raw = trace.trace(0, "backward");
    assert.equal(raw.direction, "backward");
    raw.get("f").forEach((step, s) => assert.deepEqual(trace.get("f", { layer: 0, direction: "backward" })[X.length - 1 - s], step));
    assert.deepEqual(trace.value("h", { direction: "backward", t: 0, b: 1 }), raw.value("h", { t: X.length - 1, b: 1 }));
    assert.deepEqual(trace.directions(0), ["forward", "backward"]);
  });

  it("stacked bidirectional: both directions of layer 1 read layer 0's 2H concat; final states are [layers·D][B][H] in PyTorch's order", () => {
    const model = sequence(GRU_RESET_BEFORE, { inputSize: 3, hiddenSize: 2, numLayers: 2, bidirectional: true, seed: 2 });
    const { output, final, trace } = model.forward(X);
    const layer0 = [0, 1, 2, 3].map((t) => [0, 1].map((b) => [...trace.get("h", { layer: 0, direction: "forward" })[t][b], ...trace.get("h", { layer: 0, direction: "backward" })[t][b]]));
    assert.deepEqual(trace.input(1), layer0);
    // Layer 1's cells, run by hand on that input, give the model's output.
    const f1 = model.cell(1, "forward").run(layer0).get("h");
    const b1 = model.cell(1, "backward").run(layer0, { reverse: true }).get("h").reverse();
    assert.deepEqual(output, f1.map((step, t) => step.map((row, b) => [...row, ...b1[t][b]])));
    assert.equal(final.h.length, 4);
    assert.deepEqual(final.h[3], trace.get("h", { layer: 1, direction: "backward" })[0], "the backward h_n is at input position 0");
    assert.deepEqual(final.h[2], trace.get("h", { layer: 1, direction: "forward" })[3]);
  });

  it("any cell definition works in a stack (every built-in, 2 bidirectional layers)", () => {
    for (const def of Object.values(BUILTIN_CELLS)) {
      const model = sequence(def, { inputSize: 3, hiddenSize: 2, numLayers: 2, bidirectional: true, seed: 3, sizes: def.name === "LSTM_PROJ" ? { P: 1 } : undefined });
      const { output } = model.forward(X);
      const out = def.name === "LSTM_PROJ" ? 1 : 2;
      assert.deepEqual([output.length, output[0].length, output[0][0].length], [4, 2, 2 * out], def.name);
    }
  });

  it("initial states, batch-first input, and one sequence [T, In]", () => {
    const model = sequence(MGU, { inputSize: 3, hiddenSize: 2, numLayers: 2, seed: 4 });
    const h0 = [[[0.5, -0.5], [0.1, 0.2]], [[-0.3, 0.3], [0, 0.9]]];
    const a = model.forward(X, { initial: { h: h0 } });
    assert.notDeepEqual(a.output, model.forward(X).output);
    assert.deepEqual(a.trace.trace(1).initial.h, h0[1]);
    const bf = model.forward(X[0].map((_, b) => X.map((step) => step[b])), { initial: { h: h0 }, batchFirst: true });
    assert.deepEqual(bf.output, a.output[0].map((_, b) => a.output.map((step) => step[b])));
    const one = model.forward(column(1), { initial: { h: h0.map((l) => l[1]) } });
    assert.deepEqual(one.output.map((s) => s[0]), a.output.map((s) => s[1]));
  });

  it("setWeights is all or nothing; bad inputs are named", () => {
    const model = sequence(LSTM, { inputSize: 3, hiddenSize: 2, numLayers: 2, seed: 5 });
    const before = model.weights();
    const next = sequence(LSTM, { inputSize: 3, hiddenSize: 2, numLayers: 2, seed: 6 }).weights();
    next.l1.b_o = [1, Number.NaN];
    assert.throws(() => model.setWeights(next), isError("non-finite", /weight "b_o" of cell l1/));
    const { l1, ...missing } = next;
    void l1;
    assert.throws(() => model.setWeights(missing), isError("missing-weight", /Missing cell "l1"/));
    assert.throws(() => model.setWeights({ ...before, l0_reverse: before.l0 }), isError("extra-weight", /"l0_reverse"/));
    assert.deepEqual(model.weights(), before);
    assert.throws(() => model.forward(X, { initial: { hidden: [] } }), isError("unknown-name", /Unknown state "hidden".*Known states: "h", "c"/));
    assert.throws(() => model.forward([[[1, 2, 3]], [[1, 2]]]), isError("ragged", /\[1\]\[0\] has length 2/));
    assert.throws(() => model.forward([]), isError("empty-sequence", /empty/));
    const { trace } = model.forward(X);
    assert.throws(() => trace.get("h", { layer: 2 }), isError("out-of-range", /Layer 2/));
    assert.throws(() => trace.get("h", { direction: "backward" }), isError("unknown-name", /Unknown direction "backward" in layer 1/));
    assert.throws(() => trace.value("h", { t: 4 }), isError("out-of-range", /Position t 4/));
    assert.throws(() => trace.get("gate"), isError("unknown-name", /Unknown trace name "gate"/));
  });
});

describe("dbLstm(): Zhou & Xu's DB-LSTM, not a stack of BiLSTMs", () => {
  it("directions alternate, each layer reads m⁽ˡ⁾ = A h⁽ˡ⁻¹⁾ + B m⁽ˡ⁻¹⁾ + b, and the output is the top h — against plain loops", () => {
    const db = dbLstm({ inputSize: 3, hiddenSize: 2, depth: 4, seed: 7 });
    const { output, trace } = db.forward(X);
    assert.deepEqual([0, 1, 2, 3].map((l) => trace.directions(l)), [["forward"], ["backward"], ["forward"], ["backward"]]);
    const w = db.weights();
    assert.deepEqual(Object.keys(w), ["l0", "l1_reverse", "l2", "l3_reverse", "m1", "m2", "m3"]);
    for (let b = 0; b < 2; b++) {
      let m: V[] = column(b);
      let h = lstmRef(w.l0, m, false);
      for (let l = 1; l < 4; l++) {
        const { A, B, b: bias } = w[`m${l}`] as Record<string, any>;
        m = m.map((mt, t) => add(mv(A, h[t]), mv(B, mt), bias));
        assert.ok(maxAbsDiff(trace.input(l).map((s) => s[b]), m) < 1e-12, `m${l}`);
        h = lstmRef(w[l % 2 ? `l${l}_reverse` : `l${l}`], m, l % 2 === 1);
      }
      assert.ok(maxAbsDiff(output.map((s) => s[b]), h) < 1e-12);
    }
  });

  it("its weights round-trip and setWeights is all or nothing", () => {
    const db = dbLstm({ inputSize: 3, hiddenSize: 2, depth: 3, seed: 8 });
    const other = dbLstm({ inputSize: 3, hiddenSize: 2, depth: 3, seed: 9 });
    const before = db.weights();
    const w = other.weights();
    (w.m2 as any).B = [[1, 2, 3], [4, 5, 6]];
    assert.throws(() => db.setWeights(w), isError("shape", /weight "B" of shortcut m2.*expected shape \[2, 2\], got \[2, 3\]/));
    assert.deepEqual(db.weights(), before);
    db.setWeights(other.weights());
    assert.deepEqual(db.forward(X).output, other.forward(X).output);
    assert.throws(() => dbLstm({ inputSize: 3, hiddenSize: 2, depth: 0 }), isError("bad-option", /depth = 0/));
  });
});
