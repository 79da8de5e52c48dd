import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { golden, goldenTorch, maxAbsDiff, pattern } from "../../test/support/golden";
import { ArchlabError } from "../errors";
import { fromTorch, loadTorchStateDict, toTorch, type TorchOptions } from "./torch";

const reference = JSON.parse(readFileSync(join(__dirname, "fixtures", "torch-reference.json"), "utf8"));

/** The fixture's weights: the i-th tensor of PyTorch's state-dict order is pattern(…, seed i + 1). */
function fixtureStateDict(order: string[], shapes: (name: string) => number[]) {
  return Object.fromEntries(order.map((name, k) => {
    const s = shapes(name);
    return [name, s.length === 2 ? pattern(s[0], s[1], k + 1) : pattern(1, s[0], k + 1)[0]];
  }));
}
const inputs = (T: number, B: number, In: number) =>
  Array.from({ length: T }, (_, t) => Array.from({ length: B }, (_, b) => Array.from({ length: In }, (_, j) => (((t * 5 + b * 3 + j * 2 + 1) % 9) - 4) / 4)));
const reshape = (rows: number[][], a: number, b: number) => Array.from({ length: a }, (_, i) => rows.slice(i * b, (i + 1) * b));

/** Shapes PyTorch gives its tensors — written from PyTorch's documentation, independently of src/io. */
function torchShapes(c: any) {
  const G = { RNN_TANH: 1, RNN_RELU: 1, LSTM: 4, GRU: 3 }[c.mode as string]!;
  const D = c.bidirectional ? 2 : 1, H = c.hiddenSize, P = c.projSize ?? 0, Hout = P || H;
  return (name: string) => {
    const layer = Number(/_l(\d+)/.exec(name)![1]);
    if (name.startsWith("weight_ih")) return [G * H, layer === 0 ? c.inputSize : D * Hout];
    if (name.startsWith("weight_hh")) return [G * H, Hout];
    if (name.startsWith("weight_hr")) return [P, H];
    return [G * H];
  };
}

const sd = (G: number) => goldenTorch(G);
const isError = (code: string, text: RegExp) => (e: unknown) => e instanceof ArchlabError && e.code === code && text.test(e.message);

