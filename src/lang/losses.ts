/**
 * Losses written in the language's own ops, so a loss is part of a model's definition: it is drawn
 * (a folded block of its kind), recorded in the trace, and differentiated by `model.backward` like
 * any other node. Each returns a scalar (rank 0) with PyTorch's default reduction, named `loss` in
 * its block (`crossEntropy/loss`).
 *
 *     loss                 prediction                  target                           reduction (PyTorch's default)
 *     mse                  values                      values, same shape               mean over all elements
 *     crossEntropy         logits, classes on `axis`   int class ids (no class axis)    mean over the other elements
 *     binaryCrossEntropy   logits (default), or        0…1, same shape                  mean over all elements
 *                          probabilities ({ from })
 *     nll                  log-probabilities on `axis` int class ids (no class axis)    mean over the other elements
 *     kl                   log-probabilities log q     probabilities p, same shape      Σ p (log p − log q) / (length of axis 0): "batchmean"
 *
 * @example
 * const lm = model("LM", { V: 50, H: 32 }, () => {
 *   const ids = input("ids", ["B", "T"], { dtype: "int" });
 *   const next = input("next", ["B", "T"], { dtype: "int" });
 *   const logits = …; // [B, T, V]
 *   return { loss: losses.crossEntropy(logits, next, "V"), logits };
 * });
 */
import { ArchlabError } from "../errors";
import { freshBlock, named, sizeValue } from "./build";
import { shapeError, Tensor } from "./graph";
import { add, axesOf, clip, log, logSoftmax, mean, mul, neg, oneHot, pow, reshape, softplus, sub, sum, transpose, where } from "./ops";
import { sameShape, showShape, type SizeLike } from "./size";

function checkTensors(loss: string, prediction: Tensor, target: Tensor) {
  if (!(prediction instanceof Tensor) || !(target instanceof Tensor)) throw new ArchlabError("bad-operand", `losses.${loss}: give the prediction and the target as tensors of the model.`);
}

function checkSameShape(loss: string, prediction: Tensor, target: Tensor) {
  checkTensors(loss, prediction, target);
  if (!sameShape(prediction.shape, target.shape)) throw shapeError(`losses.${loss}`, "the target", target, `the prediction ${prediction.path}'s shape ${showShape(prediction.shape)}`);
}

/**
 * The one-hot rows of int `classes` laid along `axis` of `scores` (the class axis): `classes` has
 * `scores`' shape without that axis.
 */
function classesAlong(loss: string, scores: Tensor, classes: Tensor, axisGiven: SizeLike): { onehot: Tensor; axis: number } {
  checkTensors(loss, scores, classes);
  const [axis] = axesOf(`losses.${loss}`, scores, axisGiven);
  if (classes.dtype !== "int") throw shapeError(`losses.${loss}`, "the target", classes, "whole-number class ids (an input declared with { dtype: \"int\" })");
  const rest = scores.shape.filter((_, i) => i !== axis);
  if (!sameShape(rest, classes.shape)) throw shapeError(`losses.${loss}`, "the target", classes, `${showShape(rest)}: the prediction ${scores.path}'s shape without its class axis ${scores.shape[axis].key}`);
  const depth = sizeValue(scores.shape[axis], `losses.${loss}: the number of classes (axis ${scores.shape[axis].key} of ${scores.path})`);
  // The one-hot axis under the class axis's own symbolic size (C, not the number 5), so it lines up with the scores.
  let onehot = reshape(oneHot(classes, depth), [...classes.shape, scores.shape[axis]]);
  const r = scores.rank;
  // oneHot puts the classes last; move them to the class axis.
  if (axis !== r - 1) onehot = transpose(onehot, [...Array(r).keys()].map((i) => (i < axis ? i : i === axis ? r - 1 : i - 1)));
  return { onehot, axis };
}

