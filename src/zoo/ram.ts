/**
 * Recurrent attention model (Mnih, Heess, Graves & Kavukcuoglu 2014): instead of the whole image,
 * the network sees a few glimpses — small retina-like crops at a location it chooses — and
 * integrates them in a recurrent core. Each step t:
 *
 *     location   μ_t = tanh(h_{t−1} W_l + b_l),  l_t = μ_t + σ ε_t   (ε_t ~ 𝒩(0, 1): a Gaussian policy)
 *     sensor     ρ(x, l_t): `scales` crops of g × g around l_t, the k-th covering g·2^k pixels, averaged down to g × g
 *     glimpse    g_t = relu(relu(ρ W_ρ) W_gh + relu(l_t W_ll) W_gl + b)
 *     core       h_t = relu(h_{t−1} W_hh + g_t W_hg + b)
 *     baseline   b_t = h_{t−1} W_b + c
 *
 * and after the last glimpse the action network classifies from h_T. Choosing a location is not
 * differentiable, so the location network learns by REINFORCE: the reward R = 1 when the class is
 * right, and the loss −Σ_t (R − b_t) log π(l_t | μ_t) has the policy-gradient estimate as its
 * gradient (l_t and R − b_t are constants to it: stop-gradients). The baseline b_t regresses on R
 * to reduce the variance. The whole hybrid loss — cross-entropy + REINFORCE + baseline — is part of
 * the definition; `loss` is the output to seed.
 *
 * The sensor is a bilinear crop written with the language's ops: the crop at sub-pixel centre c is
 * the separable product A X Bᵀ, where A[i, r] = mean_j max(0, 1 − |r − p_ij|) holds the bilinear
 * weights of each sample row p_ij (and B the same for columns). Rows and columns outside the image
 * have no weight, so the image is zero-padded for free, and averaging the g·2^k samples of a wider
 * scale down to g is one more mean. An integer crop (gather) would need integer indices computed
 * from l_t, which the language does not make (gather takes int inputs); the bilinear crop also
 * places glimpses between pixels, and is differentiable in l_t — RAM does not use that gradient
 * (the location is sampled), a spatial transformer would.
 */
import { abs, add, block, clip, concat, constant, div, fill, input, matmul, max, mean, model, mul, named, neg, param, randomNormal, relu, reshape, scan, slice, stopGradient, sub, sum, tanh, transpose, where, type Model, type Tensor } from "../lang";
import { errors } from "../errors";
import { entry, real, sizeOptions, whole } from "./entry";
import { crossEntropy, linear, targetsLike } from "./trick-parts";

/** Options of {@link ram}. */
export interface RamOptions {
  /** Image height and width (default 28 × 28: MNIST). Images are [B, height, width], one channel. */
  height?: number;
  width?: number;
  /** Side g of each crop (default 8) and number of scales (default 1): the paper's MNIST RAM, 6 glimpses of 8 × 8 at 1 scale. */
  glimpseSize?: number;
  scales?: number;
  /** Glimpses per image (default 6). */
  glimpses?: number;
  /** Units of the glimpse network's what and where layers (default 128 each), of its output (256) and of the core (256). */
  NGlimpseHidden?: number;
  NLocHidden?: number;
  NGlimpse?: number;
  NHidden?: number;
  NClasses?: number;
  /** The location policy's standard deviation σ (default 0.2; locations are in [−1, 1]). */
  sigma?: number;
  /** Seed of the policy's noise ε (default 0): the same seed, the same draws; change it from run to run when training. */
  noiseSeed?: number;
  seed?: number;
}

/** Sample offsets p − c of a crop's rows at one scale: g·f samples (f = 2^k), grouped [g, f]. */
const offsets = (g: number, f: number) => Array.from({ length: g * f }, (_, n) => -(g * f) / 2 + n + 0.5);

