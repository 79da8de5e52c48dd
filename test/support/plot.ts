/** Shared inputs of the plot and view tests: small deterministic sequences and traces. */
import { cell, GRU_RESET_AFTER, LSTM, MGU } from "../../src";

/** A smooth 2-feature input of T steps. */
export const wave = (T: number): number[][] => Array.from({ length: T }, (_, t) => [Math.sin(t / 4), Math.cos(t / 6)]);

/** LSTM, GRU and MGU of hidden size H on the same input. */
export function traces(T = 12, H = 3) {
  const xs = wave(T);
  return {
    xs,
    lstm: cell(LSTM, { inputSize: 2, hiddenSize: H, seed: 1 }).run(xs),
    gru: cell(GRU_RESET_AFTER, { inputSize: 2, hiddenSize: H, seed: 2 }).run(xs),
    mgu: cell(MGU, { inputSize: 2, hiddenSize: H, seed: 3 }).run(xs),
  };
}

/** Rounds every number in a JSON value to 4 significant digits (snapshots stay stable across platforms). */
export function rounded(value: unknown): unknown {
  if (typeof value === "number") return Number.isInteger(value) ? value : Number(value.toPrecision(4));
  if (Array.isArray(value)) return value.map(rounded);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rounded(v)]));
  return value;
}