/** Mean squared error: mean((prediction − target)²) over all elements (PyTorch's mse_loss). */
export function mse(prediction: Tensor, target: Tensor): Tensor {
  checkSameShape("mse", prediction, target);
  return freshBlock("mse", "MSELoss", () => named("loss", mean(pow(sub(prediction, target), 2))));
}

/**
 * Cross-entropy from logits with int class ids: −log softmax(logits)[class] along the class `axis`
 * (a name like "V" or a number; default the last), averaged over the other elements (PyTorch's
 * cross_entropy with the classes on that dimension). The number of classes must be one of the
 * model's sizes (or a number).
 */
export function crossEntropy(logits: Tensor, classes: Tensor, axis: SizeLike = -1): Tensor {
  return freshBlock("crossEntropy", "CrossEntropyLoss", () => {
    const { onehot, axis: a } = classesAlong("crossEntropy", logits, classes, axis);
    return named("loss", neg(mean(sum(mul(onehot, logSoftmax(logits, a)), a))));
  });
}

/** Options of {@link binaryCrossEntropy}. */
export interface BinaryCrossEntropyOptions {
  /**
   * What the prediction is: "logits" (the default; PyTorch's binary_cross_entropy_with_logits,
   * softplus(x) − y·x, stable for any x) or "probabilities" in (0, 1) (PyTorch's
   * binary_cross_entropy, each log clamped at −100 as PyTorch does).
   */
  from?: "logits" | "probabilities";
}

/** Binary cross-entropy with targets in [0, 1], averaged over all elements. */
export function binaryCrossEntropy(prediction: Tensor, target: Tensor, options: BinaryCrossEntropyOptions = {}): Tensor {
  checkSameShape("binaryCrossEntropy", prediction, target);
  const from = options.from ?? "logits";
  if (from !== "logits" && from !== "probabilities")
    throw new ArchlabError("bad-option", `losses.binaryCrossEntropy: from must be "logits" or "probabilities", not ${JSON.stringify(from)}.`);
  return freshBlock("binaryCrossEntropy", from === "logits" ? "BCEWithLogitsLoss" : "BCELoss", () => {
    if (from === "logits") return named("loss", mean(sub(softplus(prediction), mul(target, prediction))));
    const clamped = (t: Tensor) => clip(log(t), -100, Infinity);
    return named("loss", neg(mean(add(mul(target, clamped(prediction)), mul(sub(1, target), clamped(sub(1, prediction)))))));
  });
}

/** Negative log-likelihood of int class ids from log-probabilities along the class `axis`, averaged over the other elements (PyTorch's nll_loss). */
export function nll(logProbabilities: Tensor, classes: Tensor, axis: SizeLike = -1): Tensor {
  return freshBlock("nll", "NLLLoss", () => {
    const { onehot, axis: a } = classesAlong("nll", logProbabilities, classes, axis);
    return named("loss", neg(mean(sum(mul(onehot, logProbabilities), a))));
  });
}

/**
 * Kullback–Leibler divergence KL(p ‖ q) from log-probabilities log q and probabilities p:
 * Σ p (log p − log q) divided by the length of the first axis (PyTorch's kl_div(log q, p,
 * reduction="batchmean")); 0 · log 0 counts 0.
 */
export function kl(logQ: Tensor, p: Tensor): Tensor {
  checkSameShape("kl", logQ, p);
  return freshBlock("kl", "KLDivLoss", () => {
    // log p where p > 0, log 1 = 0 where p = 0 (no −∞ in the trace).
    const logP = log(add(p, where(p, 0, 1)));
    const terms = mul(p, sub(logP, logQ));
    const perRow = logQ.rank > 1 ? sum(terms, [...Array(logQ.rank).keys()].slice(1)) : terms;
    return named("loss", mean(perRow, 0));
  });
}

/** The losses of the language: `nn.losses.crossEntropy(logits, classes, "V")`. */
export const losses = { mse, crossEntropy, binaryCrossEntropy, nll, kl } as const;
