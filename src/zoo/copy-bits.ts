/**
 * The NTM paper's copy task (Graves, Wayne & Danihelka 2014, §4.1), generated with a seed: a
 * sequence of random bit vectors, then a delimiter, then as many blank steps in which the network
 * must output the sequence again. The input has one more channel than the bits: the delimiter flag.
 *
 *     step        0 … L−1      L           L+1 … 2L
 *     x           bits, 0      0…0, 1      0…0, 0
 *     target      0…0          0…0         the bits of steps 0 … L−1
 */
import seedrandom from "seedrandom";
import { errors } from "../errors";
import { whole } from "./entry";

/** Options of {@link copyBits}. */
export interface CopyBitsOptions {
  /** Sequences in the batch (default 16). */
  count?: number;
  /** Bits per vector (default 4): the NTM's NOutput; its NInput is bits + 1. */
  bits?: number;
  /** Vectors to copy, L (default 4): every sequence of one batch has the same length; SeqLen = 2L + 1. */
  length?: number;
  seed?: number;
}

/**
 * A batch of the copy task: `x` [count, 2L+1, bits+1] and `target` [count, 2L+1, bits], as nested
 * arrays for `zoo.ntm({ training: true })`'s inputs; `outputSteps` are the steps that are scored
 * as the copy (L+1 … 2L).
 *
 * @example
 * const { x, target } = zoo.copyBits({ count: 8, bits: 4, length: 3, seed: 1 });
 * const net = zoo.ntm({ NInput: 5, NOutput: 4, training: true });
 * const { outputs } = await net.run({ x, target });   // outputs.loss: the binary cross-entropy
 */
export function copyBits(options: CopyBitsOptions = {}) {
  if (options === null || typeof options !== "object" || Array.isArray(options)) throw errors.badOption("of zoo.copyBits", options, "an options object");
  const known = ["count", "bits", "length", "seed"];
  for (const k of Object.keys(options)) if (!known.includes(k)) throw errors.unknownName("option", k, known, "zoo.copyBits");
  const count = whole("copyBits", "count", options.count ?? 16);
  const bits = whole("copyBits", "bits", options.bits ?? 4);
  const L = whole("copyBits", "length", options.length ?? 4);
  const random = seedrandom(`copyBits:${options.seed ?? 0}`);
  const T = 2 * L + 1;
  const zeros = (n: number) => new Array<number>(n).fill(0);
  const x: number[][][] = [];
  const target: number[][][] = [];
  for (let b = 0; b < count; b++) {
    const seq = Array.from({ length: L }, () => Array.from({ length: bits }, () => (random() < 0.5 ? 1 : 0)));
    x.push(Array.from({ length: T }, (_, t) => (t < L ? [...seq[t], 0] : t === L ? [...zeros(bits), 1] : zeros(bits + 1))));
    target.push(Array.from({ length: T }, (_, t) => (t > L ? [...seq[t - L - 1]] : zeros(bits))));
  }
  return { x, target, length: L, outputSteps: Array.from({ length: L }, (_, i) => L + 1 + i) };
}
