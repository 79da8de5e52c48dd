/**
 * Toy sequence tasks generated with a seed: the benchmarks of the recurrent-network literature,
 * small enough to train in a notebook. A task draws batches from its own seeded stream (the same
 * seed gives the same batches in the same order; make a second task with another seed for test
 * data).
 *
 * Every batch is `{ xs, targets }` with `xs` `[T, B, inputSize]` (time first, like a cell's run).
 * What `targets` is depends on when the task is scored (`at`) and its loss's kind of target:
 *
 *     at "last",  rows      [B, outputSize]        (adding, parity)
 *     at "last",  classes   [B]                    (temporal order)
 *     at "every", rows      [T, B, outputSize]     (delayed XOR, sine)
 *     at "every", classes   [T, B]                 (copy, text)
 */
import seedrandom from "seedrandom";
import { errors } from "../errors";
import { ALICE } from "./corpus";
import { TARGETS, type LossKind } from "./losses";

/** One batch: inputs `[T, B, inputSize]` and targets (shapes in the module docs). */
export interface Batch {
  xs: number[][][];
  targets: number[] | number[][] | number[][][];
}

/** A seeded task: sizes, when it is scored, its loss, and a batch generator. */
export interface Task {
  readonly name: string;
  /** Steps T of every sequence. */
  readonly length: number;
  readonly inputSize: number;
  /** Size of the prediction at a scored step (classes for a classification task). */
  readonly outputSize: number;
  /** Scored at the last step only, or at every step. */
  readonly at: "last" | "every";
  /** The loss the task is meant for. */
  readonly loss: LossKind;
  /** The next `size` sequences of the task's seeded stream. */
  batch(size: number): Batch;
}

function count(option: string, value: unknown, min: number): number {
  if (!Number.isInteger(value) || (value as number) < min) throw errors.badOption(option, value, `an integer ≥ ${min}`);
  return value as number;
}

type Random = () => number;
const int = (random: Random, n: number) => Math.floor(random() * n);
const oneHot = (k: number, n: number) => Array.from({ length: n }, (_, j) => (j === k ? 1 : 0));

/**
 * Builds a task from a per-sequence generator: `sequence(random)` returns one sequence's inputs
 * `[T][inputSize]` and targets (`[outputSize]`/class at "last"; `[T][outputSize]`/`[T]` classes at
 * "every"), transposed here to time-first batches.
 */
function task(
  spec: Omit<Task, "batch">,
  seed: unknown,
  sequence: (random: Random) => { xs: number[][]; target: number | number[] | number[][] },
): Task {
  const random = seedrandom(String(seed ?? 0));
  return Object.freeze({
    ...spec,
    batch(size: number): Batch {
      count(`batch size of task ${spec.name}`, size, 1);
      const seqs = Array.from({ length: size }, () => sequence(random));
      const xs = Array.from({ length: spec.length }, (_, t) => seqs.map((s) => s.xs[t]));
      const targets = spec.at === "last" ? seqs.map((s) => s.target as any) : Array.from({ length: spec.length }, (_, t) => seqs.map((s) => (s.target as any[])[t]));
      return { xs, targets };
    },
  });
}

/** Options every task takes. */
export interface TaskOptions {
  /** Seed of the task's stream (default 0). */
  seed?: number | string;
}

/**
 * The task generators.
 *
 * @example
 * const task = tasks.adding({ length: 50, seed: 1 });
 * const { xs, targets } = task.batch(32); // xs [50][32][2], targets [32][1]
 */
