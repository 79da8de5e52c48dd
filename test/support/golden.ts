/** The shared golden data (../shared/data) and its integer weight formulas, rebuilt as CELLS.md specifies. */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const SHARED = join(__dirname, "..", "..", "..", "shared", "data");
export const golden = JSON.parse(readFileSync(join(SHARED, "golden-cells.json"), "utf8"));
export const onnxNodeTests = JSON.parse(readFileSync(join(SHARED, "onnx-rnn-node-tests.json"), "utf8"));

/** `W[r][c] = (((r·7 + c·3 + seed) % 11) − 5)/10` */
export const pattern = (rows: number, cols: number, seed: number): number[][] =>
  Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => (((r * 7 + c * 3 + seed) % 11) - 5) / 10));

/** PyTorch-layout golden weights for a cell with G gate blocks, In = 3, H = 2. */
export const goldenTorch = (G: number, In = 3, H = 2) => ({
  weight_ih_l0: pattern(G * H, In, 1),
  weight_hh_l0: pattern(G * H, H, 2),
  bias_ih_l0: pattern(1, G * H, 3)[0],
  bias_hh_l0: pattern(1, G * H, 4)[0],
});

/** Largest absolute difference between two nested arrays of equal shape. */
export function maxAbsDiff(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return Math.abs(a - b);
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) throw new Error(`shape mismatch: ${JSON.stringify(a)?.slice(0, 80)} vs ${JSON.stringify(b)?.slice(0, 80)}`);
  return a.reduce((m, x, k) => Math.max(m, maxAbsDiff(x, b[k])), 0);
}