describe("fromTorch: PyTorch's contract, against PyTorch's own outputs", () => {
  for (const dtype of ["float64", "float32"] as const) {
    const tol = dtype === "float64" ? 1e-6 : 1e-5;
    it(`RNN tanh / relu, LSTM (h, final c, gates at t=0), GRU match the golden PyTorch rows (${dtype})`, async () => {
      const run = (mode: TorchOptions["mode"], G: number) => fromTorch({ mode, inputSize: 3, hiddenSize: 2, dtype }, sd(G)).forward(golden.X);
      assert.ok(maxAbsDiff((await run("RNN_TANH", 1)).output, golden.torch_rnn_tanh_Y) < tol);
      assert.ok(maxAbsDiff((await run("RNN_RELU", 1)).output, golden.torch_rnn_relu_Y) < tol);
      const lstm = await run("LSTM", 4);
      assert.ok(maxAbsDiff(lstm.output, golden.torch_lstm_Y) < tol);
      assert.ok(maxAbsDiff(lstm.cN, [golden.torch_lstm_cT]) < tol);
      assert.ok(maxAbsDiff(lstm.hN, [golden.torch_lstm_Y[3]]) < tol);
      for (const g of ["i", "f", "g", "o"]) assert.ok(maxAbsDiff(lstm.trace.get(g, { layer: 0 })[0], golden.torch_lstm_gates_t0[g]) < tol, g);
      assert.ok(maxAbsDiff((await run("GRU", 3)).output, golden.torch_gru_Y) < tol);
    });
  }

  for (const c of reference.cases) {
    const name = `${c.mode}, ${c.numLayers} layers${c.bidirectional ? ", bidirectional" : ""}${c.projSize ? `, proj_size ${c.projSize}` : ""}${c.batchFirst ? ", batch_first" : ""}${c.unbatched ? ", unbatched" : ""}`;
    it(`${name}: output, h_n${c.mode === "LSTM" ? ", c_n" : ""} match PyTorch ${reference.torch} (float64)`, async () => {
      const { mode, inputSize, hiddenSize, numLayers, bidirectional, T, B } = c;
      const D = bidirectional ? 2 : 1, Hout = c.projSize || hiddenSize;
      const model = fromTorch({ mode, inputSize, hiddenSize, numLayers, bidirectional, batchFirst: c.batchFirst ?? false, projSize: c.projSize ?? 0 }, fixtureStateDict(c.stateDictOrder, torchShapes(c)));
      let x: any = inputs(T, B, inputSize);
      let h0: any = reshape(pattern(D * numLayers * B, Hout, 50), D * numLayers, B);
      let c0: any = reshape(pattern(D * numLayers * B, hiddenSize, 60), D * numLayers, B);
      if (c.batchFirst) x = x[0].map((_: unknown, b: number) => x.map((step: number[][]) => step[b]));
      if (c.unbatched) [x, h0, c0] = [x.map((s: number[][]) => s[0]), h0.map((s: number[][]) => s[0]), c0.map((s: number[][]) => s[0])];
      const out = await model.forward(x, h0, mode === "LSTM" ? c0 : undefined);
      assert.ok(maxAbsDiff(out.output, c.output) < 1e-9, "output");
      assert.ok(maxAbsDiff(out.hN, c.hN) < 1e-9, "h_n");
      if (mode === "LSTM") assert.ok(maxAbsDiff(out.cN, c.cN) < 1e-9, "c_n");
      assert.deepEqual(out.output.shape, c.unbatched ? [T, D * Hout] : c.batchFirst ? [B, T, D * Hout] : [T, B, D * Hout]);
      assert.deepEqual(out.hN.arraySync(), out.hN);
      assert.deepEqual(Object.keys(toTorch(model)), c.stateDictOrder, "toTorch writes PyTorch's names in PyTorch's order");
    });
  }

  it("toTorch → fromTorch is identical, and a PyTorch dict → archlab → PyTorch computes the same outputs", async () => {
    for (const c of reference.cases) {
      const options = { mode: c.mode, inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: c.numLayers, bidirectional: c.bidirectional, projSize: c.projSize ?? 0 };
      const original = fixtureStateDict(c.stateDictOrder, torchShapes(c));
      const first = fromTorch(options, original);
      const again = fromTorch(options, toTorch(first));
      assert.deepEqual(again.model.weights(), first.model.weights(), "ours → torch → ours is identical");
      assert.deepEqual(toTorch(again), toTorch(first));
      const x = inputs(c.T, c.B, c.inputSize);
      const [a, b] = [await first.forward(x), await again.forward(x)];
      assert.ok(maxAbsDiff(a.output, b.output) < 1e-12);
      // Biases are re-split (sum in bias_ih, zeros in bias_hh) except GRU's b_hn, which must stay put.
      const redone = toTorch(first);
      if (c.mode === "GRU") {
        const H = c.hiddenSize;
        assert.deepEqual((redone.bias_hh_l0 as number[]).slice(2 * H), (original.bias_hh_l0 as number[]).slice(2 * H), "b_hn is not merged");
      } else assert.ok((redone.bias_hh_l0 as number[]).every((v) => v === 0));
    }
  });
});

