import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { golden, goldenTorch, maxAbsDiff, onnxNodeTests } from "../../test/support/golden";
import { GRU_RESET_AFTER, GRU_RESET_BEFORE, LSTM, PEEPHOLE_LSTM, RNN_TANH } from "../cells/builtins";
import { ArchlabError } from "../errors";
import { sequence } from "../models/sequence";
import { fromOnnx, toOnnx, type OnnxNode } from "./onnx";

/** Decoded ONNX tensor {shape, data} → nested array. */
function nested({ shape, data }: { shape: number[]; data: number[] }): any {
  if (shape.length === 0) return data[0];
  const [n, ...rest] = shape;
  const stride = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, (_, k) => nested({ shape: rest, data: data.slice(k * stride, (k + 1) * stride) }));
}
const isError = (code: string, text: RegExp) => (e: unknown) => e instanceof ArchlabError && e.code === code && text.test(e.message);
const fill = (shape: number[], v: number): any => (shape.length === 0 ? v : Array.from({ length: shape[0] }, () => fill(shape.slice(1), v)));

describe("the 12 ONNX backend node tests, through fromOnnx", () => {
  for (const [name, test] of Object.entries<Record<string, any>>(onnxNodeTests)) {
    for (const dtype of ["float64", "float32"] as const)
      it(`${name} (${dtype})`, () => {
        const get = (input: string) => {
          const key = Object.keys(test).find((k) => k.endsWith(`:${input}`));
          return key ? nested(test[key]) : undefined;
        };
        const op = name.includes("lstm") ? "LSTM" : name.includes("gru") ? "GRU" : "RNN";
        // The node tests' attributes (from ONNX's backend test generators): *_batchwise use layout=1;
        // hidden_size is R's last axis; every other attribute is the default.
        const R = get("R");
        const node: OnnxNode = { op_type: op, hidden_size: R[0][0].length, ...(name.endsWith("batchwise") ? { layout: 1 as const } : {}) };
        const model = fromOnnx(node, { W: get("W"), R, ...(get("B") ? { B: get("B") } : {}), ...(get("P") ? { P: get("P") } : {}) }, { dtype });
        if (name === "test_lstm_with_peepholes") assert.equal(model.model.def, PEEPHOLE_LSTM);
        if (name.startsWith("test_gru")) assert.equal(model.model.def, GRU_RESET_BEFORE, "linear_before_reset defaults to 0");
        const out = model.run({ X: get("X"), sequence_lens: get("sequence_lens"), initial_h: get("initial_h"), initial_c: get("initial_c") });
        let checked = 0;
        for (const key of Object.keys(test).filter((k) => k.startsWith("output_"))) {
          const output = key.split(":")[1] as "Y" | "Y_h";
          assert.ok(maxAbsDiff(out[output], nested(test[key])) < 1e-5, `${output}: ${maxAbsDiff(out[output], nested(test[key]))}`);
          checked++;
        }
        assert.ok(checked > 0);
      });
  }
});

describe("ONNX golden cases (CELLS.md data)", () => {
  /** PyTorch i, f, g, o blocks → ONNX i, o, f, c. */
  const toOnnxOrder = <T>(v: T[], H: number) => [0, 3, 1, 2].flatMap((k) => v.slice(k * H, (k + 1) * H));
  for (const dtype of ["float64", "float32"] as const) {
    const tol = dtype === "float64" ? 1e-6 : 1e-5;
    it(`peephole LSTM: the golden LSTM weights in ONNX order plus P = [i, o, f] (${dtype})`, () => {
      const sd = goldenTorch(4);
      const weights = {
        W: [toOnnxOrder(sd.weight_ih_l0, 2)],
        R: [toOnnxOrder(sd.weight_hh_l0, 2)],
        B: [[...toOnnxOrder(sd.bias_ih_l0, 2), ...toOnnxOrder(sd.bias_hh_l0, 2)]],
        P: [golden.onnx_lstm_peephole_P_iof],
      };
      const model = fromOnnx({ op_type: "LSTM", hidden_size: 2 }, weights, { dtype });
      const { Y } = model.run({ X: golden.X });
      assert.ok(maxAbsDiff(Y.map((step) => step[0]), golden.onnx_lstm_peephole_Y) < tol);
      const w = model.model.cell(0).weights();
      assert.ok(maxAbsDiff([w.p_i, w.p_o, w.p_f], [[0.1, -0.2], [0.3, -0.1], [0.2, 0.05]]) < 1e-7, "P is stored i, o, f");
    });
  }

  const cases = golden.onnx_reverse_bidirectional_recomputed.values;
  const X = [[[1, 2]], [[3, 4]], [[5, 6]]];
  const uniform = (op: "LSTM" | "GRU", H: number, scales: number[]) => {
    const G = op === "LSTM" ? 4 : 3;
    return { W: scales.map((s) => fill([G * H, 2], s)), R: scales.map((s) => fill([G * H, H], s)), B: scales.map(() => fill([2 * G * H], 0)) };
  };
  const all = (v: number[], x: number) => v.every((u) => Math.abs(u - x) < 1e-6);

  it("LSTM reverse and bidirectional: Y_h and Y_c of each direction", () => {
    const rev = fromOnnx({ op_type: "LSTM", hidden_size: 3, direction: "reverse" }, uniform("LSTM", 3, [0.1])).run({ X });
    assert.ok(all(rev.Y_h[0][0], cases.test_lstm_reverse.Y_h) && all(rev.Y_c![0][0], cases.test_lstm_reverse.Y_c));
    const bi = fromOnnx({ op_type: "LSTM", hidden_size: 3, direction: "bidirectional" }, uniform("LSTM", 3, [0.5, 2.0])).run({ X });
    const c = cases.test_lstm_bidirectional;
    assert.ok(all(bi.Y_h[0][0], c.Y_h_fwd) && all(bi.Y_h[1][0], c.Y_h_bwd) && all(bi.Y_c![0][0], c.Y_c_fwd) && all(bi.Y_c![1][0], c.Y_c_bwd));
  });
  it("GRU reverse and bidirectional: Y by input position (the backward direction's Y_h is at position 0)", () => {
    const rev = fromOnnx({ op_type: "GRU", hidden_size: 5, direction: "reverse" }, uniform("GRU", 5, [0.1])).run({ X });
    cases.test_gru_reverse.Y_t0_t1_t2.forEach((v: number, t: number) => assert.ok(all(rev.Y[t][0][0], v), `t=${t}`));
    assert.ok(all(rev.Y_h[0][0], cases.test_gru_reverse.Y_h));
    const bi = fromOnnx({ op_type: "GRU", hidden_size: 5, direction: "bidirectional" }, uniform("GRU", 5, [0.5, 2.0])).run({ X });
    const c = cases.test_gru_bidirectional;
    c.Y_fwd_t.forEach((v: number, t: number) => assert.ok(all(bi.Y[t][0][0], v), `fwd t=${t}`));
    c.Y_bwd_t.forEach((v: number, t: number) => assert.ok(all(bi.Y[t][1][0], v), `bwd t=${t}`));
    assert.ok(all(bi.Y_h[0][0], c.Y_h_fwd) && all(bi.Y_h[1][0], c.Y_h_bwd));
  });
});

