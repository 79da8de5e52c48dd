/**
 * DRCN, the deeply-recursive convolutional network for image super-resolution (Kim, Lee & Lee
 * 2016): one 3×3 convolution applied D times with the same weights — a scan over recursion depth
 * whose state is the feature map, so the diagram draws it as recursion — with every recursion's
 * feature map reconstructed into an image (recursive supervision), the input added to each
 * reconstruction (skip connection: the network predicts the missing detail), and the final
 * output a learned weighted average of the D predictions.
 *
 *     H₀ = relu(W₀ ∗ relu(W₋₁ ∗ x + b₋₁) + b₀)              embedding net
 *     H_d = relu(W ∗ H_{d−1} + b),  d = 1 … D                inference net: W, b shared by every d
 *     ŷ_d = x + W_{D+2} ∗ relu(W_{D+1} ∗ H_d + b_{D+1}) + b_{D+2}   reconstruction net (shared) + skip
 *     ŷ = Σ_d w_d ŷ_d                                        the weighted average (w learned)
 *
 * The paper trains with α·(1/D) Σ_d ‖y − ŷ_d‖² + (1 − α)‖y − ŷ‖²; the model outputs every ŷ_d
 * (`ys` [D, B, H, W, C]) and ŷ (`y`) for it. The last convolution is linear (no ReLU), so the
 * predicted detail may be negative.
 *
 * In the genealogy its parent is VGG-16: DRCN's layers are VGG's 3×3 convolutions with ReLU (by way
 * of the VGG-style super-resolution nets SRCNN and VDSR, which are not zoo entries).
 */
import { add, block, conv2d, input, layer, model, mul, named, param, relu, reshape, scan, sum, type Tensor } from "../lang";
import { entry, sizeOptions } from "./entry";

/** Options of {@link drcn}. */
export interface DrcnOptions {
  /** Image height and width (default 41, the paper's training patches). */
  height?: number;
  width?: number;
  /** Image channels (default 1: the luminance, as the paper). */
  channels?: number;
  /** Feature maps of every hidden layer (default 256). */
  filters?: number;
  /** Recursions D of the shared convolution (default 16). */
  recursions?: number;
  /** Seed of the initial weights (default 0). */
  seed?: number;
}

/** A 3×3 convolution with padding 1 (the map keeps its size) and its bias: filter `w`, bias `b` in the current block. */
const conv3 = (x: Tensor, cin: number, cout: number, name = "conv") => named(name, add(conv2d(x, param("w", [3, 3, cin, cout]), { padding: 1 }), param("b", [cout])));

/** The reconstruction net: one hidden 3×3 layer, then a linear 3×3 layer back to the image's channels, plus the input (skip). */
const reconstruct = layer("Reconstruction", (h: Tensor, x: Tensor, filters: number, channels: number) => {
  const hidden = block("hidden", undefined, () => named("relu", relu(conv3(h, filters, filters))));
  const detail = block("out", undefined, () => conv3(hidden, filters, channels));
  return named("y", add(x, detail));
});

/**
 * DRCN (Kim, Lee & Lee 2016) at the paper's sizes by default (256 filters, 16 recursions, 41×41
 * luminance patches of a bicubic-upscaled image). The inference net's filter `recursion/W` is one
 * parameter, read by the one convolution of the recursion's body at every step.
 *
 * @example
 * const net = zoo.drcn({ filters: 8, recursions: 4, height: 16, width: 16 });
 * const { outputs, trace } = await net.run({ x: image });   // image [1, 16, 16, 1]
 * trace.get("recursion/h").shape;                           // [4, 1, 16, 16, 8]: H_d for each d
 * outputs.ys.shape;                                         // [4, 1, 16, 16, 1]: ŷ_d for each d
 */
export const drcn = entry<DrcnOptions>(
  "drcn",
  {
    title: "DRCN (deeply-recursive CNN)",
    citation: "Kim, Lee & Lee, Deeply-Recursive Convolutional Network for Image Super-Resolution, CVPR 2016",
    year: 2016,
    family: "cnn",
    parents: ["vgg16"],
  },
  { height: 41, width: 41, channels: 1, filters: 256, recursions: 16, seed: 0 },
  (o) => {
    const { height, width, channels, filters: F, recursions: D } = sizeOptions("drcn", o, ["height", "width", "channels", "filters", "recursions"]);
    return model(
      "DRCN",
      {},
      () => {
        const x = input("x", ["B", height, width, channels]);
        const h0 = block("embed", "Embedding", () => {
          const h = block("conv1", undefined, () => named("relu", relu(conv3(x, channels, F))));
          return block("conv2", undefined, () => named("relu", relu(conv3(h, F, F))));
        });
        const { out } = scan(
          "recursion",
          {},
          { h: h0 },
          (_, { h }) => {
            // Declared once, in the body built once: every recursion reads these same two tensors.
            const W = param("W", [3, 3, F, F]);
            const b = param("b", [F]);
            const next = named("h", relu(add(conv2d(h, W, { padding: 1 }), b)));
            return { state: { h: next }, out: { y: reconstruct("reconstruct", next, x, F, channels) } };
          },
          { steps: D, axis: 0, kind: "Recursion" },
        );
        // ŷ = Σ_d w_d ŷ_d over the stacked predictions [D, B, H, W, C]; w starts as the plain mean.
        const y = block("average", "WeightedAverage", () => {
          const w = param("w", [D], { init: (shape) => ({ shape, data: new Float64Array(D).fill(1 / D) }) });
          return named("y", sum(mul(out.y, reshape(w, [D, 1, 1, 1, 1])), 0));
        });
        return { y, ys: out.y };
      },
      { seed: o.seed },
    );
  },
);
