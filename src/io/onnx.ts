/**
 * ONNX `RNN` / `LSTM` / `GRU` operators: their initializers in and out, and the operator's own
 * inputs and outputs ({@link OnnxModel.run}), so an ONNX node runs here with every gate traced.
 *
 *     W [D, G·H, In]   R [D, G·H, H]   B [D, 2·G·H] = [Wb ‖ Rb]   P [D, 3H] (LSTM peepholes: i, o, f)
 *     gate order: LSTM i, o, f, c   GRU z, r, h      direction: forward | reverse | bidirectional
 *     GRU linear_before_reset 0 → GRU_RESET_BEFORE, 1 → GRU_RESET_AFTER
 *     layout 0: X [T, B, In], Y [T, D, B, H], Y_h/Y_c [D, B, H]; layout 1: X [B, T, In], Y [B, T, D, H], Y_h [B, D, H]
 */
import { GRU_RESET_AFTER_HARD_SIGMOID, GRU_RESET_BEFORE_HARD_SIGMOID, LSTM_HARD_SIGMOID } from "../cells/builtins/framework";
import { PEEPHOLE_LSTM } from "../cells/builtins/greff";
import { GRU_RESET_AFTER, GRU_RESET_BEFORE } from "../cells/builtins/gru";
import { LSTM } from "../cells/builtins/lstm";
import { RNN_RELU, RNN_TANH } from "../cells/builtins/rnn";
import type { CellDef } from "../cells/define";
import { choose, errors, requireObject } from "../errors";
import { shapeOf, toFlat, type NestedInput } from "../engine/arrays";
import type { Weights } from "../engine/params";
import { SequenceModel } from "../models/sequence";
import type { SequenceTrace } from "../models/trace";
import { fromBlocks, toBlocks } from "./blocks";
import { layoutFor } from "./layouts";
import { readTensor, tensorLike, type TensorLike } from "./tensor";

/** The ONNX recurrent operators. */
export type OnnxOp = "RNN" | "LSTM" | "GRU";
export type OnnxDirection = "forward" | "reverse" | "bidirectional";

/** An ONNX node's op type and attributes (ONNX's own names). */
export interface OnnxNode {
  op_type: OnnxOp;
  hidden_size: number;
  direction?: OnnxDirection;
  /** GRU: 1 = reset after the recurrent matrix (PyTorch's GRU); default 0. */
  linear_before_reset?: 0 | 1;
  /** 0: time first (default); 1: batch first. */
  layout?: 0 | 1;
  /** Per direction: RNN [f]; LSTM [f, g, h]; GRU [f, g] (defaults Tanh / Sigmoid, Tanh, Tanh / Sigmoid, Tanh). */
  activations?: readonly string[];
  activation_alpha?: readonly number[];
  activation_beta?: readonly number[];
  clip?: number;
  input_forget?: 0 | 1;
}

/** An ONNX node's initializers. B and P are optional, as in ONNX. */
export interface OnnxWeights {
  W: unknown;
  R: unknown;
  B?: unknown;
  P?: unknown;
}

/** The runtime inputs of an ONNX node. */
export interface OnnxInputs {
  X: NestedInput;
  sequence_lens?: NestedInput;
  initial_h?: NestedInput;
  initial_c?: NestedInput;
}

/** The outputs of an ONNX node, plus archlab's trace. */
export interface OnnxOutputs {
  Y: TensorLike<number[][][][]>;
  Y_h: TensorLike<number[][][]>;
  Y_c?: TensorLike<number[][][]>;
  trace: SequenceTrace;
}

