/**
 * Keras and tfjs-layers: `SimpleRNN`, `LSTM`, `GRU` layer weights in and out, as `layer.get_weights()`
 * / `layer.getWeights()` list them — per layer (and, in a `Bidirectional` wrapper, forward then
 * backward): `kernel [In, G·H]`, `recurrent_kernel [H, G·H]`, `bias [G·H]` (reset-after GRU: `[2, 3H]`,
 * input bias then recurrent bias). Gate order i, f, c, o (LSTM) and z, r, h (GRU).
 *
 * The gate activation is part of the cell: tfjs' `'hardSigmoid'` (its default; Keras 2's
 * `'hard_sigmoid'` too) is clip(0.2x + 0.5) → *_HARD_SIGMOID; Keras 3's `'hard_sigmoid'` is
 * clip(x/6 + 0.5) → *_HARD_SIGMOID6. tfjs has only the reset-before GRU.
 */
import {
  GRU_RESET_AFTER_HARD_SIGMOID,
  GRU_RESET_AFTER_HARD_SIGMOID6,
  GRU_RESET_BEFORE_HARD_SIGMOID,
  GRU_RESET_BEFORE_HARD_SIGMOID6,
  LSTM_HARD_SIGMOID,
  LSTM_HARD_SIGMOID6,
} from "../cells/builtins/framework";
import { GRU_RESET_AFTER, GRU_RESET_BEFORE } from "../cells/builtins/gru";
import { LSTM } from "../cells/builtins/lstm";
import { RNN_RELU, RNN_TANH } from "../cells/builtins/rnn";
import type { CellDef } from "../cells/define";
import { choose, errors, requireObject } from "../errors";
import type { Weights } from "../engine/params";
import { SequenceModel } from "../models/sequence";
import { fromBlocks, toBlocks, transpose, type Blocks } from "./blocks";
import { layoutFor } from "./layouts";
import { readTensor } from "./tensor";

/** A Keras / tfjs recurrent layer type (any case: `"lstm"`, `"LSTM"`, `"simpleRNN"` …). */
export type KerasLayer = "SimpleRNN" | "LSTM" | "GRU";
/** Gate activation names: `"hardSigmoid"` = clip(0.2x + 0.5) (tfjs, Keras 2); `"hard_sigmoid"` = clip(x/6 + 0.5) (Keras 3). */
export type KerasRecurrentActivation = "sigmoid" | "hardSigmoid" | "hard_sigmoid";

/** A Keras / tfjs recurrent layer's configuration (its own option names), plus stacking. */
export interface KerasConfig {
  layer: KerasLayer | Lowercase<KerasLayer> | "simpleRNN";
  inputSize: number;
  units: number;
  /** Output activation: `"tanh"` (default) or, for SimpleRNN, `"relu"`. */
  activation?: "tanh" | "relu";
  /** Gate activation (LSTM, GRU). Default: `"sigmoid"` for Keras ({@link fromKeras}), `"hardSigmoid"` for tfjs ({@link fromTfjs}). */
  recurrentActivation?: KerasRecurrentActivation;
  /** GRU: reset after the recurrent matrix (Keras 3 default true; tfjs: false only). */
  resetAfter?: boolean;
  /** False when the layer was built with `use_bias=False` (no bias tensor). */
  useBias?: boolean;
  /** Number of such layers stacked (default 1). */
  numLayers?: number;
  /** Each layer wrapped in `Bidirectional` (merge mode "concat"; default false). */
  bidirectional?: boolean;
  dtype?: "float64" | "float32";
}

/** A list of tensors as `get_weights()` returns them (nested numbers or tfjs tensors). */
export type KerasWeights = readonly unknown[];