export const tasks = {
  /**
   * The adding problem (Hochreiter & Schmidhuber 1997, experiment 4; as in Le et al. 2015): each
   * step has a value U(0, 1) and a marker; exactly two steps are marked, one in each half. Target:
   * the sum of the two marked values `[B, 1]` at the last step. Guessing 1 scores MSE ≈ 0.167.
   */
  adding({ length = 50, seed }: TaskOptions & { length?: number } = {}): Task {
    const T = count("length of tasks.adding", length, 2);
    return task({ name: "adding", length: T, inputSize: 2, outputSize: 1, at: "last", loss: "mse" }, seed, (random) => {
      const values = Array.from({ length: T }, () => random());
      const a = int(random, Math.floor(T / 2)), b = Math.floor(T / 2) + int(random, T - Math.floor(T / 2));
      return { xs: values.map((v, t) => [v, t === a || t === b ? 1 : 0]), target: [values[a] + values[b]] };
    });
  },

  /**
   * Copy / memory task (Hochreiter & Schmidhuber 1997; Arjovsky et al. 2016): `items` symbols of
   * `symbols` kinds, then blanks for `delay` steps with a delimiter at the last of them, then blanks
   * while the symbols are to be recalled. Inputs one-hot over symbols + blank + delimiter; targets
   * classes `[T, B]` over symbols + blank (class `symbols`), T = 2·items + delay.
   */
  copy({ items = 5, symbols = 8, delay = 10, seed }: TaskOptions & { items?: number; symbols?: number; delay?: number } = {}): Task {
    const L = count("items of tasks.copy", items, 1), K = count("symbols of tasks.copy", symbols, 2), D = count("delay of tasks.copy", delay, 1);
    const T = 2 * L + D, blank = K, delimiter = K + 1;
    return task({ name: "copy", length: T, inputSize: K + 2, outputSize: K + 1, at: "every", loss: "crossEntropy" }, seed, (random) => {
      const seq = Array.from({ length: L }, () => int(random, K));
      const input = Array.from({ length: T }, (_, t) => (t < L ? seq[t] : t === L + D - 1 ? delimiter : blank));
      const target = Array.from({ length: T }, (_, t) => (t >= L + D ? seq[t - L - D] : blank));
      return { xs: input.map((k) => oneHot(k, K + 2)), target };
    });
  },

  /**
   * Temporal order (Hochreiter & Schmidhuber 1997, experiment 6a): random distractors a–d, with X
   * or Y at one step in [T/10, 2T/10) and one in [5T/10, 6T/10). Class at the last step `[B]`:
   * XX 0, XY 1, YX 2, YY 3. Inputs one-hot over a, b, c, d, X, Y.
   */
  temporalOrder({ length = 20, seed }: TaskOptions & { length?: number } = {}): Task {
    const T = count("length of tasks.temporalOrder", length, 10);
    return task({ name: "temporalOrder", length: T, inputSize: 6, outputSize: 4, at: "last", loss: "crossEntropy" }, seed, (random) => {
      const input = Array.from({ length: T }, () => int(random, 4));
      const window = (from: number) => Math.floor(from * T) + int(random, Math.max(1, Math.floor(0.1 * T)));
      const [p, q] = [window(0.1), window(0.5)];
      const [first, second] = [int(random, 2), int(random, 2)];
      input[p] = 4 + first;
      input[q] = 4 + second;
      return { xs: input.map((k) => oneHot(k, 6)), target: 2 * first + second };
    });
  },

  /** Sequential parity: bits `[T, B, 1]`; target at the last step `[B, 1]`: 1 when the count of ones is odd (binary cross-entropy from a logit). */
  parity({ length = 10, seed }: TaskOptions & { length?: number } = {}): Task {
    const T = count("length of tasks.parity", length, 1);
    return task({ name: "parity", length: T, inputSize: 1, outputSize: 1, at: "last", loss: "binaryCrossEntropy" }, seed, (random) => {
      const bits = Array.from({ length: T }, () => int(random, 2));
      return { xs: bits.map((b) => [b]), target: [bits.reduce((a, b) => a ^ b, 0)] };
    });
  },

  /** Delayed XOR: bits `[T, B, 1]`; target at every step `[T, B, 1]`: x_t XOR x_{t−delay} (bits before the start are 0). */
  delayedXor({ length = 20, delay = 3, seed }: TaskOptions & { length?: number; delay?: number } = {}): Task {
    const T = count("length of tasks.delayedXor", length, 1), D = count("delay of tasks.delayedXor", delay, 1);
    return task({ name: "delayedXor", length: T, inputSize: 1, outputSize: 1, at: "every", loss: "binaryCrossEntropy" }, seed, (random) => {
      const bits = Array.from({ length: T }, () => int(random, 2));
      return { xs: bits.map((b) => [b]), target: bits.map((b, t) => [b ^ (t >= D ? bits[t - D] : 0)]) };
    });
  },

  /** Sine prediction: sin(ω t + φ) with ω ∈ U(0.1, 0.6), φ ∈ U(0, 2π) `[T, B, 1]`; target at every step: the next value `[T, B, 1]` (MSE). */
  sine({ length = 40, seed }: TaskOptions & { length?: number } = {}): Task {
    const T = count("length of tasks.sine", length, 1);
    return task({ name: "sine", length: T, inputSize: 1, outputSize: 1, at: "every", loss: "mse" }, seed, (random) => {
      const w = 0.1 + 0.5 * random(), phi = 2 * Math.PI * random();
      const at = (t: number) => Math.sin(w * t + phi);
      return { xs: Array.from({ length: T }, (_, t) => [at(t)]), target: Array.from({ length: T }, (_, t) => [at(t + 1)]) };
    });
  },

  /**
   * Character-level text: windows of `length` characters at random places of `text` (default the
   * opening of "Alice's Adventures in Wonderland", see corpus.ts), one-hot `[T, B, V]` over the
   * sorted characters of the text (`task.vocabulary`); target at every step: the next character's
   * index `[T, B]` (cross-entropy).
   */
  text({ length = 32, text = ALICE, seed }: TaskOptions & { length?: number; text?: string } = {}): Task & { readonly vocabulary: string } {
    const T = count("length of tasks.text", length, 1);
    if (typeof text !== "string" || text.length < T + 1) throw errors.badOption("text of tasks.text", text, `a string of at least length + 1 = ${T + 1} characters`);
    const chars = [...new Set(text)].sort();
    const index = new Map(chars.map((c, k) => [c, k]));
    const V = chars.length;
    const codes = Array.from(text, (c) => index.get(c)!);
    const base = task({ name: "text", length: T, inputSize: V, outputSize: V, at: "every", loss: "crossEntropy" }, seed, (random) => {
      const start = int(random, codes.length - T);
      return { xs: codes.slice(start, start + T).map((k) => oneHot(k, V)), target: codes.slice(start + 1, start + T + 1) };
    });
    return Object.freeze({ ...base, vocabulary: chars.join("") });
  },
};

/** True when the task's targets are class indices (its loss reads classes). */
export const classTargets = (loss: LossKind): boolean => TARGETS[loss] === "classes";
