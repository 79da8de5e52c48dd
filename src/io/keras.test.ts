import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import { golden, goldenTorch, maxAbsDiff } from "../../test/support/golden";
import { LSTM_HARD_SIGMOID, LSTM_HARD_SIGMOID6, GRU_RESET_BEFORE_HARD_SIGMOID } from "../cells/builtins";
import { ArchlabError } from "../errors";
import { sequence } from "../models/sequence";
import { fromKeras, fromTfjs, kerasCell, loadKerasWeights, toKeras, type KerasConfig } from "./keras";

/** Plain-loop helpers written for this test from CELLS.md's layout table (not from src/io). */
const T = (m: number[][]) => m[0].map((_, c) => m.map((r) => r[c]));
const blocksOf = (m: number[][], H: number, order: number[]) => order.flatMap((k) => m.slice(k * H, (k + 1) * H));
const vecBlocks = (v: number[], H: number, order: number[]) => order.flatMap((k) => v.slice(k * H, (k + 1) * H));
/** Golden PyTorch weights as a Keras layer's [kernel, recurrent_kernel, bias], blocks reordered by gate meaning, biases summed. */
function kerasFromGolden(G: number, order: number[]) {
  const sd = goldenTorch(G);
  const bias = sd.bias_ih_l0.map((v, k) => v + sd.bias_hh_l0[k]);
  return [T(blocksOf(sd.weight_ih_l0, 2, order)), T(blocksOf(sd.weight_hh_l0, 2, order)), vecBlocks(bias, 2, order)];
}
const LSTM_ORDER = [0, 1, 2, 3]; // PyTorch i f g o = Keras i f c o
const GRU_ORDER = [1, 0, 2]; // PyTorch r z n → Keras z r h

const isError = (code: string, text: RegExp) => (e: unknown) => e instanceof ArchlabError && e.code === code && text.test(e.message);
const fill = (rows: number, cols: number, v: number) => Array.from({ length: rows }, () => new Array(cols).fill(v));

describe("Keras / tfjs import against the golden data (CELLS.md)", () => {
  for (const dtype of ["float64", "float32"] as const) {
    const tol = dtype === "float64" ? 1e-6 : 1e-5;
    it(`Keras reset-before GRU on the same weights (reset_after=False, sigmoid) (${dtype})`, () => {
      const m = fromKeras({ layer: "GRU", inputSize: 3, units: 2, resetAfter: false, dtype }, kerasFromGolden(3, GRU_ORDER));
      assert.ok(maxAbsDiff(m.forward(golden.X).output, golden.keras_gru_reset_before_sigmoid_Y) < tol);
    });
    it(`tfjs LSTM and GRU with their default hardSigmoid = clip(0.2x + 0.5) (${dtype})`, () => {
      const lstm = fromTfjs({ layer: "lstm", inputSize: 3, units: 2, dtype }, kerasFromGolden(4, LSTM_ORDER));
      assert.equal(lstm.def, LSTM_HARD_SIGMOID);
      assert.ok(maxAbsDiff(lstm.forward(golden.X).output, golden.tfjs_lstm_default_hardsigmoid_Y) < tol);
      const gru = fromTfjs({ layer: "gru", inputSize: 3, units: 2, dtype }, kerasFromGolden(3, GRU_ORDER));
      assert.equal(gru.def, GRU_RESET_BEFORE_HARD_SIGMOID);
      assert.ok(maxAbsDiff(gru.forward(golden.X).output, golden.tfjs_gru_default_hardsigmoid_Y) < tol);
    });
    it(`Keras 3 LSTM with recurrent_activation "hard_sigmoid" = clip(x/6 + 0.5) (${dtype})`, () => {
      const m = fromKeras({ layer: "LSTM", inputSize: 3, units: 2, recurrentActivation: "hard_sigmoid", dtype }, kerasFromGolden(4, LSTM_ORDER));
      assert.equal(m.def, LSTM_HARD_SIGMOID6);
      assert.ok(maxAbsDiff(m.forward(golden.X).output, golden.keras3_lstm_hard_sigmoid_Y) < tol);
    });
  }

  describe("Keras 3's own tests: arange(72).reshape(3, 6, 4), 3 units, kernel 0.01, recurrent 0.02, bias 0.03", () => {
    const x = Array.from({ length: 3 }, (_, b) => Array.from({ length: 6 }, (_, t) => Array.from({ length: 4 }, (_, j) => b * 24 + t * 4 + j)));
    const lastH = (config: Omit<KerasConfig, "inputSize" | "units">, G: number, bias: unknown) =>
      fromKeras({ ...config, inputSize: 4, units: 3 }, [fill(4, G * 3, 0.01), fill(3, G * 3, 0.02), bias]).forward(x, { batchFirst: true }).output.map((seq) => seq[5]);
    const expectRows = (h: number[][], rows: number[]) => h.forEach((units, b) => units.forEach((v) => assert.ok(Math.abs(v - rows[b]) < 1e-6, `${v} vs ${rows[b]}`)));
    it("LSTM with unit_forget_bias (forget block of the bias = 1)", () => {
      const bias = [0.03, 0.03, 0.03, 1, 1, 1, ...new Array(6).fill(0.03)];
      expectRows(lastH({ layer: "LSTM" }, 4, bias), [0.6288687, 0.86899155, 0.9460773]);
    });
    it("GRU reset_after (bias [2, 9]) and reset_before (bias [9])", () => {
      expectRows(lastH({ layer: "GRU" }, 3, fill(2, 9, 0.03)), [0.5217289, 0.6371659, 0.39384964]);
      expectRows(lastH({ layer: "GRU", resetAfter: false }, 3, new Array(9).fill(0.03)), [0.51447755, 0.6426879, 0.40208298]);
    });
  });
});

