/** Every built-in cell, each its paper's equations (see ../../../README and CELLS.md). */
import type { CellDef } from "../define";
import { GRU1, GRU2, GRU3, GRU_RESET_AFTER, GRU_RESET_BEFORE } from "./gru";
import { LSTM_CIFG, LSTM_FGR, LSTM_NFG, LSTM_NIAF, LSTM_NIG, LSTM_NOAF, LSTM_NOG, LSTM_NP, PEEPHOLE_LSTM } from "./greff";
import { LSTM, LSTM_PROJ } from "./lstm";
import { INDRNN, JANET, MGU, MIN_GRU, MIN_LSTM, UGRNN } from "./minimal";
import { RNN_RELU, RNN_TANH } from "./rnn";
import { FRAMEWORK_CELLS } from "./framework";

export * from "./gru";
export * from "./greff";
export * from "./lstm";
export * from "./minimal";
export * from "./rnn";
export * from "./framework";

/**
 * `GRU`, the name PyTorch users type: PyTorch's `nn.GRU` is the reset-after form (the reset gate
 * scales `U_n h[t−1] + b_hn`, after the recurrent matrix; frameworks' mixing
 * h = z ⊙ h[t−1] + (1 − z) ⊙ n). It is {@link GRU_RESET_AFTER} itself, named `GRU_RESET_AFTER` in
 * diagrams and traces; Cho et al.'s reset-before form is {@link GRU_RESET_BEFORE}.
 *
 * @example
 * const gru = cell(GRU, { inputSize: 3, hiddenSize: 8 });   // same numbers as torch.nn.GRU
 */
export const GRU: CellDef = GRU_RESET_AFTER;

/** All built-in definitions by name (each under its own `name`; `GRU` is `GRU_RESET_AFTER`). */
export const BUILTIN_CELLS: Readonly<Record<string, CellDef>> = Object.freeze(
  Object.fromEntries(
    [
      RNN_TANH, RNN_RELU, LSTM, LSTM_PROJ, PEEPHOLE_LSTM, LSTM_NIG, LSTM_NFG, LSTM_NOG, LSTM_NIAF, LSTM_NOAF, LSTM_NP, LSTM_CIFG, LSTM_FGR,
      GRU_RESET_BEFORE, GRU_RESET_AFTER, GRU1, GRU2, GRU3, MGU, JANET, INDRNN, UGRNN, MIN_GRU, MIN_LSTM,
      ...FRAMEWORK_CELLS,
    ].map((d) => [d.name, d]),
  ),
);