const OPTION_NAMES = ["layer", "inputSize", "units", "activation", "recurrentActivation", "resetAfter", "useBias", "numLayers", "bidirectional", "dtype"];
type Gates = "sigmoid" | "hardSigmoid" | "hardSigmoid6";
const GATES: Record<KerasRecurrentActivation, Gates> = { sigmoid: "sigmoid", hardSigmoid: "hardSigmoid", hard_sigmoid: "hardSigmoid6" };
const CELLS = {
  LSTM: { sigmoid: LSTM, hardSigmoid: LSTM_HARD_SIGMOID, hardSigmoid6: LSTM_HARD_SIGMOID6 },
  GRU_BEFORE: { sigmoid: GRU_RESET_BEFORE, hardSigmoid: GRU_RESET_BEFORE_HARD_SIGMOID, hardSigmoid6: GRU_RESET_BEFORE_HARD_SIGMOID6 },
  GRU_AFTER: { sigmoid: GRU_RESET_AFTER, hardSigmoid: GRU_RESET_AFTER_HARD_SIGMOID, hardSigmoid6: GRU_RESET_AFTER_HARD_SIGMOID6 },
} satisfies Record<string, Record<Gates, CellDef>>;
const LAYERS: Record<string, KerasLayer> = { simplernn: "SimpleRNN", lstm: "LSTM", gru: "GRU" };

/** The archlab definition a Keras / tfjs layer configuration computes. */
export function kerasCell(config: KerasConfig, defaults: { recurrentActivation: KerasRecurrentActivation; resetAfter: boolean }): CellDef {
  const lower = typeof config.layer === "string" ? config.layer.toLowerCase() : "";
  if (!Object.hasOwn(LAYERS, lower)) throw errors.badOption("layer", config.layer, `"SimpleRNN" | "LSTM" | "GRU" (any case)`);
  const layer = LAYERS[lower];
  const activation = config.activation ?? "tanh";
  if (activation !== "tanh" && !(activation === "relu" && layer === "SimpleRNN"))
    throw errors.unsupported(`activation "${activation}" in a Keras ${layer}`, `archlab has ${layer === "SimpleRNN" ? "tanh and relu" : "tanh"} ${layer} cells; define your own cell with defineCell for others.`);
  if (layer === "SimpleRNN") return activation === "relu" ? RNN_RELU : RNN_TANH;
  const name = config.recurrentActivation ?? defaults.recurrentActivation;
  const gates = choose("recurrentActivation", name, GATES);
  const resetAfter = config.resetAfter ?? defaults.resetAfter;
  if (typeof resetAfter !== "boolean") throw errors.badOption("resetAfter", resetAfter, "true or false");
  return CELLS[layer === "LSTM" ? "LSTM" : resetAfter ? "GRU_AFTER" : "GRU_BEFORE"][gates];
}

/**
 * A model's weights as Keras' `get_weights()` lists them: per layer and direction (forward, then
 * backward), `[kernel, recurrent_kernel, bias]`. A summed bias goes whole into `bias`.
 *
 * @example
 * tfLayer.setWeights(toKeras(model).map((w) => tf.tensor(w)));  // tfjs-layers
 */
export function toKeras(model: SequenceModel, { useBias = true }: { useBias?: boolean } = {}): (number[] | number[][])[] {
  const layout = layoutFor("Keras", model.def);
  return model.cells.flatMap(({ cell }) => {
    const b = toBlocks(layout, cell.weights(), cell.size("H"));
    const tensors: (number[] | number[][])[] = [transpose(b.input), transpose(b.recurrent)];
    if (useBias) tensors.push(b.recurrentBias ? [b.inputBias, b.recurrentBias] : b.inputBias);
    return tensors;
  });
}

