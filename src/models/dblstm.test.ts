import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { maxAbsDiff } from "../../test/support/golden";
import { LSTM } from "../cells/builtins";
import { loadTorchStateDict, torchStateDict } from "../io/torch";
import { dbLstm } from "./dblstm";
import { sequence } from "./sequence";

/** PyTorch 1.13 autograd, float64, of a DB-LSTM built from nn.LSTM layers and shortcut tensors (see io/fixtures/torch-dblstm-gradients.py). */
const reference = JSON.parse(readFileSync(join(__dirname, "..", "io", "fixtures", "torch-dblstm-gradients.json"), "utf8"));

const maxAbs = (a: unknown): number => (Array.isArray(a) ? a.reduce((m, x) => Math.max(m, maxAbs(x)), 0) : Math.abs(a as number));
/** Normwise relative difference ‖ours − torch‖∞ / ‖torch‖∞. */
const relative = (ours: unknown, torch: unknown) => maxAbsDiff(ours, torch) / Math.max(maxAbs(torch), 1e-300);

/** A one-layer nn.LSTM of these sizes, as archlab lays out PyTorch's tensors (and back). */
const oneLayer = (inputSize: number, hiddenSize: number) => sequence(LSTM, { inputSize, hiddenSize });

describe(`DB-LSTM backward: gradients equal PyTorch ${reference.torch} autograd to 1e-9 relative (float64)`, () => {
  for (const c of reference.cases)
    it(`depth ${c.depth}, In ${c.inputSize}, H ${c.hiddenSize}, T ${c.T}, B ${c.B}: every cell's and every shortcut's weights, dx, dh0, dc0`, () => {
      const db = dbLstm({ inputSize: c.inputSize, hiddenSize: c.hiddenSize, depth: c.depth });
      const sizeIn = (key: string) => (key === "l0" ? c.inputSize : c.hiddenSize);
      const cells = Object.fromEntries(Object.entries(c.cells).map(([key, sd]) => [key, loadTorchStateDict(oneLayer(sizeIn(key), c.hiddenSize), sd as never).weights().l0]));
      db.setWeights({ ...cells, ...c.shortcuts });
      const r = db.forward(c.x, { initial: { h: c.h0, c: c.c0 } });
      assert.ok(relative(r.output, c.output) < 1e-12 && relative(r.final.h, c.hN) < 1e-12 && relative(r.final.c, c.cN) < 1e-12, "the forward pass is PyTorch's");
      const g = r.backward({ output: c.dOutput, final: { h: c.dhN, c: c.dcN } });
      for (const [key, grads] of Object.entries(c.cellGrads) as [string, Record<string, number[][]>][]) {
        // archlab keeps one summed bias: its gradient is bias_ih's (and bias_hh's, the same).
        const ours = torchStateDict(oneLayer(sizeIn(key), c.hiddenSize).setWeights({ l0: g.params[key] }));
        for (const name of ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0"]) assert.ok(relative(ours[name], grads[name]) < 1e-9, `${key}.${name}: ${relative(ours[name], grads[name])}`);
        assert.ok(relative(ours.bias_ih_l0, grads.bias_hh_l0) < 1e-9);
      }
      for (const [key, grads] of Object.entries(c.shortcutGrads) as [string, Record<string, unknown>][])
        for (const name of ["A", "B", "b"]) assert.ok(relative(g.params[key][name], grads[name]) < 1e-9, `${key}.${name}: ${relative(g.params[key][name], grads[name])}`);
      assert.ok(relative(g.input, c.dx) < 1e-9, `dx: ${relative(g.input, c.dx)}`);
      assert.ok(relative(g.initial.h, c.dh0) < 1e-9, `dh0: ${relative(g.initial.h, c.dh0)}`);
      assert.ok(relative(g.initial.c, c.dc0) < 1e-9, `dc0: ${relative(g.initial.c, c.dc0)}`);
    });

  it("one sequence [T, In]: gradients drop the batch axis, as the forward pass does, and equal the batch of one", () => {
    const c = reference.cases[0];
    const db = dbLstm({ inputSize: c.inputSize, hiddenSize: c.hiddenSize, depth: c.depth, seed: 3 });
    const column = (a: number[][][]) => a.map((row) => row[0]);
    const one = db.forward(column(c.x)).backward({ output: column(c.dOutput), final: { c: column(c.dcN) } });
    const batch = db.forward(c.x.map((row: number[][]) => [row[0]])).backward({ output: c.dOutput.map((row: number[][]) => [row[0]]), final: { c: c.dcN.map((row: number[][]) => [row[0]]) } });
    assert.deepEqual(one.input, column(batch.input));
    assert.deepEqual(one.initial.h, column(batch.initial.h));
    assert.deepEqual(one.params, batch.params);
  });

  it("a weight change after the forward pass does not change its gradients, shortcuts included", () => {
    const db = dbLstm({ inputSize: 2, hiddenSize: 3, depth: 3, seed: 1 });
    const r = db.forward([[[0.1, 0.2]], [[0.3, -0.1]]]);
    const up = { output: [[[1, 0, -1]], [[0.5, 0.5, 0.5]]] };
    const before = r.backward(up);
    db.setWeights(dbLstm({ inputSize: 2, hiddenSize: 3, depth: 3, seed: 2 }).weights());
    assert.deepEqual(r.backward(up), before);
    assert.deepEqual(Object.keys(r), ["output", "final", "trace"], "backward is not enumerable");
  });

  it("bad upstream gradients are named errors", () => {
    const r = dbLstm({ inputSize: 2, hiddenSize: 3, depth: 2 }).forward([[[0.1, 0.2]], [[0.3, -0.1]]]);
    assert.throws(() => r.backward({ output: [[[1, 1]]] }), /upstream gradient "output" \(∂L\/∂output\) of backward of the DB-LSTM \(LSTM, depth 2\): expected shape \[2, 1, 3\], got \[1, 1, 2\]/);
    assert.throws(() => r.backward({ final: { c: [[[1, 1, 1]]] } }), /final\.c .*expected shape \[2, 1, 3\], got \[1, 1, 3\]/);
    assert.throws(() => r.backward({ final: { z: [] } }), /Unknown state "z"/);
  });
});
