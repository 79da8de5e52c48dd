/**
 * Pieces the gradient-trick entries (DANN, DNI, RAM) share: a dense layer and the losses they write
 * into their definitions (so the loss is a node of the model, drawn, recorded, and the seed of the
 * backward pass).
 */
import { add, block, logSoftmax, matmul, mean, mul, named, neg, oneHot, param, relu, reshape, sum, type Tensor } from "../lang";
import type { SizeLike } from "../lang";

/** In the current block: h = x W + b, then relu unless `activation` is "none" (parameters W, b). */
export function linear(x: Tensor, inSize: SizeLike, outSize: SizeLike, activation: "relu" | "none" = "relu"): Tensor {
  const z = add(matmul(x, param("W", [inSize, outSize])), param("b", [outSize]));
  return named("h", activation === "relu" ? relu(z) : z);
}

/** Block `name` (kind Linear): {@link linear}. */
export const dense = (name: string, x: Tensor, inSize: SizeLike, outSize: SizeLike, activation: "relu" | "none" = "relu") =>
  block(name, "Linear", () => linear(x, inSize, outSize, activation));

/** The one-hot rows of int targets [B] in the shape of logits [B, K] (whose K may be a named size worth `K`). */
export const targetsLike = (logits: Tensor, targets: Tensor, K: number) => reshape(oneHot(targets, K), [...logits.shape]);

/** Each row's cross-entropy −log softmax(logits)[target], [B], from logits [B, K] and int targets [B]. */
export const crossEntropyRows = (logits: Tensor, targets: Tensor, K: number) => neg(sum(mul(logSoftmax(logits, -1), targetsLike(logits, targets, K)), -1));

/** The mean cross-entropy over the batch, a scalar. */
export const crossEntropy = (logits: Tensor, targets: Tensor, K: number) => mean(crossEntropyRows(logits, targets, K));
