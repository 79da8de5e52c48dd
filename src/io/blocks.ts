/**
 * Gate blocks ↔ archlab parameters, for any {@link Layout}. Framework matrices arrive row-blocked
 * (`[G·H, cols]`, PyTorch/ONNX orientation); Keras' column-blocked kernels are transposed first.
 */
import type { Layout } from "./layouts";

/** A framework's tensors for one layer and direction, in PyTorch/ONNX orientation. */
export interface Blocks {
  input: number[][];
  recurrent: number[][];
  inputBias: number[];
  recurrentBias?: number[];
  peephole?: number[];
}

const rows = (m: number[][], k: number, h: number) => m.slice(k * h, (k + 1) * h).map((r) => [...r]);
const part = (v: number[], k: number, h: number) => v.slice(k * h, (k + 1) * h);

/** Splits gate blocks into archlab weights; a bias named on both sides is summed. */
export function fromBlocks(layout: Layout, blocks: Blocks, hidden: number): Record<string, number[] | number[][]> {
  const out: Record<string, number[] | number[][]> = {};
  layout.input.forEach((name, k) => (out[name] = rows(blocks.input, k, hidden)));
  layout.recurrent.forEach((name, k) => (out[name] = rows(blocks.recurrent, k, hidden)));
  const addBias = (names: readonly string[] | undefined, v: number[] | undefined) =>
    names?.forEach((name, k) => {
      const p = part(v!, k, hidden);
      const prev = out[name] as number[] | undefined;
      out[name] = prev ? prev.map((x, j) => x + p[j]) : p;
    });
  addBias(layout.inputBias, blocks.inputBias);
  if (blocks.recurrentBias) addBias(layout.recurrentBias, blocks.recurrentBias);
  layout.peephole?.forEach((name, k) => (out[name] = part(blocks.peephole!, k, hidden)));
  return out;
}

/** Joins archlab weights into gate blocks; a summed bias goes to the input side, zeros to the recurrent side. */
export function toBlocks(layout: Layout, weights: Record<string, number[] | number[][]>, hidden: number): Blocks {
  const vec = (name: string) => weights[name] as number[];
  const inputSide = new Set(layout.inputBias);
  const blocks: Blocks = {
    input: layout.input.flatMap((n) => weights[n] as number[][]),
    recurrent: layout.recurrent.flatMap((n) => weights[n] as number[][]),
    inputBias: layout.inputBias.flatMap(vec),
  };
  if (layout.recurrentBias) blocks.recurrentBias = layout.recurrentBias.flatMap((n) => (inputSide.has(n) ? new Array(hidden).fill(0) : vec(n)));
  if (layout.peephole) blocks.peephole = layout.peephole.flatMap(vec);
  return blocks;
}

/** Matrix transpose (Keras kernels are `[In, G·H]`). */
export const transpose = (m: number[][]): number[][] => (m.length === 0 ? [] : m[0].map((_, c) => m.map((r) => r[c])));