describe("against tfjs-layers 4.22 itself (cpu backend, recurrentActivation 'sigmoid', float32)", () => {
  before(async () => {
    await tf.setBackend("cpu");
  });
  const random = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, "float32", seed).arraySync() as number[][][];
  const LAYERS = {
    SimpleRNN: (o: object) => tfl.layers.simpleRNN(o as never),
    LSTM: (o: object) => tfl.layers.lstm(o as never),
    GRU: (o: object) => tfl.layers.gru(o as never),
  };
  const SIZES = [
    { In: 3, H: 2, T: 5, B: 2 },
    { In: 5, H: 7, T: 9, B: 4 },
    { In: 1, H: 16, T: 20, B: 3 },
  ];
  for (const layer of ["SimpleRNN", "LSTM", "GRU"] as const)
    for (const { In, H, T: steps, B } of SIZES)
      it(`${layer} In=${In} H=${H} T=${steps} B=${B}: tfjs weights → archlab, and archlab weights → tfjs, give tfjs' outputs`, () => {
        const options = { units: H, recurrentActivation: "sigmoid", recurrentInitializer: "glorotUniform", biasInitializer: "randomNormal", returnSequences: true, inputShape: [steps, In] };
        const tfLayer = LAYERS[layer](options);
        const net = tfl.sequential({ layers: [tfLayer] });
        const x = random([B, steps, In], In * 100 + H);
        const expected = tf.tidy(() => (net.predict(tf.tensor(x)) as tf.Tensor).arraySync()) as number[][][];
        const config: KerasConfig = { layer, inputSize: In, units: H, recurrentActivation: "sigmoid" };
        for (const dtype of ["float32", "float64"] as const) {
          const ours = fromTfjs({ ...config, dtype }, tfLayer.getWeights());
          assert.ok(maxAbsDiff(ours.forward(x, { batchFirst: true }).output, expected) < 1e-5, `tfjs → archlab (${dtype})`);
        }
        // The other way: archlab's own seeded weights into the tfjs layer.
        const mine = sequence(fromTfjs(config, tfLayer.getWeights()).def, { inputSize: In, hiddenSize: H, seed: `${layer}${H}` });
        tfLayer.setWeights(toKeras(mine).map((w) => tf.tensor(w)));
        const theirs = tf.tidy(() => (net.predict(tf.tensor(x)) as tf.Tensor).arraySync()) as number[][][];
        assert.ok(maxAbsDiff(mine.forward(x, { batchFirst: true }).output, theirs) < 1e-5, "archlab → tfjs");
        assert.ok(maxAbsDiff(theirs, expected) > 1e-3, "the two weight sets really differ");
        net.dispose();
      });

  it("stacked Bidirectional(LSTM) layers: the weight list is forward then backward per layer, and the 2H concat feeds layer 2", () => {
    const cfg = { units: 3, recurrentActivation: "sigmoid", recurrentInitializer: "glorotUniform", biasInitializer: "randomNormal", returnSequences: true };
    const net = tfl.sequential({
      layers: [
        tfl.layers.bidirectional({ layer: tfl.layers.lstm(cfg as never) as never, mergeMode: "concat", inputShape: [6, 2] }),
        tfl.layers.bidirectional({ layer: tfl.layers.lstm(cfg as never) as never, mergeMode: "concat" }),
      ],
    });
    const x = random([2, 6, 2], 7);
    const expected = tf.tidy(() => (net.predict(tf.tensor(x)) as tf.Tensor).arraySync()) as number[][][];
    const ours = fromTfjs({ layer: "lstm", inputSize: 2, units: 3, recurrentActivation: "sigmoid", numLayers: 2, bidirectional: true, dtype: "float32" }, net.getWeights());
    assert.ok(maxAbsDiff(ours.forward(x, { batchFirst: true }).output, expected) < 1e-5);
    net.dispose();
  });
});

