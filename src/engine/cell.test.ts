import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { BUILTIN_CELLS, GRU, GRU_RESET_AFTER, GRU_RESET_BEFORE, LSTM, RNN_RELU, RNN_TANH } from "../cells/builtins";
import * as archlab from "../index";
import { defineCell, sizeNames, type CellDef } from "../cells/define";
import { fromBlocks } from "../io/blocks";
import { KERAS, TORCH } from "../io/layouts";
import { golden, goldenTorch, maxAbsDiff } from "../../test/support/golden";
import { allocate } from "./arrays";
import { cell } from "./cell";

const torchCell = (def: CellDef, G: number, dtype: "float64" | "float32" = "float64") => {
  const sd = goldenTorch(G);
  const weights = fromBlocks(TORCH[def.name] ?? KERAS[def.name], { input: sd.weight_ih_l0, recurrent: sd.weight_hh_l0, inputBias: sd.bias_ih_l0, recurrentBias: sd.bias_hh_l0 }, 2);
  return cell(def, { inputSize: 3, hiddenSize: 2, weights, dtype });
};

describe("runFlat: a sequence model's layer input, already flat [T, B, In]", () => {
  for (const dtype of ["float64", "float32"] as const)
    it(`computes what run computes on the nested input, reversed too, PyTorch's h included, and keeps its own copy of the input (${dtype})`, () => {
      const lstm = torchCell(LSTM, 4, dtype);
      const X = golden.X as number[][][];
      for (const reverse of [false, true]) {
        const values = Float64Array.from(X.flat(2));
        const flat = lstm.runFlat({ values, T: X.length, B: X[0].length }, { reverse });
        const reference = lstm.run(X, { reverse });
        for (const name of ["x", ...LSTM.nodes.map((n) => n.name)]) assert.deepEqual(flat.get(name), reference.get(name), `${name}, reverse ${reverse}`);
        if (!reverse) assert.ok(maxAbsDiff(flat.get("h"), golden.torch_lstm_Y) < (dtype === "float64" ? 1e-6 : 1e-5));
        values.fill(99);
        assert.deepEqual(flat.get("x"), reference.get("x"), "the caller's array changed after the run; the trace kept its own");
      }
    });
  it("refuses values whose length is not T·B·In, by name", () => {
    assert.throws(() => torchCell(LSTM, 4).runFlat({ values: new Float64Array(5), T: 2, B: 1 }), (e: Error) => e instanceof archlab.ArchlabError && /input "x" of cell "LSTM"/.test(e.message) && /\[6\]/.test(e.message) && /\[5\]/.test(e.message));
  });
});

describe("runReusing: a training loop's run into the previous step's arrays", () => {
  it("computes what a fresh run computes (PyTorch's h included) in the earlier trace's arrays, and new arrays where they do not fit", () => {
    const lstm = torchCell(LSTM, 4);
    const xs = golden.X as number[][][];
    const fresh = lstm.run(xs);
    const earlier = lstm.run(xs.map((step: number[][]) => step.map((x) => x.map((v) => -2 * v))));
    const oldH = earlier.raw("h");
    const reused = lstm.runReusing(xs, earlier);
    assert.equal(reused.raw("h"), oldH, "the earlier trace's array");
    for (const name of reused.names) assert.deepEqual(reused.raw(name), fresh.raw(name), name);
    assert.ok(maxAbsDiff(reused.get("h"), golden.torch_lstm_Y) < 1e-6);
    // A shorter sequence (other sizes) or a trace of another cell: nothing is reused, and the run is still right.
    const short = lstm.runReusing(xs.slice(0, 2), reused);
    assert.notEqual(short.raw("h"), oldH);
    assert.deepEqual(short.raw("h"), lstm.run(xs.slice(0, 2)).raw("h"));
    const gru = torchCell(GRU, 3);
    assert.deepEqual(gru.runReusing(xs, reused).raw("h"), gru.run(xs).raw("h"));
    // Affine nodes with and without a bias, a shift, a concat: every node as a fresh run computes it.
    const mixed = defineCell({ name: "reuse_mixed", title: "test", citation: "test", inputs: { x: "In" }, states: { h: "H" } }, ({ x, h }, op) => {
      const a = op.affine("a", "H", { W: x, U: h }, null);
      const b = op.affine("b", "H", { V: x }, "c");
      return { h: op.tanh("y", op.add("s", op.shift("d", a, { value: 0.5, symbol: "β" }), op.mul("m", b, op.sigmoid("g", b)))) };
    });
    const m = cell(mixed, { inputSize: 3, hiddenSize: 2, seed: 3 });
    const first = m.run(xs.map((step: number[][]) => step.map((x) => x.map((v) => 3 * v + 1))));
    const again = m.runReusing(xs, first);
    for (const name of again.names) assert.deepEqual(again.raw(name), m.run(xs).raw(name), `reuse_mixed ${name}`);
  });
});

