/**
 * Phase 6 — training: losses with their gradients, optimisers and schedules (PyTorch's rules),
 * seeded toy tasks, and a loop that trains a cell with a linear readout by backpropagation through
 * the recorded trace, or any model of the language whose definition outputs a scalar loss, with
 * live progress.
 *
 *     task.batch(B) ─ cell.run ─ head ─ loss ─ ∂L/∂y ─ backward(trace) ─ clip ─ optimizer.step
 */
export { LOSSES } from "./losses";
export type { Loss, LossKind, LossResult } from "./losses";
export { sgd, adam, adamW, rmsprop, clipGradNorm, schedules } from "./optimizers";
export type { Optimizer, Schedule, LearningRate, Tensors, SgdOptions, AdamOptions, RmspropOptions } from "./optimizers";
export { tasks } from "./tasks";
export type { Task, Batch, TaskOptions } from "./tasks";
export { ALICE } from "./corpus";
export { train, readout, Readout, progressLine } from "./train";
export type { TrainOptions, TrainResult, StepInfo, ReadoutOptions, Batches, ModelTrainOptions } from "./train";
