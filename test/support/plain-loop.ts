/**
 * Arithmetic for the zoo's plain-loop references (NTM, DNC, Dynamic NTM): each test writes its
 * model's equations from the paper as loops over plain arrays, with the model's own parameters.
 */
import assert from "node:assert/strict";
import type { ND } from "../../src/lang/nd";

export const sig = (x: number) => 1 / (1 + Math.exp(-x));
export const softplus = (x: number) => Math.log1p(Math.exp(x));

/** y = x W + b for a row x. */
export function affine(x: number[], W: ND, b: ND): number[] {
  const [K, n] = W.shape;
  return Array.from({ length: n }, (_, j) => {
    let s = b.data[j];
    for (let k = 0; k < K; k++) s += x[k] * W.data[k * n + j];
    return s;
  });
}

export function softmax(v: number[]): number[] {
  const m = Math.max(...v);
  const e = v.map((x) => Math.exp(x - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}

const norm = (v: number[]) => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
/** Cosine similarity of every row of M with k (the denominator floored at 10⁻⁸, as the language's cosine). */
export const cosines = (M: number[][], k: number[]) => M.map((row) => row.reduce((a, x, i) => a + x * k[i], 0) / Math.max(norm(row) * norm(k), 1e-8));

/** The interpreters and how closely each must match a float64 plain loop (relative, floored at 1). */
export const BACKENDS = [["reference", 1e-12], ["fast", 2e-5]] as const;

/** Asserts `got` equals the plain loop's `expected` element by element within `tol` (relative, floored at 1). */
export function assertClose(got: ArrayLike<number>, expected: number[], tol: number, what: string) {
  assert.equal(got.length, expected.length, what);
  expected.forEach((w, i) => assert.ok(Math.abs(got[i] - w) <= tol * Math.max(1, Math.abs(w)), `${what}[${i}] = ${got[i]}, plain loop ${w}`));
}