describe("ONNX weights: round trips and bad input", () => {
  const x = golden.X;
  for (const { def, bidirectional } of [
    { def: RNN_TANH, bidirectional: false },
    { def: LSTM, bidirectional: true },
    { def: PEEPHOLE_LSTM, bidirectional: false },
    { def: GRU_RESET_BEFORE, bidirectional: true },
    { def: GRU_RESET_AFTER, bidirectional: true },
  ])
    it(`${def.name}${bidirectional ? " bidirectional" : ""}: ours → ONNX → ours is identical; ONNX → ours → ONNX computes the same`, () => {
      const model = sequence(def, { inputSize: 3, hiddenSize: 2, bidirectional, seed: 5 });
      const { node, ...weights } = toOnnx(model);
      assert.equal(node.linear_before_reset, def === GRU_RESET_AFTER ? 1 : def === GRU_RESET_BEFORE ? 0 : undefined);
      const back = fromOnnx(node, weights);
      assert.deepEqual(back.model.weights(), model.weights());
      // An ONNX node whose Rb is not zero: archlab merges what is exact to merge, and computes the same.
      const shifted = { ...weights, B: weights.B.map((b) => b.map((v, k) => v + 0.01 * (k + 1))) };
      const imported = fromOnnx(node, shifted);
      const { node: node2, ...again } = toOnnx(imported);
      assert.deepEqual(node2, node);
      assert.ok(maxAbsDiff(fromOnnx(node2, again).run({ X: x }).Y, imported.run({ X: x }).Y) < 1e-12);
    });

  it("missing, extra, misshaped and non-finite tensors, unknown attributes, ragged sequence_lens: named errors", () => {
    const { node, ...w } = toOnnx(sequence(LSTM, { inputSize: 3, hiddenSize: 2, seed: 1 }));
    assert.throws(() => fromOnnx(node, { W: w.W } as never), isError("missing-weight", /Missing weight "R" \[1, 8, 2\] for ONNX weights of LSTM model, 1 layer/));
    assert.throws(() => fromOnnx(node, { ...w, Q: [] } as never), isError("extra-weight", /"Q"/));
    assert.throws(() => fromOnnx(node, { ...w, B: [w.B[0].slice(1)] }), isError("shape", /"B" of ONNX weights.*expected shape \[1, 16\], got \[1, 15\]/));
    const bad = structuredClone(w.R);
    bad[0][5][1] = NaN;
    assert.throws(() => fromOnnx(node, { ...w, R: bad }), isError("non-finite", /"R".*\[0\]\[5\]\[1\] is NaN/));
    assert.throws(() => fromOnnx({ ...node, hiddenSize: 2 } as never, w), isError("unknown-name", /Unknown attribute "hiddenSize"/));
    assert.throws(() => fromOnnx({ ...node, clip: 3 }, w), isError("unsupported", /clip/));
    assert.throws(() => fromOnnx({ op_type: "GRU", hidden_size: 2 }, { ...w, P: [[0, 0, 0, 0, 0, 0]] }), isError("unsupported", /ONNX GRU .*peepholes/));
    const model = fromOnnx(node, w);
    assert.throws(() => model.run({ X: x, sequence_lens: [4, 3] }), isError("unsupported", /sequence_lens\[1\] = 3 \(T = 4\)/));
    assert.throws(() => model.run({ X: [[1, 2, 3]] }), isError("shape", /input X of ONNX LSTM node: expected shape \[T, B, In\], got \[1, 3\]/));
  });
});