describe("fromTorch: bad input names the tensor, expected vs actual, and changes nothing", () => {
  const options: TorchOptions = { mode: "LSTM", inputSize: 3, hiddenSize: 2, numLayers: 2, bidirectional: true };
  const good = () => {
    const c = { ...options, T: 1, B: 1 };
    const order = [0, 1].flatMap((l) => ["", "_reverse"].flatMap((s) => ["weight_ih", "weight_hh", "bias_ih", "bias_hh"].map((n) => `${n}_l${l}${s}`)));
    return fixtureStateDict(order, torchShapes(c));
  };

  it("a missing tensor", () => {
    const d = good();
    delete d.bias_hh_l1_reverse;
    assert.throws(() => fromTorch(options, d), isError("missing-weight", /Missing weight "bias_hh_l1_reverse" \[8\] for PyTorch state dict of bidirectional LSTM model, 2 layers/));
  });
  it("an extra or misspelled tensor", () => {
    assert.throws(() => fromTorch(options, { ...good(), weight_ih_l2: [[0]] }), isError("extra-weight", /"weight_ih_l2".*Expected exactly: "weight_ih_l0"/));
    assert.throws(() => fromTorch({ ...options, bias: false }, good()), isError("extra-weight", /"bias_ih_l0"/));
  });
  it("a misshaped tensor: layer 1 reads D·H = 4 inputs", () => {
    const d = good();
    d.weight_ih_l1 = pattern(8, 2, 1);
    assert.throws(() => fromTorch(options, d), isError("shape", /"weight_ih_l1" of PyTorch state dict.*expected shape \[8, 4\], got \[8, 2\]/));
  });
  it("NaN or Infinity in a weight", () => {
    const d = good();
    (d.weight_hh_l0 as number[][])[3][1] = NaN;
    assert.throws(() => fromTorch(options, d), isError("non-finite", /"weight_hh_l0".*\[3\]\[1\] is NaN/));
    (d.weight_hh_l0 as number[][])[3][1] = Infinity;
    assert.throws(() => fromTorch(options, d), isError("non-finite", /is Infinity/));
  });
  it("unknown options and invalid modes", () => {
    assert.throws(() => fromTorch({ ...options, hidden_size: 2 } as never, good()), isError("unknown-name", /Unknown option "hidden_size" in fromTorch/));
    assert.throws(() => fromTorch({ ...options, mode: "LSTM2" as never }, good()), isError("bad-option", /mode = "LSTM2"/));
    assert.throws(() => fromTorch({ ...options, projSize: 2 }, good()), isError("bad-option", /projSize = 2/));
  });
  it("wrong input size or batch, ragged input, NaN in the input, misshaped h0 — and the weights stay as they were", async () => {
    const model = fromTorch(options, good());
    const before = model.stateDict();
    const x = inputs(3, 2, 3);
    await assert.rejects(model.forward(inputs(3, 2, 4)), isError("shape", /input of bidirectional LSTM model, 2 layers: expected shape \[3, 2, 3\], got \[3, 2, 4\]/));
    await assert.rejects(model.forward([[[0, 0, 0]], [[0, 0]]]), isError("ragged", /\[1\]\[0\] has length 2/));
    await assert.rejects(model.forward([[[0, NaN, 0]]]), isError("non-finite", /\[0\]\[0\]\[1\] is NaN/));
    await assert.rejects(model.forward(x, reshape(pattern(4 * 3, 2, 1), 4, 3)), isError("shape", /initial state "h".*expected shape \[4, 2, 2\], got \[4, 3, 2\]/));
    await assert.rejects(model.forward(x, undefined, reshape(pattern(2 * 2, 2, 1), 2, 2)), isError("shape", /initial state "c".*expected shape \[4, 2, 2\], got \[2, 2, 2\]/));
    const gru = fromTorch({ mode: "GRU", inputSize: 3, hiddenSize: 2 }, sd(3));
    await assert.rejects(gru.forward(x, undefined, [[[0, 0]]]), isError("bad-option", /c0.*only LSTM takes c0/));
    assert.deepEqual(model.stateDict(), before);
  });
  it("a bad tensor anywhere leaves an existing model's weights untouched (all or nothing)", async () => {
    const model = fromTorch(options, good());
    const before = model.model.weights();
    const d = { ...toTorch(model) };
    d.weight_ih_l0 = pattern(8, 3, 9); // valid …
    (d.bias_hh_l1_reverse as number[]) = [0, 0, 0]; // … but the last one is not
    assert.throws(() => loadTorchStateDict(model.model, d), isError("shape", /bias_hh_l1_reverse/));
    assert.deepEqual(model.model.weights(), before);
  });
});
