/**
 * Framework-specific gate activations. tfjs-layers defaults `recurrentActivation` to a hard sigmoid
 * clip(0.2x + 0.5, 0, 1) (Keras 2's too); Keras 3 and PyTorch's `hardsigmoid` is clip(x/6 + 0.5, 0, 1).
 * These change the math, so each is its own definition — derived from the plain definition data by
 * {@link withGateActivation}, which swaps the op of every sigmoid gate and nothing else.
 */
import { displayable, type CellDef, type NodeDef } from "../define";
import type { UnaryKind } from "../ops";
import { GRU_RESET_AFTER, GRU_RESET_BEFORE } from "./gru";
import { LSTM } from "./lstm";

/** A gate activation a framework may use instead of the logistic sigmoid. */
export type GateActivation = Extract<UnaryKind, "hardSigmoid" | "hardSigmoid6">;

const SUFFIX: Record<GateActivation, string> = { hardSigmoid: "HARD_SIGMOID", hardSigmoid6: "HARD_SIGMOID6" };
const FORMULA: Record<GateActivation, string> = {
  hardSigmoid: "clip(0.2x + 0.5, 0, 1) — tfjs-layers' default recurrentActivation 'hardSigmoid' (and Keras 2's 'hard_sigmoid')",
  hardSigmoid6: "clip(x/6 + 0.5, 0, 1) — Keras 3's 'hard_sigmoid' and PyTorch's nn.Hardsigmoid",
};

const bases = new WeakMap<CellDef, CellDef>();

function freeze<T>(value: T): T {
  if (value && typeof value === "object") {
    Object.values(value).forEach(freeze);
    Object.freeze(value);
  }
  return value;
}

/**
 * The same cell with every sigmoid gate computed by `activation` instead; parameters, states and
 * every other node are unchanged (so the framework weight layouts of `def` apply as they are).
 *
 * @example
 * const tfjsLstm = withGateActivation(LSTM, "hardSigmoid"); // = LSTM_HARD_SIGMOID
 * cell(tfjsLstm, { inputSize: 3, hiddenSize: 2 }).run(xs).get("f"); // forget gate, clipped linear
 */
export function withGateActivation(def: CellDef, activation: GateActivation): CellDef {
  const swap = (n: NodeDef): NodeDef => (n.op === "sigmoid" && n.role === "gate" ? { ...n, op: activation } : n);
  const derived: CellDef = freeze(displayable({
    ...def,
    name: `${def.name}_${SUFFIX[activation]}`,
    title: `${def.title}, gates by hard sigmoid`,
    notes: [...def.notes, `Gates use the hard sigmoid ${FORMULA[activation]}.`],
    nodes: def.nodes.map(swap),
  }));
  bases.set(derived, bases.get(def) ?? def);
  return derived;
}

/** The definition a derived one was made from by {@link withGateActivation} (itself if none). */
export function baseDefinition(def: CellDef): CellDef {
  return bases.get(def) ?? def;
}

/** LSTM, gates by tfjs' hard sigmoid clip(0.2x + 0.5) (tfjs-layers' default `recurrentActivation`). */
export const LSTM_HARD_SIGMOID = withGateActivation(LSTM, "hardSigmoid");
/** LSTM, gates by Keras 3's / PyTorch's hard sigmoid clip(x/6 + 0.5). */
export const LSTM_HARD_SIGMOID6 = withGateActivation(LSTM, "hardSigmoid6");
/** Reset-before GRU, gates by tfjs' hard sigmoid (tfjs-layers' GRU with its defaults). */
export const GRU_RESET_BEFORE_HARD_SIGMOID = withGateActivation(GRU_RESET_BEFORE, "hardSigmoid");
/** Reset-before GRU, gates by Keras 3's hard sigmoid (Keras 3 `reset_after=False, recurrent_activation="hard_sigmoid"`). */
export const GRU_RESET_BEFORE_HARD_SIGMOID6 = withGateActivation(GRU_RESET_BEFORE, "hardSigmoid6");
/** Reset-after GRU, gates by Keras 2's hard sigmoid clip(0.2x + 0.5) (Keras 2 `reset_after=True`). */
export const GRU_RESET_AFTER_HARD_SIGMOID = withGateActivation(GRU_RESET_AFTER, "hardSigmoid");
/** Reset-after GRU, gates by Keras 3's hard sigmoid (Keras 3 `recurrent_activation="hard_sigmoid"`). */
export const GRU_RESET_AFTER_HARD_SIGMOID6 = withGateActivation(GRU_RESET_AFTER, "hardSigmoid6");

/** Every framework-specific definition above (registered in BUILTIN_CELLS). */
export const FRAMEWORK_CELLS: readonly CellDef[] = [
  LSTM_HARD_SIGMOID, LSTM_HARD_SIGMOID6, GRU_RESET_BEFORE_HARD_SIGMOID, GRU_RESET_BEFORE_HARD_SIGMOID6, GRU_RESET_AFTER_HARD_SIGMOID, GRU_RESET_AFTER_HARD_SIGMOID6,
];
