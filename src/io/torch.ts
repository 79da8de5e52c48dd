/**
 * PyTorch: `nn.RNN` / `nn.LSTM` / `nn.GRU` state dicts in and out, and the drop-in contract
 * {@link fromTorch}: same options, same state dict, `forward(x, h0?, c0?)` with PyTorch's shapes.
 *
 *     weight_ih_l{k}[_reverse]  [G·H, In]  (In = D·H_out for k > 0)     bias_ih_l{k}[_reverse]  [G·H]
 *     weight_hh_l{k}[_reverse]  [G·H, H_out]                             bias_hh_l{k}[_reverse]  [G·H]
 *     weight_hr_l{k}[_reverse]  [P, H]     (proj_size = P > 0; H_out = P)
 *
 * Gate order i, f, g, o (LSTM), r, z, n (GRU). The two biases are summed on import for RNN/LSTM
 * (exact); GRU's b_hn stays apart (reset-after: r multiplies it).
 */
import { LSTM, LSTM_PROJ } from "../cells/builtins/lstm";
import { GRU_RESET_AFTER } from "../cells/builtins/gru";
import { RNN_RELU, RNN_TANH } from "../cells/builtins/rnn";
import type { CellDef } from "../cells/define";
import { choose, errors, requireObject } from "../errors";
import { leadingShape, type NestedInput } from "../engine/arrays";
import type { Weights } from "../engine/params";
import type { Trace } from "../engine/trace";
import { SequenceModel } from "../models/sequence";
import type { SequenceTrace } from "../models/trace";
import { fromBlocks, toBlocks, type Blocks } from "./blocks";
import { layoutFor } from "./layouts";
import { readTensor, tensorLike, type TensorLike } from "./tensor";

/** PyTorch's recurrent modes (`nn.RNNBase(mode, …)`). */
export type TorchMode = "RNN_TANH" | "RNN_RELU" | "LSTM" | "GRU";

/** The options of `nn.RNN` / `nn.LSTM` / `nn.GRU`, camel-cased. */
export interface TorchOptions {
  mode: TorchMode;
  inputSize: number;
  hiddenSize: number;
  numLayers?: number;
  bidirectional?: boolean;
  batchFirst?: boolean;
  /** LSTM only: project h to this size (PyTorch `proj_size`, 0 = none). */
  projSize?: number;
  /** False when the module was built with `bias=False` (no bias tensors). */
  bias?: boolean;
  dtype?: "float64" | "float32";
}

/** A PyTorch state dict: tensor name → nested numbers (or anything with `arraySync()`). */
export type StateDict = Record<string, unknown>;

const MODES: Record<TorchMode, CellDef> = { RNN_TANH, RNN_RELU, LSTM, GRU: GRU_RESET_AFTER };
const OPTION_NAMES = ["mode", "inputSize", "hiddenSize", "numLayers", "bidirectional", "batchFirst", "projSize", "bias", "dtype"];

/** One cell's tensor names, e.g. `weight_ih_l1_reverse`. */
const names = (key: string) => ({ ih: `weight_ih_${key}`, hh: `weight_hh_${key}`, bih: `bias_ih_${key}`, bhh: `bias_hh_${key}`, hr: `weight_hr_${key}` });

/**
 * A model's weights as a PyTorch state dict, names and shapes exactly as PyTorch writes them. A
 * summed bias goes to `bias_ih`, zeros to `bias_hh` (same outputs; PyTorch cannot tell them apart).
 *
 * @example
 * torchStateDict(sequence(LSTM, { inputSize: 3, hiddenSize: 2 })); // { weight_ih_l0: [8][3], weight_hh_l0: [8][2], bias_ih_l0, bias_hh_l0 }
 */
export function torchStateDict(model: SequenceModel, { bias = true }: { bias?: boolean } = {}): Record<string, number[] | number[][]> {
  const layout = layoutFor("PyTorch", model.def);
  const out: Record<string, number[] | number[][]> = {};
  for (const { key, cell } of model.cells) {
    const w = cell.weights();
    const b = toBlocks(layout, w, cell.size("H"));
    const n = names(key);
    out[n.ih] = b.input;
    out[n.hh] = b.recurrent;
    if (bias) {
      out[n.bih] = b.inputBias;
      out[n.bhh] = b.recurrentBias!;
    }
    if ("W_hr" in w) out[n.hr] = w.W_hr as number[][];
  }
  return out;
}

