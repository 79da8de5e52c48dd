/**
 * The definition language for any architecture: tensors with named symbolic axes, one op table,
 * layers and blocks, recurrence as a scan, models that compute, record every node by path, and
 * summarise themselves.
 *
 * @example
 * import { nn } from "archlab";
 * const { model, input, param, named, matmul, tanh, inits } = nn;
 * const elm = model("ELM", { In: 8, H: 64, Out: 1 }, () => {
 *   const x = input("x", ["B", "In"]);
 *   const h = named("h", tanh(matmul(x, param("W", ["In", "H"], { kind: "frozen", init: inits.uniform(1) }))));
 *   return { y: matmul(h, param("Wout", ["H", "Out"])) };
 * });
 */
export { model, Model } from "./model";
export { cellModel, cellScan, cellParams } from "./cells";
export { dbLstmModel } from "./dblstm";
export type { ModelOptions, Summary, SummaryRow } from "./model";
export { input, param, named, block, layer, scan } from "./build";
export type { Graph, Init, ParamOptions, ScanOptions, ScanInfo } from "./build";
export { inits, spectralRadius } from "./inits";
export { losses } from "./losses";
export type { BinaryCrossEntropyOptions } from "./losses";
export { ModelTrace } from "./run";
export type { ModelGradients, Seeds } from "./backward";
export type { ModelRun, RunOptions, ValueLike } from "./run";
export { Tensor } from "./graph";
export type { DType, ParamKind, Scope } from "./graph";
export { OPS } from "./ops";
export type { OpKind, OpSpec, ConvOptions, ConvTransposeOptions, PoolOptions, KernelContext } from "./ops";
export {
  constant, fill, roll, neg, clip, exp, log, sqrt, abs, tanh, sigmoid, relu, softplus, pow, add, sub, mul, div, where, matmul, dot, outer, cosine,
  sum, mean, max, norm, softmax, logSoftmax, maskedSoftmax, concat, slice, split, reshape, transpose, embedding, oneHot,
  conv2d, conv2dTranspose, maxPool, avgPool, upsample, batchNorm, layerNorm, dropout, zeros, randomNormal, randomUniform, bernoulli, stopGradient, gradReverse,
} from "./ops";
export { size, sameSize, plus, times, floorDiv, Size } from "./size";
export type { SizeLike, ShapeLike, Shape } from "./size";
export type { ND } from "./nd";