describe("Keras weights: round trips and bad input", () => {
  const configs: KerasConfig[] = [
    { layer: "SimpleRNN", inputSize: 3, units: 4 },
    { layer: "SimpleRNN", inputSize: 3, units: 4, activation: "relu", numLayers: 2 },
    { layer: "LSTM", inputSize: 3, units: 4, bidirectional: true },
    { layer: "GRU", inputSize: 3, units: 4, resetAfter: true, numLayers: 2, bidirectional: true },
    { layer: "GRU", inputSize: 3, units: 4, resetAfter: false, recurrentActivation: "hard_sigmoid" },
  ];
  const x = golden.X;
  /** A distinct, deterministic value for every entry of a tensor shaped like `like`. */
  const remake = (like: unknown, seed: number): unknown =>
    Array.isArray(like) ? like.map((v, k) => remake(v, seed * 31 + k + 1)) : (((seed * 7) % 19) - 9) / 10;
  for (const config of configs)
    it(`${config.layer}${config.resetAfter === false ? " reset-before" : ""}${config.bidirectional ? " bidirectional" : ""}: ours → Keras → ours is identical; Keras → ours → Keras computes the same`, () => {
      const def = kerasCell(config, { recurrentActivation: "sigmoid", resetAfter: true });
      const model = sequence(def, { inputSize: 3, hiddenSize: 4, numLayers: config.numLayers, bidirectional: config.bidirectional, seed: 3 });
      assert.deepEqual(fromKeras(config, toKeras(model)).weights(), model.weights());
      const list = toKeras(model).map((w, k) => remake(w, k + 1));
      const imported = fromKeras(config, list);
      const back = toKeras(imported);
      assert.ok(maxAbsDiff(fromKeras(config, back).forward(x).output, imported.forward(x).output) < 1e-12);
      const splitBias = def.name.startsWith("GRU_RESET_AFTER");
      if (!splitBias) assert.deepEqual(back, list, "one bias: the list comes back as it was");
      else assert.deepEqual(back.map((w, k) => (k % 3 === 2 ? (w as number[][])[1].slice(8) : w)), list.map((w, k) => (k % 3 === 2 ? (w as number[][])[1].slice(8) : w)), "b_hn stays in the recurrent bias");
    });

  it("bad lists, shapes, numbers and options are named, and nothing changes", () => {
    const config: KerasConfig = { layer: "GRU", inputSize: 3, units: 2 };
    const m = fromKeras(config, [fill(3, 6, 0.1), fill(2, 6, 0.2), fill(2, 6, 0.3)]);
    const before = m.weights();
    assert.throws(() => loadKerasWeights(m, [fill(3, 6, 0.1), fill(2, 6, 0.2)]), isError("shape", /list of tensors\): expected shape \[3\], got \[2\]/));
    assert.throws(() => loadKerasWeights(m, [fill(3, 6, 0.1), fill(2, 6, 0.2), new Array(6).fill(0)]), isError("shape", /"bias \(tensor 2, cell l0\)".*expected shape \[2, 6\], got \[6\]/));
    assert.throws(() => loadKerasWeights(m, [fill(6, 3, 0.1), fill(2, 6, 0.2), fill(2, 6, 0)]), isError("shape", /"kernel \(tensor 0, cell l0\)".*expected shape \[3, 6\], got \[6, 3\]/));
    const nan = fill(2, 6, 0.2);
    nan[1][4] = -Infinity;
    assert.throws(() => loadKerasWeights(m, [fill(3, 6, 0.1), nan, fill(2, 6, 0)]), isError("non-finite", /recurrent_kernel.*\[1\]\[4\] is -Infinity/));
    assert.deepEqual(m.weights(), before);
    assert.throws(() => fromKeras({ ...config, layer: "ConvLSTM2D" as never }, []), isError("bad-option", /layer = "ConvLSTM2D"/));
    assert.throws(() => fromKeras({ ...config, recurrentActivation: "softsign" as never }, []), isError("bad-option", /recurrentActivation = "softsign"/));
    assert.throws(() => fromKeras({ ...config, return_sequences: true } as never, []), isError("unknown-name", /Unknown option "return_sequences" in fromKeras/));
    assert.throws(() => fromTfjs({ ...config, resetAfter: true }, []), isError("unsupported", /tfjs-layers' GRU is reset-before only/));
    assert.throws(() => fromKeras({ layer: "LSTM", inputSize: 3, units: 2, activation: "relu" }, []), isError("unsupported", /activation "relu" in a Keras LSTM/));
  });
});