/**
 * Loads a PyTorch state dict into a model: every tensor present, none extra, shapes as PyTorch's,
 * finite — checked for the whole dict before any weight changes.
 */
export function loadTorchStateDict(model: SequenceModel, stateDict: StateDict, { bias = true }: { bias?: boolean } = {}): SequenceModel {
  requireObject("stateDict", stateDict, "an object of tensor name → nested numbers");
  const layout = layoutFor("PyTorch", model.def);
  const where = `PyTorch state dict of ${model.describe()}`;
  const expected: Record<string, number[]> = {};
  for (const { key, cell } of model.cells) {
    const G = layout.input.length, H = cell.size("H"), Hout = cell.shapes[layout.recurrent[0]][1], n = names(key);
    expected[n.ih] = [G * H, cell.size("In")];
    expected[n.hh] = [G * H, Hout];
    if (bias) (expected[n.bih] = [G * H]), (expected[n.bhh] = [G * H]);
    if (cell.shapes.W_hr) expected[n.hr] = [...cell.shapes.W_hr];
  }
  const extra = Object.keys(stateDict).filter((k) => !Object.hasOwn(expected, k));
  if (extra.length) throw errors.extraWeight(extra, where, Object.keys(expected));
  const t = Object.fromEntries(Object.entries(expected).map(([name, shape]) => [name, readTensor(stateDict[name], shape, name, where)]));
  const weights: Record<string, Weights> = {};
  for (const { key, cell } of model.cells) {
    const n = names(key), G = layout.input.length, H = cell.size("H");
    const zeros = new Array(G * H).fill(0);
    const blocks: Blocks = { input: t[n.ih], recurrent: t[n.hh], inputBias: bias ? t[n.bih] : zeros, recurrentBias: bias ? t[n.bhh] : zeros };
    weights[key] = fromBlocks(layout, blocks, H);
    if (cell.shapes.W_hr) weights[key].W_hr = t[n.hr];
  }
  return model.setWeights(weights);
}

/** What {@link TorchModel.forward} resolves to: PyTorch's `(output, h_n)` / `(output, (h_n, c_n))`, plus the trace. */
export interface TorchOutput {
  /** `[T, B, D·H_out]` (`[B, T, D·H_out]` with batchFirst; `[T, D·H_out]` unbatched): the last layer, forward ‖ backward, by position. */
  output: TensorLike<number[][][]>;
  /** `[D·numLayers, B, H_out]` (never batch-first; `[D·numLayers, H_out]` unbatched). */
  hN: TensorLike<number[][][]>;
  /** LSTM only: `[D·numLayers, B, H]`. */
  cN?: TensorLike<number[][][]>;
  /** Every gate of every layer and direction. */
  trace: SequenceTrace;
  /**
   * Backpropagates through this forward pass, as
   * `torch.autograd.grad((output, h_n[, c_n]), (x, h0[, c0], *parameters), (dOutput, dhN[, dcN]))`:
   * `dOutput` shaped like `output`, `dhN` like `hN`, `dcN` like `cN`; any of them undefined counts as zeros.
   */
  backward(dOutput?: NestedInput, upstream?: { dhN?: NestedInput; dcN?: NestedInput }): Promise<TorchGradients>;
}

/** What {@link TorchOutput.backward} resolves to: the gradients PyTorch's autograd would give. */
export interface TorchGradients {
  /** ∂L/∂(every parameter), by PyTorch name and shape (`weight_ih_l0`, `bias_hh_l1_reverse`, …), in `named_parameters()` order. */
  grads: Record<string, number[] | number[][]>;
  /** ∂L/∂x, shaped like x. */
  dx: TensorLike<number[][][]>;
  /** ∂L/∂h0 `[D·numLayers, B, H_out]` (`[D·numLayers, H_out]` unbatched). */
  dh0: TensorLike<number[][][]>;
  /** LSTM only: ∂L/∂c0 `[D·numLayers, B, H]`. */
  dc0?: TensorLike<number[][][]>;
  /** Per layer and direction, ∂L/∂(every node) at every step: cell key (`l0`, `l0_reverse`, …) → gradient trace, in processing order. */
  traces: Record<string, Trace>;
}