/**
 * One axis's bilinear crop weights [B, g, n]: A[b, i, r] = mean_j max(0, 1 − |r − c_b − o_ij|) for
 * centres c [B] (in pixels), pixels r = 0…n−1 and the scale's offsets o [g, f].
 */
function cropWeights(c: Tensor, n: number, g: number, f: number): Tensor {
  const o = offsets(g, f);
  const grid = { shape: [1, g, f, n], data: new Float64Array(g * f * n) };
  for (let s = 0; s < g * f; s++) for (let r = 0; r < n; r++) grid.data[s * n + r] = r - o[s];
  const distance = abs(sub(constant(grid), reshape(c, ["B", 1, 1, 1])));
  return mean(relu(sub(1, distance)), 2);
}

/**
 * The retina (inside a model definition): `scales` crops of g × g from images x [B, H, W] around
 * locations l [B, 2] = (row, column) in [−1, 1] (−1: the image's top or left edge, +1: its bottom
 * or right edge), the k-th covering g·2^k pixels averaged down to g × g, zero outside the image.
 * Records each crop as `patch{k}` [B, g, g]; returns them flattened and joined, [B, scales·g·g].
 */
export function glimpse(x: Tensor, l: Tensor, o: { glimpseSize: number; scales: number }): Tensor {
  const [H, W] = [x.shape[1].constant, x.shape[2].constant];
  if (x.rank !== 3 || H === undefined || W === undefined) throw errors.badOption("image of glimpse", x.path, "images [B, H, W] with H and W given as numbers");
  // Pixel centres: row r's centre is at r; l = −1 is the top edge (−0.5), l = +1 the bottom edge (H − 0.5).
  const centre = (axis: number, n: number) => add(mul(reshape(slice(l, -1, axis, 1), ["B"]), n / 2), n / 2 - 0.5);
  const [cy, cx] = [named("row", centre(0, H)), named("col", centre(1, W))];
  const g = o.glimpseSize;
  const patches = Array.from({ length: o.scales }, (_, k) => {
    const f = 2 ** k;
    const patch = named(`patch${k}`, matmul(matmul(cropWeights(cy, H, g, f), x), transpose(cropWeights(cx, W, g, f), [0, 2, 1])));
    return reshape(patch, ["B", g * g]);
  });
  return named("ρ", patches.length === 1 ? patches[0] : concat(patches, -1));
}

/**
 * RAM: images x [B, height, width] and int labels y [B]. Outputs: the class logits `y` [B, NClasses];
 * per step `locations` [B, glimpses, 2] and the policy means `mu` (same shape); the `reward` R [B]
 * (1 where the class is right); the scalar losses `classLoss`, `reinforceLoss`, `baselineLoss` and
 * their sum `loss`. Every glimpse is recorded: `trace.get("ram/sensor/patch0")` [glimpses, B, g, g].
 *
 * @example
 * const net = zoo.ram({ height: 16, width: 16, glimpseSize: 4, scales: 2, glimpses: 4, NClasses: 2 });
 * const { outputs, trace } = await net.run({ x: images, y: labels });
 * outputs.locations;   // where it looked: [B, 4, 2]
 */
