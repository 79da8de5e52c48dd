/**
 * Capsule network with dynamic routing (Sabour, Frosst & Hinton 2017), at MNIST size:
 *
 *     x [B, 28, 28, 1] → Conv1 256@9×9, ReLU → [B, 20, 20, 256]
 *       → PrimaryCaps: conv 32·8 channels @9×9 stride 2 → [B, 6, 6, 256] → 6·6·32 = 1152 capsules of 8D → squash
 *       → DigitCaps: û_{j|i} = W_ij u_i (W [1152, 10, 8, 16]), routing by agreement (3 iterations)
 *       → v_j [B, 10, 16]; ‖v_j‖ is the probability that digit j is present
 *       → decoder (optional): v masked by the target's one-hot → FC 512 → FC 1024 → FC 784 (sigmoid)
 *
 * squash(s) = ‖s‖² / (1 + ‖s‖²) · s / ‖s‖ keeps a vector's direction and maps its length into [0, 1).
 * Routing (Procedure 1 of the paper), unrolled: b_ij = 0; each iteration r has its own block
 * `routing{r}` recording c_ij = softmax_j(b_ij), s_j = Σ_i c_ij û_{j|i}, v_j = squash(s_j) and the
 * updated logits b_ij + ⟨û_{j|i}, v_j⟩, so every iteration's coupling coefficients can be plotted
 * (`plot.tensor(trace, "routing2/c")`). A capsule i is position (h, w) and type t of PrimaryCaps'
 * output, i = (h·6 + w)·32 + t; its 8 dimensions are the type's 8 channels (channel = t·8 + d).
 *
 * The loss is the paper's: margin loss Σ_k T_k max(0, 0.9 − ‖v_k‖)² + 0.5 (1 − T_k) max(0, ‖v_k‖ − 0.1)²
 * plus 0.0005 × the reconstruction's sum of squared errors, averaged over the batch.
 */
import { add, block, div, dot, input, inits, matmul, model, mul, named, norm, param, relu, reshape, sigmoid, softmax, sqrt, sub, sum, conv2d, mean, fill, type Model, type Tensor } from "../lang";
import { errors } from "../errors";
import { entry, whole } from "./entry";

/** Options of {@link capsNet}. */
export interface CapsNetOptions {
  /** Image height, width and channels (default 28 × 28 × 1, MNIST). Height and width at least 17 (two 9×9 convolutions, the second of stride 2). */
  height?: number;
  width?: number;
  channels?: number;
  /** Conv1's channels (default 256). */
  convChannels?: number;
  /** PrimaryCaps: capsule types (default 32) and each capsule's dimension (default 8). */
  primaryTypes?: number;
  primaryDim?: number;
  /** DigitCaps: classes (default 10) and each capsule's dimension (default 16). */
  classes?: number;
  digitDim?: number;
  /** Routing iterations (default 3). */
  iterations?: number;
  /** The reconstruction decoder FC 512 → 1024 → H·W·C (default true, as in the paper). */
  reconstruction?: boolean;
  seed?: number;
}

/** squash(s) over the last axis: ‖s‖² / (1 + ‖s‖²) · s / ‖s‖, written from the language's ops (an ε of 1e-12 keeps s = 0 finite). */
function squash(s: Tensor, name: string): Tensor {
  const n2 = named("norm2", reshape(sum(mul(s, s), -1), [...s.shape.slice(0, -1), 1]));
  return named(name, mul(s, named("squash", div(n2, mul(add(1, n2), sqrt(add(n2, 1e-12)))))));
}

/** A dense layer `x W + b` with its weight and bias in the current block. */
const dense = (x: Tensor, nIn: number, nOut: number) => add(matmul(x, param("W", [nIn, nOut])), param("b", [nOut]));

/**
 * CapsNet (Sabour et al. 2017): inputs `x` [B, H, W, C] and `target` [B, classes] (the one-hot
 * label: the decoder reconstructs from the target's capsule, and the margin loss reads it; the
 * lengths do not depend on it). Outputs `lengths` [B, classes], `margin` and `loss` (scalars), and
 * with the decoder `reconstruction` [B, H, W, C] and `reconLoss`. 8 215 568 parameters at the
 * default sizes (6 804 224 without the decoder).
 *
 * @example
 * const caps = zoo.capsNet();
 * caps.summary({ B: 1 }).totalParams;                 // 8215568
 * const { outputs, trace } = await caps.run({ x: images, target: oneHot });
 * trace.get("routing1/c").shape;                      // [B, 1152, 10]: the first iteration's coupling coefficients
 */
