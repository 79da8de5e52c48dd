import assert from "node:assert/strict";
import { describe, it } from "node:test";
import seedrandom from "seedrandom";
import { LSTM, MGU, PEEPHOLE_LSTM } from "../cells/builtins";
import type { CellDef } from "../cells/define";
import { ArchlabError } from "../errors";
import { dbLstm } from "./dblstm";
import { sequence } from "./sequence";

/** Nested arrays of the shape, uniform in [−1, 1), reproducible from the seed. */
const random = (seed: string) => {
  const r = seedrandom(seed);
  const make = (shape: number[]): any => (shape.length === 0 ? 2 * r() - 1 : Array.from({ length: shape[0] }, () => make(shape.slice(1))));
  return make;
};
const dot = (a: any, b: any): number => (Array.isArray(a) ? a.reduce((s: number, x: any, k: number) => s + dot(x, b[k]), 0) : a * b);

/** ∂L/∂(one number) by central differences: `poke(d)` adds d to it. */
const central = (L: () => number, poke: (d: number) => void, eps = 1e-5) => {
  poke(eps);
  const plus = L();
  poke(-2 * eps);
  const minus = L();
  poke(eps);
  return (plus - minus) / (2 * eps);
};
const close = (numeric: number, analytic: number, what: string) => assert.ok(Math.abs(numeric - analytic) <= 1e-6 * Math.max(1, Math.abs(analytic)), `${what}: ${numeric} vs ${analytic}`);

/** A bidirectional, stacked model of a cell PyTorch does not have: its gradients against central differences. */
function check(def: CellDef, batchFirst: boolean) {
  const model = sequence(def, { inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true, seed: 4 });
  const next = random(`${def.name}${batchFirst}`);
  const [T, B] = [4, 2];
  const xs = next(batchFirst ? [B, T, 2] : [T, B, 2]);
  const initial = Object.fromEntries(def.states.map((s) => [s.name, next([4, B, 3])]));
  const up = { output: next(batchFirst ? [B, T, 6] : [T, B, 6]), final: Object.fromEntries(def.states.map((s) => [s.name, next([4, B, 3])])) };
  const L = () => {
    const r = model.forward(xs, { initial, batchFirst });
    return dot(r.output, up.output) + def.states.reduce((s, st) => s + dot(r.final[st.name], up.final[st.name]), 0);
  };
  const g = model.forward(xs, { initial, batchFirst }).backward(up);
  for (const { key, cell } of model.cells)
    for (const [name, values] of Object.entries(cell.params)) {
      const k = values.length - 1;
      const analytic = (g.params[key][name] as number[] | number[][]).flat()[k];
      close(central(L, (d) => (values[k] += d)), analytic, `${key}.${name}[${k}]`);
    }
  for (let t = 0; t < T; t++) {
    const at = batchFirst ? [1, t, 0] : [t, 1, 0];
    close(central(L, (d) => (xs[at[0]][at[1]][at[2]] += d)), g.input[at[0]][at[1]][at[2]], `x[${at}]`);
  }
  for (const s of def.states) for (let k = 0; k < 4; k++) close(central(L, (d) => (initial[s.name][k][1][2] += d)), g.initial[s.name][k][1][2], `initial ${s.name}[${k}]`);
  assert.deepEqual(Object.keys(g.traces), ["l0", "l0_reverse", "l1", "l1_reverse"]);
}