/** Loads Keras weights (as {@link toKeras} lists them) into a model; all checked before anything changes. */
export function loadKerasWeights(model: SequenceModel, weights: KerasWeights, { useBias = true }: { useBias?: boolean } = {}): SequenceModel {
  const layout = layoutFor("Keras", model.def);
  const where = `Keras weights of ${model.describe()}`;
  const per = useBias ? 3 : 2;
  const count = model.cells.length * per;
  if (!Array.isArray(weights) || weights.length !== count)
    throw errors.shape(`${where} (the list of tensors)`, [count], [Array.isArray(weights) ? weights.length : "not a list"], `Expected [kernel, recurrent_kernel${useBias ? ", bias" : ""}] per layer${model.bidirectional ? " and direction (forward first)" : ""}.`);
  const out: Record<string, Weights> = {};
  model.cells.forEach(({ key, cell }, k) => {
    const G = layout.input.length, H = cell.size("H");
    const name = (what: string) => `${what} (tensor ${k * per + ["kernel", "recurrent_kernel", "bias"].indexOf(what)}, cell ${key})`;
    const kernel = readTensor(weights[k * per], [cell.size("In"), G * H], name("kernel"), where);
    const recurrent = readTensor(weights[k * per + 1], [H, G * H], name("recurrent_kernel"), where);
    const split = layout.recurrentBias !== undefined;
    const bias = useBias ? readTensor(weights[k * per + 2], split ? [2, G * H] : [G * H], name("bias"), where) : null;
    const zeros = new Array(G * H).fill(0);
    const blocks: Blocks = {
      input: transpose(kernel),
      recurrent: transpose(recurrent),
      inputBias: bias ? (split ? bias[0] : bias) : zeros,
      ...(split ? { recurrentBias: bias ? bias[1] : zeros } : {}),
    };
    out[key] = fromBlocks(layout, blocks, H);
  });
  return model.setWeights(out);
}

function build(config: KerasConfig, weights: KerasWeights, defaults: { recurrentActivation: KerasRecurrentActivation; resetAfter: boolean }, where: string): SequenceModel {
  requireObject("config", config, "{ layer, inputSize, units, … }");
  const unknown = Object.keys(config).find((k) => !OPTION_NAMES.includes(k));
  if (unknown) throw errors.unknownName("option", unknown, OPTION_NAMES, where);
  const { inputSize, units, numLayers = 1, bidirectional = false, useBias = true, dtype } = config;
  if (typeof useBias !== "boolean") throw errors.badOption("useBias", useBias, "true or false");
  const model = new SequenceModel(kerasCell(config, defaults), { inputSize, hiddenSize: units, numLayers, bidirectional, dtype });
  return loadKerasWeights(model, weights, { useBias });
}

/**
 * A Keras 3 `SimpleRNN` / `LSTM` / `GRU` (stacked, optionally `Bidirectional`) with its weights.
 * Defaults are Keras 3's: `recurrentActivation "sigmoid"`, `resetAfter true`. Keras is batch-first:
 * run with `model.forward(x, { batchFirst: true })`.
 *
 * @example
 * const gru = fromKeras({ layer: "GRU", inputSize: 4, units: 3 }, layer.get_weights());
 * gru.forward(x, { batchFirst: true }).output; // [B][T][3] (Keras' return_sequences=True)
 */
export function fromKeras(config: KerasConfig, weights: KerasWeights): SequenceModel {
  return build(config, weights, { recurrentActivation: "sigmoid", resetAfter: true }, "fromKeras");
}

/**
 * A tfjs-layers `tf.layers.simpleRNN` / `lstm` / `gru` with its `getWeights()`. Defaults are tfjs':
 * `recurrentActivation "hardSigmoid"` (clip(0.2x + 0.5)); GRU is reset-before (tfjs has no other).
 *
 * @example
 * const lstm = fromTfjs({ layer: "lstm", inputSize: 3, units: 2 }, layer.getWeights()); // LSTM_HARD_SIGMOID
 */
export function fromTfjs(config: KerasConfig, weights: KerasWeights): SequenceModel {
  if (config?.resetAfter === true) throw errors.unsupported("resetAfter: true in tfjs-layers", "tfjs-layers' GRU is reset-before only; use fromKeras for a Keras 3 reset-after GRU.");
  return build(config, weights, { recurrentActivation: "hardSigmoid", resetAfter: false }, "fromTfjs");
}
