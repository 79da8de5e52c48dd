/**
 * Initialisers for `param(name, shape, { init })`: each makes a value of the parameter's concrete
 * shape from the model's seeded random source.
 */
import { ArchlabError } from "../errors";
import type { Init } from "./build";
import { toND, type ValueLike } from "./run";
import { count, zeros, type ND } from "./nd";

const fill = (f: (random: () => number, i: number) => number): Init => (shape, random) => {
  const v = zeros(shape, "a parameter");
  for (let i = 0; i < v.data.length; i++) v.data[i] = f(random, i);
  return v;
};

const gaussian = (random: () => number) => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

/** The largest |eigenvalue| of a square matrix, by power iteration on a random start (for reservoirs). */
export function spectralRadius(m: ND, iterations = 200): number {
  const n = m.shape[0];
  if (m.shape.length !== 2 || m.shape[1] !== n) throw new ArchlabError("shape", `spectralRadius: expected a square matrix, got [${m.shape}].`);
  // Power iteration on MᵀM gives the largest singular value; for the spectral radius iterate on M
  // itself with a complex-safe two-step ratio: ‖M^(k+1) v‖ / ‖M^k v‖ averaged over the last steps.
  let v = Array.from({ length: n }, (_, i) => Math.sin(i + 1));
  let logGrowth = 0;
  const tail = Math.floor(iterations / 2);
  for (let k = 0; k < iterations; k++) {
    const w = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) w[i] += m.data[i * n + j] * v[j];
    const norm = Math.hypot(...w) || 1e-300;
    if (k >= iterations - tail) logGrowth += Math.log(norm);
    v = w.map((x) => x / norm);
  }
  return Math.exp(logGrowth / tail);
}

/** Initialisers. */
export const inits = {
  zeros: ((shape) => zeros(shape)) as Init,
  ones: fill(() => 1),
  /** Uniform on [−a, a]. */
  uniform: (a = 1): Init => fill((r) => (2 * r() - 1) * a),
  /** Normal with standard deviation `std`. */
  normal: (std = 1): Init => fill((r) => gaussian(r) * std),
  /** Glorot (Xavier) uniform: ±√(6 / (fanIn + fanOut)). */
  glorot: (): Init => (shape, random) => {
    const fanIn = count(shape.slice(0, -1));
    const a = Math.sqrt(6 / (fanIn + shape[shape.length - 1]));
    return fill((r) => (2 * r() - 1) * a)(shape, random);
  },
  /** A given value (nested arrays), checked against the parameter's shape. */
  value: (v: ValueLike): Init => () => toND(v, "an init value"),
  /**
   * A square reservoir matrix scaled to spectral radius `rho` (an echo-state network's W): drawn by
   * `base` (default uniform ±1), then multiplied by rho / its measured spectral radius. With
   * `density` < 1, each entry is kept with that probability.
   */
  spectral: (rho: number, options: { base?: Init; density?: number } = {}): Init => (shape, random) => {
    const m = (options.base ?? inits.uniform(1))(shape, random);
    const density = options.density ?? 1;
    if (density < 1) for (let i = 0; i < m.data.length; i++) if (random() >= density) m.data[i] = 0;
    const r = spectralRadius(m);
    for (let i = 0; i < m.data.length; i++) m.data[i] *= rho / r;
    return m;
  },
};