/** Which archlab cell each ONNX operator configuration is (and back). */
const CELLS: readonly { def: CellDef; op: OnnxOp; activations: readonly string[]; linear_before_reset?: 0 | 1; peephole?: true }[] = [
  { def: RNN_TANH, op: "RNN", activations: ["Tanh"] },
  { def: RNN_RELU, op: "RNN", activations: ["Relu"] },
  { def: LSTM, op: "LSTM", activations: ["Sigmoid", "Tanh", "Tanh"] },
  { def: LSTM_HARD_SIGMOID, op: "LSTM", activations: ["HardSigmoid", "Tanh", "Tanh"] },
  { def: PEEPHOLE_LSTM, op: "LSTM", activations: ["Sigmoid", "Tanh", "Tanh"], peephole: true },
  { def: GRU_RESET_BEFORE, op: "GRU", activations: ["Sigmoid", "Tanh"], linear_before_reset: 0 },
  { def: GRU_RESET_BEFORE_HARD_SIGMOID, op: "GRU", activations: ["HardSigmoid", "Tanh"], linear_before_reset: 0 },
  { def: GRU_RESET_AFTER, op: "GRU", activations: ["Sigmoid", "Tanh"], linear_before_reset: 1 },
  { def: GRU_RESET_AFTER_HARD_SIGMOID, op: "GRU", activations: ["HardSigmoid", "Tanh"], linear_before_reset: 1 },
];
const GATE_COUNT: Record<OnnxOp, number> = { RNN: 1, LSTM: 4, GRU: 3 };
const DIRECTIONS: Record<OnnxDirection, { bidirectional: boolean; reverse: boolean }> = {
  forward: { bidirectional: false, reverse: false },
  reverse: { bidirectional: false, reverse: true },
  bidirectional: { bidirectional: true, reverse: false },
};
const INITIALIZERS = "the ONNX node's initializers as an object { W, R, B?, P? } of nested numbers or tensors";
const ATTRIBUTES = ["op_type", "hidden_size", "direction", "linear_before_reset", "layout", "activations", "activation_alpha", "activation_beta", "clip", "input_forget"];

/** The archlab cell an ONNX node computes (named errors for what archlab has no cell for). */
export function onnxCell(node: OnnxNode, { peephole }: { peephole: boolean }): CellDef {
  const { op_type: op, direction = "forward", linear_before_reset = 0 } = node;
  choose("op_type", op, GATE_COUNT);
  choose("direction", direction, DIRECTIONS);
  if (node.clip !== undefined) throw errors.unsupported(`ONNX attribute clip on ${op}`, "archlab's cells do not clip pre-activations.");
  if (node.input_forget) throw errors.unsupported(`ONNX attribute input_forget=1 on ${op}`, "use a SequenceModel of LSTM_CIFG (Greff's coupled gates) instead.");
  if (node.activation_alpha !== undefined || node.activation_beta !== undefined)
    throw errors.unsupported(`ONNX attributes activation_alpha/activation_beta on ${op}`, "only the default alpha and beta (HardSigmoid 0.2, 0.5) are supported.");
  const D = direction === "bidirectional" ? 2 : 1;
  const given = node.activations?.map((a) => String(a).toLowerCase());
  const match = CELLS.find((c) => {
    if (c.op !== op || Boolean(c.peephole) !== peephole || (op === "GRU" && c.linear_before_reset !== linear_before_reset)) return false;
    const own = c.activations.map((a) => a.toLowerCase());
    return !given || (given.length === own.length * D && given.every((a, k) => a === own[k % own.length]));
  });
  if (!match)
    throw errors.unsupported(
      `ONNX ${op} with activations ${JSON.stringify(node.activations ?? "default")}${peephole ? " and peepholes P" : ""}${op === "GRU" ? `, linear_before_reset=${linear_before_reset}` : ""}`,
      `archlab has cells for: ${CELLS.filter((c) => c.op === op).map((c) => `${JSON.stringify(c.activations)}${c.peephole ? " with P" : ""}${c.linear_before_reset !== undefined ? ` lbr=${c.linear_before_reset}` : ""}`).join("; ")}.`,
    );
  return match.def;
}

/** An ONNX recurrent node recomputed by archlab. Create with {@link fromOnnx}. */
export class OnnxModel {
  constructor(
    readonly node: Readonly<OnnxNode>,
    /** The archlab model underneath. */
    readonly model: SequenceModel,
  ) {}