/** A PyTorch recurrent module, recomputed by archlab with every intermediate recorded. Create with {@link fromTorch}. */
export class TorchModel {
  constructor(
    readonly options: Readonly<Required<Omit<TorchOptions, "dtype">>>,
    /** The archlab model underneath (cells, weights, traces). */
    readonly model: SequenceModel,
  ) {}

  /**
   * PyTorch's `forward(input, hx)`: x `[T, B, In]` (`[B, T, In]` if batchFirst, or unbatched `[T, In]`),
   * h0 `[D·numLayers, B, H_out]`, c0 (LSTM) `[D·numLayers, B, H]`; zeros when omitted.
   */
  async forward(x: NestedInput, h0?: NestedInput, c0?: NestedInput): Promise<TorchOutput> {
    const { mode, batchFirst } = this.options;
    if (c0 !== undefined && mode !== "LSTM") throw errors.badOption("c0", "(given)", `nothing: mode ${mode} has no cell state (only LSTM takes c0)`);
    // The rank alone: the model's forward checks the whole input (one pass over it, not two).
    const batched = leadingShape(x).length === 3;
    const { output, final, trace } = this.model.forward(x, { initial: { h: h0, ...(mode === "LSTM" ? { c: c0 } : {}) }, batchFirst: batched && batchFirst });
    // Unbatched input: PyTorch drops the batch axis of output and states too.
    const squeeze = (v: number[][][]) => tensorLike(batched ? v : (v.map((r) => r[0]) as unknown as number[][][]));
    const out = { output: squeeze(output), hN: squeeze(final.h), trace } as TorchOutput;
    if (mode === "LSTM") out.cN = squeeze(final.c);
    // Not enumerable: the result shows and serialises as PyTorch's tuple plus the trace.
    Object.defineProperty(out, "backward", { value: async (dOutput?: NestedInput, upstream = {}) => this.#backward(trace, batched, dOutput, upstream) });
    return out;
  }

  /** Reverse mode through one forward pass (see {@link TorchOutput.backward}). */
  #backward(trace: SequenceTrace, batched: boolean, dOutput: NestedInput | undefined, upstream: { dhN?: NestedInput; dcN?: NestedInput }): TorchGradients {
    const { mode, batchFirst, bias } = this.options;
    const model = this.model;
    const where = `backward of the ${model.describe()}`;
    requireObject(`upstream gradients of ${where}`, upstream, "{ dhN?, dcN? }");
    const unknown = Object.keys(upstream).find((k) => k !== "dhN" && k !== "dcN");
    if (unknown) throw errors.unknownName("upstream gradient", unknown, ["dhN", "dcN"], where);
    if (upstream.dcN !== undefined && mode !== "LSTM") throw errors.badOption("dcN", "(given)", `nothing: mode ${mode} has no cell state (only LSTM has c_n)`);
    const g = model.gradients(trace, { batched, batchFirst }, { output: dOutput, final: { h: upstream.dhN, c: upstream.dcN } }, where, TORCH_LABELS);
    const result: TorchGradients = {
      grads: torchGradients(model, g.params, bias),
      dx: tensorLike(g.input),
      dh0: tensorLike(g.initial.h),
      traces: g.traces,
    };
    if (mode === "LSTM") result.dc0 = tensorLike(g.initial.c);
    return result;
  }

  /** The state dict, as `module.state_dict()` would give it (see {@link torchStateDict}). */
  stateDict(): Record<string, number[] | number[][]> {
    return torchStateDict(this.model, { bias: this.options.bias });
  }
}

/** How messages name PyTorch's upstream gradients. */
const TORCH_LABELS = {
  output: "upstream gradient dOutput (∂L/∂output)",
  final: (state: string) => (state === "h" ? "upstream gradient dhN (∂L/∂h_n)" : "upstream gradient dcN (∂L/∂c_n)"),
  hint: (what: "output" | "final") => (what === "output" ? "Give it shaped like the forward output." : "Give it shaped like h_n / c_n."),
};

/**
 * Parameter gradients by PyTorch name, in `named_parameters()` order, from archlab's (cell key →
 * name → gradient). A bias archlab keeps summed (b = bias_ih + bias_hh) has the same gradient on
 * both sides; GRU's b_in and b_hn are their own.
 */
function torchGradients(model: SequenceModel, params: Record<string, Weights>, bias: boolean): Record<string, number[] | number[][]> {
  const layout = layoutFor("PyTorch", model.def);
  const out: Record<string, number[] | number[][]> = {};
  for (const { key } of model.cells) {
    const g = params[key];
    const n = names(key);
    const rows = (list: readonly string[]) => list.flatMap((name) => g[name] as number[][]);
    const vector = (list: readonly string[]) => list.flatMap((name) => g[name] as number[]);
    out[n.ih] = rows(layout.input);
    out[n.hh] = rows(layout.recurrent);
    if (bias) {
      out[n.bih] = vector(layout.inputBias);
      out[n.bhh] = vector(layout.recurrentBias!);
    }
    if ("W_hr" in g) out[n.hr] = g.W_hr as number[][];
  }
  return out;
}

/**
 * Moves a PyTorch `nn.RNN` / `nn.LSTM` / `nn.GRU` over in one line: same options, its state dict.
 *
 * @example
 * // Python: json.dump({k: v.tolist() for k, v in lstm.state_dict().items()}, f)
 * const lstm = fromTorch({ mode: "LSTM", inputSize: 3, hiddenSize: 2, numLayers: 2, bidirectional: true }, stateDict);
 * const { output, hN, cN, trace } = await lstm.forward(x);   // same numbers as PyTorch
 * trace.get("f", { layer: 1, direction: "backward" });       // what PyTorch throws away
 * // torch.autograd.grad((output, h_n, c_n), (x, h0, c0, *params), (dOutput, dhN, dcN)):
 * const r = await lstm.forward(x, h0, c0);
 * const { grads, dx, dh0, dc0 } = await r.backward(dOutput, { dhN, dcN });
 * grads.weight_hh_l1_reverse;                                 // [8][2], PyTorch's name and shape
 */
export function fromTorch(options: TorchOptions, stateDict: StateDict): TorchModel {
  requireObject("options", options, "{ mode, inputSize, hiddenSize, … }");
  const unknown = Object.keys(options).find((k) => !OPTION_NAMES.includes(k));
  if (unknown) throw errors.unknownName("option", unknown, OPTION_NAMES, "fromTorch");
  const { mode, inputSize, hiddenSize, numLayers = 1, bidirectional = false, batchFirst = false, projSize = 0, bias = true, dtype } = options;
  const modeDef = choose("mode", mode, MODES);
  if (typeof batchFirst !== "boolean") throw errors.badOption("batchFirst", batchFirst, "true or false");
  if (typeof bias !== "boolean") throw errors.badOption("bias", bias, "true or false");
  if (!Number.isInteger(projSize) || projSize < 0 || (projSize > 0 && (mode !== "LSTM" || projSize >= hiddenSize)))
    throw errors.badOption("projSize", projSize, "0, or (LSTM only) an integer 0 < projSize < hiddenSize, as PyTorch requires");
  const def = projSize > 0 ? LSTM_PROJ : modeDef;
  const model = new SequenceModel(def, { inputSize, hiddenSize, numLayers, bidirectional, dtype, sizes: projSize > 0 ? { P: projSize } : undefined });
  loadTorchStateDict(model, stateDict, { bias });
  return new TorchModel({ mode, inputSize, hiddenSize, numLayers, bidirectional, batchFirst, projSize, bias }, model);
}

/**
 * The state dict of a model, as PyTorch would write it (a {@link TorchModel}, or any
 * {@link SequenceModel} of a cell PyTorch has: RNN_TANH, RNN_RELU, LSTM, LSTM_PROJ, GRU_RESET_AFTER).
 *
 * @example
 * const sd = toTorch(fromTorch(options, stateDict)); // same tensors (biases: sum in bias_ih, zeros in bias_hh)
 */
export function toTorch(model: TorchModel | SequenceModel): Record<string, number[] | number[][]> {
  return model instanceof TorchModel ? model.stateDict() : torchStateDict(model);
}
