/**
 * Phase 4 — weights in and out, in each framework's own layout: PyTorch state dicts (and the
 * drop-in `fromTorch` contract), Keras / tfjs-layers layer weights, ONNX RNN/LSTM/GRU nodes.
 * Layouts are data (`layouts.ts`); every importer checks names, shapes and numbers of the whole
 * set before it changes any weight.
 */
export { fromTorch, toTorch, torchStateDict, loadTorchStateDict, TorchModel } from "./torch";
export type { TorchMode, TorchOptions, TorchOutput, TorchGradients, StateDict } from "./torch";
export { fromKeras, fromTfjs, toKeras, loadKerasWeights, kerasCell } from "./keras";
export type { KerasConfig, KerasLayer, KerasRecurrentActivation, KerasWeights } from "./keras";
export { fromOnnx, toOnnx, loadOnnxWeights, onnxCell, OnnxModel } from "./onnx";
export type { OnnxNode, OnnxOp, OnnxDirection, OnnxWeights, OnnxInputs, OnnxOutputs } from "./onnx";
export { TORCH, KERAS, ONNX, layoutFor } from "./layouts";
export type { Layout, Framework } from "./layouts";
export { tensorLike } from "./tensor";
export type { TensorLike } from "./tensor";