  /**
   * Runs the node as ONNX Runtime would: X `[T, B, In]` (layout 1: `[B, T, In]`), optional
   * `initial_h`/`initial_c` `[D, B, H]` (layout 1: `[B, D, H]`) and `sequence_lens` (all equal to T).
   */
  run({ X, sequence_lens, initial_h, initial_c }: OnnxInputs): OnnxOutputs {
    const batchFirst = this.node.layout === 1;
    const where = `ONNX ${this.node.op_type} node`;
    const shape = shapeOf(X, `input X of ${where}`);
    if (shape.length !== 3) throw errors.shape(`input X of ${where}`, batchFirst ? ["B", "T", "In"] : ["T", "B", "In"], shape);
    const [T, B] = batchFirst ? [shape[1], shape[0]] : [shape[0], shape[1]];
    if (sequence_lens !== undefined) {
      const lens = toFlat(sequence_lens, [B], `sequence_lens of ${where}`, "float64");
      const bad = lens.findIndex((n) => n !== T);
      if (bad >= 0) throw errors.unsupported(`sequence_lens[${bad}] = ${lens[bad]} (T = ${T})`, "archlab runs every sequence of a batch to its full length; split the batch by length.");
    }
    const D = this.model.directions, H = this.node.hidden_size;
    const fromLayout = (v: NestedInput | undefined, size: number, name: string) =>
      v === undefined ? undefined : batchFirst ? swapAxes(readTensor(v, [B, D, size], name, where)) : v;
    const { output, final, trace } = this.model.forward(X, {
      initial: { h: fromLayout(initial_h, H, "initial_h"), ...(this.node.op_type === "LSTM" ? { c: fromLayout(initial_c, H, "initial_c") } : {}) },
      batchFirst,
    });
    // output: [T][B][D·H] (or [B][T][D·H]) → Y [T][D][B][H] (or [B][T][D][H]).
    const split = (row: number[]) => Array.from({ length: D }, (_, d) => row.slice(d * H, (d + 1) * H));
    const Y = batchFirst ? output.map((seq) => seq.map(split)) : output.map((step) => Array.from({ length: D }, (_, d) => step.map((row) => split(row)[d])));
    const states = (v: number[][][]) => tensorLike(batchFirst ? swapAxes(v) : v);
    const out: OnnxOutputs = { Y: tensorLike(Y), Y_h: states(final.h), trace };
    if (this.node.op_type === "LSTM") out.Y_c = states(final.c);
    return out;
  }
}

const swapAxes = <T>(v: T[][]): T[][] => (v.length === 0 ? [] : v[0].map((_, j) => v.map((row) => row[j])));

/**
 * An ONNX `RNN` / `LSTM` / `GRU` node from its attributes and initializers.
 *
 * @example
 * const node = fromOnnx({ op_type: "GRU", hidden_size: 5, linear_before_reset: 1 }, { W, R, B });
 * const { Y, Y_h, trace } = node.run({ X });
 */
export function fromOnnx(node: OnnxNode, weights: OnnxWeights, { dtype }: { dtype?: "float64" | "float32" } = {}): OnnxModel {
  requireObject("node", node, "{ op_type, hidden_size, … }");
  const unknown = Object.keys(node).find((k) => !ATTRIBUTES.includes(k));
  if (unknown) throw errors.unknownName("attribute", unknown, ATTRIBUTES, "fromOnnx");
  requireObject("weights", weights, INITIALIZERS);
  const extra = Object.keys(weights).filter((k) => !["W", "R", "B", "P"].includes(k));
  if (extra.length) throw errors.extraWeight(extra, `ONNX ${node.op_type} node`, ["W", "R", "B", "P"]);
  const def = onnxCell(node, { peephole: weights.P !== undefined });
  const direction = node.direction ?? "forward";
  const D = direction === "bidirectional" ? 2 : 1;
  const H = node.hidden_size;
  if (!Number.isInteger(H) || H <= 0) throw errors.badOption("hidden_size", H, "a positive integer");
  if (node.layout !== undefined && node.layout !== 0 && node.layout !== 1) throw errors.badOption("layout", node.layout, "0 or 1");
  const G = GATE_COUNT[node.op_type];
  if (weights.W === undefined) throw errors.missingKey("tensor", "W", `ONNX ${node.op_type} node`, ["W", "R", "B (optional)", "P (optional)"]);
  const wShape = shapeOf(weights.W, `W of ONNX ${node.op_type} node`);
  if (wShape.length !== 3) throw errors.shape(`W of ONNX ${node.op_type} node`, [D, G * H, "In"], wShape);
  const model = new SequenceModel(def, { inputSize: wShape[2], hiddenSize: H, dtype, ...DIRECTIONS[direction] });
  return new OnnxModel({ ...node, direction }, loadOnnxWeights(model, weights));
}