export const ram = entry<RamOptions>(
  "ram",
  {
    title: "Recurrent attention model",
    citation: "Mnih, Heess, Graves & Kavukcuoglu, Recurrent Models of Visual Attention, NIPS 2014",
    year: 2014,
    family: "gradient",
    parents: [],
  },
  { height: 28, width: 28, glimpseSize: 8, scales: 1, glimpses: 6, NGlimpseHidden: 128, NLocHidden: 128, NGlimpse: 256, NHidden: 256, NClasses: 10, sigma: 0.2, noiseSeed: 0, seed: 0 },
  (o): Model => {
    const sizes = sizeOptions("ram", o, ["NGlimpseHidden", "NLocHidden", "NGlimpse", "NHidden", "NClasses"], { NClasses: 2 });
    const [height, width, g, glimpses] = [whole("ram", "height", o.height), whole("ram", "width", o.width), whole("ram", "glimpseSize", o.glimpseSize), whole("ram", "glimpses", o.glimpses)];
    const scales = whole("ram", "scales", o.scales);
    if (scales > 8) throw errors.badOption("scales of zoo.ram", scales, "a whole number from 1 to 8 (the widest crop covers g·2^(scales−1) pixels)");
    const sigma = real("ram", "sigma", o.sigma, 1e-6, 10);
    const noiseSeed = whole("ram", "noiseSeed", o.noiseSeed, 0);
    return model(
      "RAM",
      sizes,
      () => {
        const x = input("x", ["B", height, width]);
        const y = input("y", ["B"], { dtype: "int" });
        const { out, final } = scan(
          "ram",
          {},
          { h: fill(["B", "NHidden"], 0) },
          (_xs, { h }) => {
            const hPrev = named("h_detached", stopGradient(h));
            const { l, logPi, mu } = block("locator", "LocationNetwork", () => {
              const mu = named("μ", tanh(linear(hPrev, "NHidden", 2, "none")));
              const sample = named("sample", stopGradient(add(mu, mul(randomNormal(["B", 2], noiseSeed), sigma))));
              // log π(l | μ) up to a constant: −‖l − μ‖² / 2σ²; its gradient reaches μ only.
              const d = sub(sample, mu);
              const logPi = named("logπ", div(neg(sum(mul(d, d), -1)), 2 * sigma * sigma));
              return { l: named("l", clip(sample, -1, 1)), logPi, mu };
            });
            const rho = block("sensor", "GlimpseSensor", () => glimpse(x, l, { glimpseSize: g, scales }));
            const gt = block("glimpseNet", "GlimpseNetwork", () => {
              const what = block("what", "Linear", () => linear(rho, scales * g * g, "NGlimpseHidden"));
              const where_ = block("where", "Linear", () => linear(l, 2, "NLocHidden"));
              const z = add(add(matmul(what, param("W_what", ["NGlimpseHidden", "NGlimpse"])), matmul(where_, param("W_where", ["NLocHidden", "NGlimpse"]))), param("b", ["NGlimpse"]));
              return named("g", relu(z));
            });
            const hn = block("core", "CoreRNN", () => named("h", relu(add(add(matmul(h, param("W_hh", ["NHidden", "NHidden"])), matmul(gt, param("W_hg", ["NGlimpse", "NHidden"]))), param("b", ["NHidden"])))));
            const b = block("baseline", "Baseline", () => named("baseline", reshape(linear(hPrev, "NHidden", 1, "none"), ["B"])));
            return { state: { h: hn }, out: { l, mu, logPi, b } };
          },
          { steps: glimpses, kind: "RAM" },
        );
        const logits = block("action", "Linear", () => linear(final.h, "NHidden", "NClasses", "none"));
        // R = 1 where the target's logit is the largest (their difference is exactly 0), else 0.
        const reward = block("reward", "Reward", () => named("R", where(sub(sum(mul(logits, targetsLike(logits, y, sizes.NClasses)), -1), max(logits, -1)), 0, 1)));
        return block("losses", "HybridLoss", () => {
          const advantage = named("advantage", sub(reshape(reward, ["B", 1]), stopGradient(out.b)));
          const reinforceLoss = named("reinforceLoss", neg(mean(sum(mul(advantage, out.logPi), 1))));
          const miss = sub(out.b, reshape(reward, ["B", 1]));
          const baselineLoss = named("baselineLoss", mean(mul(miss, miss)));
          const classLoss = named("classLoss", crossEntropy(logits, y, sizes.NClasses));
          return {
            y: logits, locations: out.l, mu: out.mu, reward, classLoss, reinforceLoss, baselineLoss,
            loss: named("loss", add(add(classLoss, reinforceLoss), baselineLoss)),
          };
        });
      },
      { seed: o.seed },
    );
  },
);
