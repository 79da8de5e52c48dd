/**
 * Framework weight layouts as data: for each built-in cell and framework, which of archlab's
 * parameters fill each gate block, in that framework's gate order.
 *
 *   PyTorch  weight_ih [G·H, In], weight_hh [G·H, H], bias_ih, bias_hh [G·H]      (rows = gates)
 *   Keras    kernel [In, G·H], recurrent_kernel [H, G·H], bias [G·H] or [2, G·H]  (columns = gates)
 *   ONNX     W [D, G·H, In], R [D, G·H, H], B [D, 2·G·H] = [Wb ‖ Rb], P [D, 3H]
 *
 * A parameter named in both the input-side and the recurrent-side bias blocks is their sum (exact
 * for RNN, LSTM and reset-before GRU); reset-after GRU keeps `b_hn` apart because r multiplies it.
 */

import { baseDefinition } from "../cells/builtins/framework";
import type { CellDef } from "../cells/define";
import { errors } from "../errors";

/** One cell's layout in one framework: archlab parameter names in the framework's block order. */
export interface Layout {
  /** Input weights, one per gate block. */
  input: readonly string[];
  /** Recurrent weights, one per gate block. */
  recurrent: readonly string[];
  /** Input-side biases, one per gate block. */
  inputBias: readonly string[];
  /** Recurrent-side biases (PyTorch bias_hh, ONNX Rb, Keras reset-after bias[1]); absent when the framework has one bias. */
  recurrentBias?: readonly string[];
  /** Peephole vectors (ONNX P: i, o, f). */
  peephole?: readonly string[];
}

const gates = (prefix: string, order: string) => order.split(" ").map((g) => `${prefix}_${g}`);

const LSTM_TORCH: Layout = { input: gates("W", "i f g o"), recurrent: gates("U", "i f g o"), inputBias: gates("b", "i f g o"), recurrentBias: gates("b", "i f g o") };
const ELMAN: Layout = { input: ["W"], recurrent: ["U"], inputBias: ["b"], recurrentBias: ["b"] };

/** PyTorch nn.RNN / nn.LSTM / nn.GRU. */
export const TORCH: Readonly<Record<string, Layout>> = {
  RNN_TANH: ELMAN,
  RNN_RELU: ELMAN,
  LSTM: LSTM_TORCH,
  LSTM_PROJ: LSTM_TORCH,
  GRU_RESET_AFTER: { input: ["W_r", "W_z", "W_n"], recurrent: ["U_r", "U_z", "U_n"], inputBias: ["b_r", "b_z", "b_in"], recurrentBias: ["b_r", "b_z", "b_hn"] },
};

/** Keras / tfjs-layers SimpleRNN, LSTM, GRU (reset_after false = tfjs; true = Keras 3 default). */
export const KERAS: Readonly<Record<string, Layout>> = {
  RNN_TANH: { input: ["W"], recurrent: ["U"], inputBias: ["b"] },
  RNN_RELU: { input: ["W"], recurrent: ["U"], inputBias: ["b"] },
  LSTM: { input: gates("W", "i f g o"), recurrent: gates("U", "i f g o"), inputBias: gates("b", "i f g o") },
  GRU_RESET_BEFORE: { input: gates("W", "z r h"), recurrent: gates("U", "z r h"), inputBias: gates("b", "z r h") },
  GRU_RESET_AFTER: { input: ["W_z", "W_r", "W_n"], recurrent: ["U_z", "U_r", "U_n"], inputBias: ["b_z", "b_r", "b_in"], recurrentBias: ["b_z", "b_r", "b_hn"] },
};

/** ONNX RNN / LSTM / GRU operators (GRU_RESET_AFTER is `linear_before_reset=1`). */
export const ONNX: Readonly<Record<string, Layout>> = {
  RNN_TANH: ELMAN,
  RNN_RELU: ELMAN,
  LSTM: { input: gates("W", "i o f g"), recurrent: gates("U", "i o f g"), inputBias: gates("b", "i o f g"), recurrentBias: gates("b", "i o f g") },
  PEEPHOLE_LSTM: {
    input: gates("W", "i o f g"),
    recurrent: gates("U", "i o f g"),
    inputBias: gates("b", "i o f g"),
    recurrentBias: gates("b", "i o f g"),
    peephole: gates("p", "i o f"),
  },
  GRU_RESET_BEFORE: { input: gates("W", "z r h"), recurrent: gates("U", "z r h"), inputBias: gates("b", "z r h"), recurrentBias: gates("b", "z r h") },
  GRU_RESET_AFTER: { input: ["W_z", "W_r", "W_n"], recurrent: ["U_z", "U_r", "U_n"], inputBias: ["b_z", "b_r", "b_in"], recurrentBias: ["b_z", "b_r", "b_hn"] },
};

/** The frameworks archlab reads and writes. */
export type Framework = "PyTorch" | "Keras" | "ONNX";

const TABLES: Record<Framework, Readonly<Record<string, Layout>>> = { PyTorch: TORCH, Keras: KERAS, ONNX };

/**
 * The layout of a definition in a framework: its own, or that of the definition it was derived
 * from by a gate-activation swap (e.g. LSTM_HARD_SIGMOID has LSTM's layout). A named error if the
 * framework has no such cell.
 *
 * @example
 * layoutFor("ONNX", LSTM).input; // ["W_i", "W_o", "W_f", "W_g"]
 */
export function layoutFor(framework: Framework, def: CellDef): Layout {
  const table = TABLES[framework];
  const own = (name: string) => (Object.hasOwn(table, name) ? table[name] : undefined);
  const layout = own(def.name) ?? own(baseDefinition(def).name);
  if (!layout)
    throw errors.unsupported(
      `${framework} weights for cell "${def.name}"`,
      `${framework} has no such cell. ${framework} cells: ${Object.keys(table).join(", ")}. Use cell.weights() / setWeights() (archlab's own layout) instead.`,
    );
  return layout;
}