/** Loads ONNX initializers into a (one-layer) model; everything checked before anything changes. */
export function loadOnnxWeights(model: SequenceModel, weights: OnnxWeights): SequenceModel {
  requireObject("weights", weights, INITIALIZERS);
  const layout = layoutFor("ONNX", model.def);
  const where = `ONNX weights of ${model.describe()}`;
  if (model.numLayers !== 1) throw errors.unsupported(`ONNX weights for ${model.numLayers} layers`, "an ONNX RNN/LSTM/GRU node is one layer; load each layer's node into its own model.");
  const D = model.directions, H = model.hiddenSize, G = layout.input.length, In = model.inputSize;
  const W = readTensor(weights.W, [D, G * H, In], "W", where);
  const R = readTensor(weights.R, [D, G * H, H], "R", where);
  const B = weights.B === undefined ? null : readTensor(weights.B, [D, 2 * G * H], "B", where);
  const P = layout.peephole ? readTensor(weights.P, [D, 3 * H], "P", where) : null;
  if (!layout.peephole && weights.P !== undefined) throw errors.extraWeight(["P"], `${where} (cell ${model.def.name} has no peepholes)`, ["W", "R", "B"]);
  const out: Record<string, Weights> = {};
  model.cells.forEach(({ key }, d) => {
    const b = B ? B[d] : new Array(2 * G * H).fill(0);
    out[key] = fromBlocks(layout, { input: W[d], recurrent: R[d], inputBias: b.slice(0, G * H), recurrentBias: b.slice(G * H), ...(P ? { peephole: P[d] } : {}) }, H);
  });
  return model.setWeights(out);
}

/**
 * A one-layer model as an ONNX node: attributes and initializers (a summed bias goes to Wb, zeros to Rb).
 *
 * @example
 * const { node, W, R, B } = toOnnx(sequence(GRU_RESET_AFTER, { inputSize: 3, hiddenSize: 4, bidirectional: true }));
 * node.linear_before_reset; // 1
 */
export function toOnnx(model: SequenceModel | OnnxModel): { node: OnnxNode; W: number[][][]; R: number[][][]; B: number[][]; P?: number[][] } {
  const m = model instanceof OnnxModel ? model.model : model;
  const layout = layoutFor("ONNX", m.def);
  if (m.numLayers !== 1) throw errors.unsupported(`ONNX export of ${m.numLayers} layers`, "an ONNX RNN/LSTM/GRU node is one layer; export each layer's cells separately.");
  const entry = CELLS.find((c) => c.def === m.def);
  if (!entry) throw errors.unsupported(`ONNX export of cell "${m.def.name}"`, `ONNX operators compute only: ${CELLS.map((c) => c.def.name).join(", ")}.`);
  const blocks = m.cells.map(({ cell }) => toBlocks(layout, cell.weights(), m.hiddenSize));
  const D = m.directions;
  const node: OnnxNode = {
    op_type: entry.op,
    hidden_size: m.hiddenSize,
    direction: m.bidirectional ? "bidirectional" : m.reverse ? "reverse" : "forward",
    activations: Array.from({ length: D }, () => entry.activations).flat(),
    ...(entry.linear_before_reset !== undefined ? { linear_before_reset: entry.linear_before_reset } : {}),
  };
  const out: ReturnType<typeof toOnnx> = {
    node,
    W: blocks.map((b) => b.input),
    R: blocks.map((b) => b.recurrent),
    B: blocks.map((b) => [...b.inputBias, ...b.recurrentBias!]),
  };
  if (layout.peephole) out.P = blocks.map((b) => b.peephole!);
  return out;
}
