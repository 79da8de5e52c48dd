/**
 * Losses with their gradients, PyTorch's definitions and default mean reductions. A loss reads a
 * batch of prediction rows `[N, C]` and targets, and returns the value and ∂L/∂prediction `[N, C]`
 * — the upstream gradient a backward pass starts from.
 *
 *     loss            prediction            target                     reduction (as PyTorch's default)
 *     mse             values [N, C]         values [N, C]              mean over all N·C
 *     crossEntropy    logits [N, C]         class indices [N]          mean over N
 *     binaryCrossEntropy  logits [N, C]     0…1 [N, C]                 mean over all N·C
 *     nll             log-probabilities     class indices [N]          mean over N
 *     kl              log-probabilities q   probabilities p [N, C]     Σ p(log p − log q) / N ("batchmean")
 */
import { errors } from "../errors";
import { shapeOf } from "../engine/arrays";

/** A loss value and its gradient with respect to the prediction. */
export interface LossResult {
  value: number;
  /** ∂L/∂prediction, the prediction's shape `[N, C]`. */
  grad: number[][];
}

/** A loss: prediction rows `[N, C]`, targets (rows `[N, C]` or class indices `[N]`, see {@link LOSSES}). */
export type Loss = (prediction: readonly (readonly number[])[], target: readonly (number | readonly number[])[]) => LossResult;

/** What each loss's target is: rows like the prediction, or one class index a row. */
export type LossKind = "mse" | "crossEntropy" | "binaryCrossEntropy" | "nll" | "kl";
export const TARGETS: Record<LossKind, "rows" | "classes"> = { mse: "rows", crossEntropy: "classes", binaryCrossEntropy: "rows", nll: "classes", kl: "rows" };

function rowsOf(prediction: unknown, where: string): number[][] {
  const shape = shapeOf(prediction, `prediction of ${where}`);
  if (shape.length !== 2 || shape[0] === 0) throw errors.badOption(`prediction of ${where}`, prediction, "rows [N, C] of numbers, N ≥ 1");
  return prediction as number[][];
}

function checkTargets(kind: LossKind, prediction: number[][], target: unknown): void {
  const where = `loss ${kind}`;
  const [N, C] = [prediction.length, prediction[0].length];
  if (TARGETS[kind] === "classes") {
    const ok = Array.isArray(target) && target.length === N && target.every((k) => Number.isInteger(k) && k >= 0 && k < C);
    if (!ok) throw errors.badOption(`target of ${where}`, target, `${N} class indices, integers 0…${C - 1} (one a prediction row)`);
  } else {
    const shape = Array.isArray(target) ? shapeOf(target, `target of ${where}`) : [];
    if (shape.length !== 2 || shape[0] !== N || shape[1] !== C) throw errors.badOption(`target of ${where}`, target, `rows [${N}, ${C}] like the prediction`);
  }
}

/** log Σ exp(row), stable. */
function logSumExp(row: readonly number[]): number {
  const m = Math.max(...row);
  let s = 0;
  for (const v of row) s += Math.exp(v - m);
  return m + Math.log(s);
}

const log1pExp = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** The rules, over checked arrays. */
const RULES: Record<LossKind, (p: number[][], t: any[]) => LossResult> = {
  mse(p, t: number[][]) {
    const n = p.length * p[0].length;
    let value = 0;
    const grad = p.map((row, i) => row.map((v, j) => ((value += (v - t[i][j]) ** 2), (2 * (v - t[i][j])) / n)));
    return { value: value / n, grad };
  },
  crossEntropy(p, t: number[]) {
    const N = p.length;
    let value = 0;
    const grad = p.map((row, i) => {
      const lse = logSumExp(row);
      value += lse - row[t[i]];
      return row.map((v, j) => (Math.exp(v - lse) - (j === t[i] ? 1 : 0)) / N);
    });
    return { value: value / N, grad };
  },
  binaryCrossEntropy(p, t: number[][]) {
    const n = p.length * p[0].length;
    let value = 0;
    // −[y log σ(x) + (1−y) log(1−σ(x))] = log(1 + eˣ) − y·x
    const grad = p.map((row, i) => row.map((x, j) => ((value += log1pExp(x) - t[i][j] * x), (sigmoid(x) - t[i][j]) / n)));
    return { value: value / n, grad };
  },
  nll(p, t: number[]) {
    const N = p.length;
    let value = 0;
    const grad = p.map((row, i) => ((value -= row[t[i]]), row.map((_, j) => (j === t[i] ? -1 / N : 0))));
    return { value: value / N, grad };
  },
  kl(p, t: number[][]) {
    const N = p.length;
    let value = 0;
    // PyTorch's kl_div(input = log q, target = p): Σ p (log p − log q), with 0·log 0 = 0.
    const grad = p.map((row, i) => row.map((logq, j) => ((value += t[i][j] > 0 ? t[i][j] * (Math.log(t[i][j]) - logq) : 0), -t[i][j] / N)));
    return { value: value / N, grad };
  },
};

const checked =
  (kind: LossKind): Loss =>
  (prediction, target) => {
    const p = rowsOf(prediction, `loss ${kind}`);
    checkTargets(kind, p, target);
    return RULES[kind](p, target as any[]);
  };

/**
 * The losses by name, each `(prediction [N, C], target) → { value, grad }`.
 *
 * @example
 * LOSSES.crossEntropy([[2, 0.5, -1]], [0]); // { value: 0.24…, grad: [[-0.21…, 0.17…, 0.04…]] }
 */
export const LOSSES: Record<LossKind, Loss> = {
  mse: checked("mse"),
  crossEntropy: checked("crossEntropy"),
  binaryCrossEntropy: checked("binaryCrossEntropy"),
  nll: checked("nll"),
  kl: checked("kl"),
};
