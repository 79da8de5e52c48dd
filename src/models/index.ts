/**
 * Phase 3 — sequence models. Cells in time and depth: stacked layers, bidirectional layers
 * (`sequence`), and the DB-LSTM of Zhou & Xu (`dbLstm`); every layer and direction keeps its
 * full cell trace, re-aligned to input positions on request.
 */
export { sequence, SequenceModel, cellKey } from "./sequence";
export type { SequenceOptions, ForwardOptions, SequenceResult, DifferentiableResult, SequenceUpstream, SequenceGradients } from "./sequence";
export { dbLstm, DbLstm, dbDirection } from "./dblstm";
export type { DbLstmOptions } from "./dblstm";
export { SequenceTrace, positionOf } from "./trace";
export type { Direction, LayerTraces, SequenceAt } from "./trace";
export type { Layer } from "./layer";
