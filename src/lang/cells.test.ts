/**
 * defineCell is sugar for a scan: every built-in cell, translated into the general language, computes
 * every node at every step equal to the cell engine (float64 reference interpreter, to rounding),
 * and its fast (tfjs, float32) run agrees to float32 precision.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BUILTIN_CELLS } from "../cells";
import { defineCell } from "../cells/define";
import { cell } from "../engine/cell";
import { cellModel } from "./cells";

const T = 6;
const B = 2;

function inputsFor(c: ReturnType<typeof cell>) {
  const seqs = Object.fromEntries(
    c.def.inputs.map((inp, k) => {
      const n = c.size(inp.size);
      return [inp.name, Array.from({ length: T }, (_, t) => Array.from({ length: B }, (_, b) => Array.from({ length: n }, (_, i) => Math.sin(1.3 * t + 0.7 * i + b + k))))];
    }),
  );
  const initial = Object.fromEntries(c.def.states.map((s) => [s.name, Array.from({ length: B }, (_, b) => Array.from({ length: c.size(s.size) }, (_, u) => 0.1 * Math.cos(u + b)))]));
  return { seqs, initial };
}

for (const def of Object.values(BUILTIN_CELLS)) {
  test(`${def.name} as a scan computes what the cell engine computes, node by node, step by step`, async () => {
    const c = cell(def, { inputSize: 3, hiddenSize: 4, sizes: def.params.some((p) => p.shape.includes("P")) ? { P: 2 } : undefined, seed: 3 });
    const { seqs, initial } = inputsFor(c);
    const xs = seqs[def.inputs[0].name];
    const expected = c.run(xs, { initial });
    const m = cellModel(c);
    const inputs = { ...seqs, ...Object.fromEntries(Object.entries(initial).map(([k, v]) => [`${k}0`, v])) };
    const { trace } = await m.run(inputs, { backend: "reference" });
    for (const n of def.nodes) {
      const want = expected.get(n.name).flat(2);
      const got = trace.get(`${def.name}/${n.name}`).data;
      assert.equal(got.length, want.length, n.name);
      want.forEach((w, i) => assert.ok(Math.abs(got[i] - w) <= 1e-14 * Math.max(1, Math.abs(w)), `${def.name}/${n.name}[${i}] = ${got[i]}, engine ${w}`));
    }
    const fast = await m.run(inputs);
    const out = def.states[0].name;
    const want = expected.get(out).flat(2);
    fast.outputs[out].data.forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= 1e-5, `fast ${out}[${i}] = ${v}, engine ${want[i]}`));
  });
}

test("a cell with two inputs per step runs as a scan (the cell engine's run takes one)", async () => {
  const TwoInputs = defineCell(
    { name: "TwoInputs", title: "two inputs", citation: "test", inputs: { x: "In", u: "U" }, states: { h: "H" } },
    ({ x, u, h }, op) => ({ h: op.tanh("h", op.affine("a", "H", { W: x, V: u, R: h }, "b")) }),
  );
  const c = cell(TwoInputs, { inputSize: 2, hiddenSize: 3, sizes: { U: 1 }, seed: 1 });
  const x = [[[1, 2]], [[0, -1]]];
  const u = [[[0.5]], [[2]]];
  const { outputs } = await cellModel(c).run({ x, u, h0: [[0, 0, 0]] }, { backend: "reference" });
  // h_t = tanh(W x_t + V u_t + R h_{t−1} + b), written out with the cell's own parameters.
  const p = c.params;
  let h = [0, 0, 0];
  const want: number[] = [];
  for (let t = 0; t < 2; t++) {
    h = [0, 1, 2].map((j) => Math.tanh(p.W[j * 2] * x[t][0][0] + p.W[j * 2 + 1] * x[t][0][1] + p.V[j] * u[t][0][0] + h.reduce((s, hk, k) => s + p.R[j * 3 + k] * hk, 0) + p.b[j]));
    want.push(...h);
  }
  want.forEach((w, i) => assert.ok(Math.abs(outputs.h.data[i] - w) < 1e-15, `h[${i}]`));
});