export const capsNet = entry<CapsNetOptions>(
  "capsNet",
  { title: "Capsule network (dynamic routing)", citation: "Sabour, Frosst & Hinton, Dynamic Routing Between Capsules, NeurIPS 2017", year: 2017, family: "capsule", parents: [] },
  { height: 28, width: 28, channels: 1, convChannels: 256, primaryTypes: 32, primaryDim: 8, classes: 10, digitDim: 16, iterations: 3, reconstruction: true, seed: 0 },
  (o): Model => {
    const [H, W] = (["height", "width"] as const).map((k) => whole("capsNet", k, o[k], 17));
    const [C, K, T, P, J, D, R] = (["channels", "convChannels", "primaryTypes", "primaryDim", "classes", "digitDim", "iterations"] as const).map((k) => whole("capsNet", k, o[k]));
    if (typeof o.reconstruction !== "boolean") throw errors.badOption("reconstruction of zoo.capsNet", o.reconstruction, "true or false");
    // Conv1 (9×9, stride 1) then PrimaryCaps (9×9, stride 2): the grid of primary capsules.
    const [gh, gw] = [H, W].map((n) => Math.floor((n - 8 - 9) / 2) + 1);
    const N = gh * gw * T;
    return model(
      "CapsNet",
      {},
      () => {
        const x = input("x", ["B", H, W, C]);
        const target = input("target", ["B", J]);
        const conv1 = block("conv1", "Conv", () => named("h", relu(add(conv2d(x, param("w", [9, 9, C, K], { init: inits.glorot() })), param("b", [K])))));
        const u = block("primaryCaps", "PrimaryCaps", () => {
          const maps = named("maps", add(conv2d(conv1, param("w", [9, 9, K, T * P], { init: inits.glorot() }), { stride: 2 }), param("b", [T * P])));
          return squash(reshape(maps, ["B", N, P]), "u");
        });
        // Predictions û_{j|i} = W_ij u_i for every primary capsule i and class j: [B, N, J, D].
        const uHat = block("digitCaps", "DigitCaps", () => {
          const Wij = param("W", [N, J, P, D], { init: inits.normal(0.01) });
          return named("uHat", reshape(matmul(reshape(u, ["B", N, 1, 1, P]), Wij), ["B", N, J, D]));
        });
        // Routing by agreement, one block per iteration.
        let b = named("b0", fill(["B", N, J], 0));
        let v!: Tensor;
        for (let r = 1; r <= R; r++)
          ({ b, v } = block(`routing${r}`, "Routing", () => {
            const c = named("c", softmax(b, -1));
            const s = named("s", sum(mul(reshape(c, ["B", N, J, 1]), uHat), 1));
            const vr = squash(s, "v");
            // The last iteration's agreement is not used: the paper's Procedure 1 computes it, so it is recorded too.
            const agreement = named("a", dot(uHat, reshape(vr, ["B", 1, J, D])));
            return { b: named("b", add(b, agreement)), v: vr };
          }));
        const lengths = named("lengths", norm(v, -1));
        const margin = block("marginLoss", "MarginLoss", () => {
          const short = named("short", relu(sub(0.9, lengths)));
          const long = named("long", relu(sub(lengths, 0.1)));
          const present = mul(target, mul(short, short));
          const absent = mul(mul(0.5, sub(1, target)), mul(long, long));
          return named("margin", mean(sum(add(present, absent), -1)));
        });
        if (!o.reconstruction) return { lengths, margin, loss: named("loss", margin) } as Record<string, Tensor>;
        const reconstruction = block("decoder", "Decoder", () => {
          const masked = named("masked", reshape(mul(v, reshape(target, ["B", J, 1])), ["B", J * D]));
          const h1 = block("fc1", "Dense", () => named("h", relu(dense(masked, J * D, 512))));
          const h2 = block("fc2", "Dense", () => named("h", relu(dense(h1, 512, 1024))));
          const out = block("fc3", "Dense", () => named("y", sigmoid(dense(h2, 1024, H * W * C))));
          return named("image", reshape(out, ["B", H, W, C]));
        });
        const reconLoss = block("reconLoss", "SquaredError", () => {
          const err = named("err", sub(reconstruction, x));
          return named("sse", mean(sum(mul(err, err), [1, 2, 3])));
        });
        return { lengths, reconstruction, margin, reconLoss, loss: named("loss", add(margin, mul(0.0005, reconLoss))) };
      },
      { seed: o.seed },
    );
  },
);