describe("cells against PyTorch golden outputs (CELLS.md data)", () => {
  for (const dtype of ["float64", "float32"] as const) {
    const tol = dtype === "float64" ? 1e-6 : 1e-5;
    it(`RNN tanh and relu match torch.nn.RNN (${dtype})`, () => {
      assert.ok(maxAbsDiff(torchCell(RNN_TANH, 1, dtype).run(golden.X).get("h"), golden.torch_rnn_tanh_Y) < tol);
      assert.ok(maxAbsDiff(torchCell(RNN_RELU, 1, dtype).run(golden.X).get("h"), golden.torch_rnn_relu_Y) < tol);
    });
    it(`LSTM matches torch.nn.LSTM: every h, the final c and the gates at t=0 (${dtype})`, () => {
      const trace = torchCell(LSTM, 4, dtype).run(golden.X);
      assert.ok(maxAbsDiff(trace.get("h"), golden.torch_lstm_Y) < tol);
      assert.ok(maxAbsDiff(trace.get("c")[3], golden.torch_lstm_cT) < tol);
      for (const g of ["i", "f", "g", "o"]) assert.ok(maxAbsDiff(trace.get(g)[0], golden.torch_lstm_gates_t0[g]) < tol, g);
    });
    it(`reset-after GRU matches torch.nn.GRU (${dtype})`, () => {
      assert.ok(maxAbsDiff(torchCell(GRU_RESET_AFTER, 3, dtype).run(golden.X).get("h"), golden.torch_gru_Y) < tol);
    });
  }
  it("GRU, the name PyTorch users type, is the reset-after GRU and matches torch.nn.GRU", () => {
    assert.equal(archlab.GRU, GRU_RESET_AFTER, "exported from the library root, so notebooks have it in scope");
    assert.ok(maxAbsDiff(torchCell(GRU, 3).run(golden.X).get("h"), golden.torch_gru_Y) < 1e-6);
  });
  it("reset-before GRU on the same weights matches Keras reset_after=False, and differs from reset-after by 0.1368", () => {
    const sd = goldenTorch(3);
    // Keras reset_before on "the same weights": PyTorch blocks r,z,n mapped onto z,r,h by gate meaning.
    const weights = fromBlocks(
      { input: ["W_r", "W_z", "W_h"], recurrent: ["U_r", "U_z", "U_h"], inputBias: ["b_r", "b_z", "b_h"], recurrentBias: ["b_r", "b_z", "b_h"] },
      { input: sd.weight_ih_l0, recurrent: sd.weight_hh_l0, inputBias: sd.bias_ih_l0, recurrentBias: sd.bias_hh_l0 },
      2,
    );
    const before = cell(GRU_RESET_BEFORE, { inputSize: 3, hiddenSize: 2, weights }).run(golden.X).get("h");
    assert.ok(maxAbsDiff(before, golden.keras_gru_reset_before_sigmoid_Y) < 1e-6);
    const after = torchCell(GRU_RESET_AFTER, 3).run(golden.X).get("h");
    assert.ok(Math.abs(maxAbsDiff(before, after) - golden.max_abs_diff_reset_after_vs_before) < 1e-6);
  });
});