describe("SequenceResult.backward: stacked bidirectional models of any cell, against central finite differences", () => {
  it("MGU, 2 layers, bidirectional: every cell's weights, the input at every position, every initial state", () => check(MGU, false));
  it("peephole LSTM, 2 layers, bidirectional, batch first", () => check(PEEPHOLE_LSTM, true));

  it("a weight change after the forward pass does not change its gradients (the trace keeps the weights it ran with)", () => {
    const model = sequence(MGU, { inputSize: 2, hiddenSize: 3, seed: 1 });
    const r = model.forward([[[0.1, 0.2]], [[0.3, -0.1]]]);
    const before = r.backward({ final: { h: [[[1, 1, 1]]] } });
    model.setWeights(sequence(MGU, { inputSize: 2, hiddenSize: 3, seed: 2 }).weights());
    assert.deepEqual(r.backward({ final: { h: [[[1, 1, 1]]] } }), before);
  });

  it("bad upstream gradients are named errors", () => {
    const model = sequence(MGU, { inputSize: 2, hiddenSize: 3, numLayers: 2 });
    const r = model.forward([[[0.1, 0.2]], [[0.3, -0.1]]]);
    const named = (code: string, text: RegExp) => (e: unknown) => e instanceof ArchlabError && e.code === code && text.test(e.message);
    assert.throws(() => r.backward({ output: [[[1, 1]]] }), named("shape", /upstream gradient "output" \(∂L\/∂output\) of backward of the MGU model, 2 layers: expected shape \[2, 1, 3\], got \[1, 1, 2\]/));
    assert.throws(() => r.backward({ final: { h: [[[1, 1, 1]]] } }), named("shape", /final\.h .*expected shape \[2, 1, 3\], got \[1, 1, 3\]/));
    assert.throws(() => r.backward({ final: { c: [] } }), named("unknown-name", /Unknown state "c"/));
    assert.throws(() => r.backward({ dOutput: [] } as never), named("unknown-name", /upstream gradient "dOutput"/));
  });
});

/** A DB-LSTM of a cell: gradients of ⟨up.output, output⟩ + Σ ⟨up.final, final⟩ against central differences, every shortcut weight included. */
function checkDb(def: CellDef, batchFirst: boolean) {
  const [T, B, In, H, depth] = [4, 2, 2, 3, 3];
  const db = dbLstm({ cell: def, inputSize: In, hiddenSize: H, depth, seed: 5 });
  const next = random(`db${def.name}${batchFirst}`);
  const xs = next(batchFirst ? [B, T, In] : [T, B, In]);
  const initial = Object.fromEntries(def.states.map((s) => [s.name, next([depth, B, H])]));
  const up = { output: next(batchFirst ? [B, T, H] : [T, B, H]), final: Object.fromEntries(def.states.map((s) => [s.name, next([depth, B, H])])) };
  const L = () => {
    const r = db.forward(xs, { initial, batchFirst });
    return dot(r.output, up.output) + def.states.reduce((s, st) => s + dot(r.final[st.name], up.final[st.name]), 0);
  };
  const g = db.forward(xs, { initial, batchFirst }).backward(up);
  assert.deepEqual(Object.keys(g.params), ["l0", "l1_reverse", "l2", "m1", "m2"]);
  for (const [key, weights] of Object.entries(db.weights()))
    for (const [name, value] of Object.entries(weights)) {
      // Every element of a shortcut (A, B, b); the last element of every cell weight.
      const n = ([value].flat(2) as number[]).length;
      for (const k of key.startsWith("m") ? Array.from({ length: n }, (_, j) => j) : [n - 1]) {
        const poke = (d: number) => {
          const w = db.weights();
          const v = w[key][name] as any;
          if (Array.isArray(v[0])) v[Math.floor(k / v[0].length)][k % v[0].length] += d;
          else v[k] += d;
          db.setWeights(w);
        };
        close(central(L, poke), ([g.params[key][name]].flat(2) as number[])[k], `${key}.${name}[${k}]`);
      }
    }
  for (let t = 0; t < T; t++)
    for (let i = 0; i < In; i++) {
      const at = batchFirst ? [1, t, i] : [t, 1, i];
      close(central(L, (d) => (xs[at[0]][at[1]][at[2]] += d)), g.input[at[0]][at[1]][at[2]], `x[${at}]`);
    }
  for (const s of def.states) for (let l = 0; l < depth; l++) close(central(L, (d) => (initial[s.name][l][1][2] += d)), g.initial[s.name][l][1][2], `initial ${s.name}[${l}]`);
  assert.deepEqual(Object.keys(g.traces), ["l0", "l1_reverse", "l2"]);
}

describe("DB-LSTM backward: gradients flow through the shortcuts, against central finite differences", () => {
  it("LSTM cells, depth 3: every shortcut weight, every cell's weights, the input at every position, every initial state", () => checkDb(LSTM, false));
  it("MGU cells, depth 3, batch first", () => checkDb(MGU, true));
});
