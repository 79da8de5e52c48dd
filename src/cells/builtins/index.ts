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

/** All built-in definitions by name. */
export const BUILTIN_CELLS: Readonly<Record<string, CellDef>> = Object.freeze(
  Object.fromEntries(
    [
      RNN_TANH, RNN_RELU, LSTM, LSTM_PROJ, PEEPHOLE_LSTM, LSTM_NIG, LSTM_NFG, LSTM_NOG, LSTM_NIAF, LSTM_NOAF, LSTM_NP, LSTM_CIFG, LSTM_FGR,
      GRU_RESET_BEFORE, GRU_RESET_AFTER, GRU1, GRU2, GRU3, MGU, JANET, INDRNN, UGRNN, MIN_GRU, MIN_LSTM,
      ...FRAMEWORK_CELLS,
    ].map((d) => [d.name, d]),
  ),
);