describe("cell.setParams (training's flat weight update)", () => {
  it("replaces the weights from flat arrays in new storage; earlier traces keep the weights they ran with; bad lengths and non-finite values are named errors", () => {
    const c = cell(LSTM, { inputSize: 2, hiddenSize: 3, seed: 1 });
    const xs = [[0.1, 0.2], [0.3, -0.4]];
    const before = c.run(xs);
    const old = c.params.U_f;
    const flat = Object.fromEntries(Object.entries(c.params).map(([k, v]) => [k, Float64Array.from(v, (x) => x * 0.5)]));
    c.setParams(flat);
    assert.notEqual(c.params.U_f, old, "new arrays");
    assert.equal((c.weights().U_f as number[][])[1][2], old[1 * 3 + 2] * 0.5, "flat in the storage layout: row-major [rows, cols]");
    assert.deepEqual(archlab.backward(before, { final: { h: [1, 1, 1] } }).params, archlab.backward(cell(LSTM, { inputSize: 2, hiddenSize: 3, seed: 1 }).run(xs), { final: { h: [1, 1, 1] } }).params, "the earlier trace's tape still holds the old weights");
    assert.throws(() => c.setParams({ ...flat, U_f: new Float64Array(2) }), (e: Error) => e instanceof archlab.ArchlabError && /weight "U_f" of cell "LSTM"/.test(e.message) && /9 numbers/.test(e.message));
    assert.throws(() => c.setParams({ ...flat, b_i: Float64Array.of(0, NaN, 0) }), (e: Error) => e instanceof archlab.ArchlabError && /b_i/.test(e.message));
  });
});

describe("a run's node storage is not zeroed before the run writes it", () => {
  it("every value of every node of every built-in cell is written: none of the NaN bytes freed memory held shows (float64, float32)", () => {
    // Freed arrays full of 0xff bytes (NaN in both precisions), collected, are what new storage gets next.
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const [T, B] = [6, 2];
    let exposed = 0;
    for (const dtype of ["float64", "float32"] as const)
      for (const def of Object.values(BUILTIN_CELLS)) {
        const c = cell(def, { sizes: Object.fromEntries(sizeNames(def).map((s) => [s, s === "In" ? 3 : 4])), seed: 2, dtype });
        // The nodes' storage is one allocation (first), each node a view of it; one per node past 2 GiB.
        const sizes = def.nodes.map((n) => T * B * c.size(n.size));
        const lengths = [...new Set([sizes.reduce((a, n) => a + n, 0), ...sizes])];
        const churn = () => {
          for (const n of lengths) for (let i = 0; i < 16; i++) Buffer.allocUnsafeSlow(n * 8).fill(0xff);
          gc();
        };
        churn();
        if (allocate(dtype, lengths[0], "unfilled").some(Number.isNaN)) exposed++;
        churn();
        const xs = Array.from({ length: T }, (_, t) => Array.from({ length: B }, (_, b) => [0.3 * t - 0.5, 0.2 * b + 0.1, Math.sin(t + b)]));
        const trace = c.run(xs);
        for (const node of def.nodes) assert.ok(trace.raw(node.name).every(Number.isFinite), `${def.name} ${dtype}: node ${node.name} has a value the run did not write`);
      }
    assert.ok(exposed > 0, "the freed NaN bytes never reached new unfilled storage: this test would show nothing");
  });

  it("a run's nodes are views of one allocation, each its own values; an array read from a trace keeps them through later runs", () => {
    const c = cell(LSTM, { inputSize: 3, hiddenSize: 4, seed: 1 });
    const xs = (k: number) => Array.from({ length: 5 }, (_, t) => Array.from({ length: 2 }, (_, b) => [k * t, b - k, 0.1 * k]));
    const first = c.run(xs(1));
    const buffers = new Set(LSTM.nodes.map((n) => first.raw(n.name).buffer));
    assert.equal(buffers.size, 1);
    const starts = LSTM.nodes.map((n) => first.raw(n.name).byteOffset).sort((a, b) => a - b);
    starts.forEach((at, k) => k > 0 && assert.ok(at >= starts[k - 1] + 5 * 2 * 4 * 8, "no two nodes overlap"));
    const h = first.raw("h");
    const kept = Array.from(h);
    for (let k = 2; k < 6; k++) c.run(xs(k));
    assert.deepEqual(Array.from(h), kept);
    assert.deepEqual(first.get("h"), cell(LSTM, { inputSize: 3, hiddenSize: 4, seed: 1 }).run(xs(1)).get("h"));
  });
});
