/**
 * Neural Turing Machine (Graves, Wayne & Danihelka 2014): a controller network with a memory
 * matrix M [B, N, W] it reads and writes through differentiable heads. Each head addresses memory
 * in the paper's four steps (§3.3):
 *
 *     content    w_c = softmax_N(β · cos(M[n], k))          key k, key strength β > 0
 *     interpolate w_g = g w_c + (1 − g) w₋₁                  gate g ∈ (0, 1)
 *     shift      w̃[n] = Σ_j w_g[n − j] s[j], j ∈ {−1, 0, +1}  circular convolution, s = softmax
 *     sharpen    w = w̃^γ / Σ_n w̃^γ                          γ ≥ 1
 *
 * and reads r = Σ_n w[n] M[n] or writes M ← M ⊙ (1 − w eᵀ) + w aᵀ (erase e ∈ (0, 1), add a).
 * Here one write head then one read head per step (the read sees this step's write); the
 * controller is one tanh layer over [x_t, r_{t−1}] (the paper's feed-forward controller), and the
 * output is y = σ([h, r] W_y + b_y).
 */
import { add, block, losses, concat, cosine, div, exp, input, log, matmul, model, mul, named, outer, param, reshape, roll, scan, sigmoid, slice, softmax, softplus, sub, sum, tanh, fill, type Model, type Tensor } from "../lang";
import { errors } from "../errors";
import { entry, sizeOptions } from "./entry";
import { controller, linear } from "./memory-parts";

/** Options of {@link ntm}. */
export interface NtmOptions {
  /** Input and output width per step (default 8: the copy task's bit vectors plus a delimiter). */
  NInput?: number;
  NOutput?: number;
  /** Memory slots N and width W (default 16 × 8). */
  N?: number;
  W?: number;
  /** Controller units (default 32). */
  NController?: number;
  seed?: number;
  /**
   * The training form (default false): adds the input `target` [B, SeqLen, NOutput] (bits in
   * [0, 1]) and the output `loss`, the binary cross-entropy of the output's logits against it
   * (`losses.binaryCrossEntropy`, averaged over every step and bit). `y` and the trace are as without it.
   */
  loss?: boolean;
}

/** A head's addressing (§3.3) from the controller's h: returns the weighting [B, N] and records every step's intermediates. */
function address(name: string, h: Tensor, M: Tensor, wPrev: Tensor): Tensor {
  return block(name, "Head", () => {
    const k = named("k", tanh(linear(h, "k", "W")));
    const beta = named("β", softplus(linear(h, "beta", 1)));
    const g = named("g", sigmoid(linear(h, "g", 1)));
    const s = named("s", softmax(linear(h, "s", 3), -1));
    const gamma = named("γ", add(1, softplus(linear(h, "gamma", 1))));
    // Content: cosine similarity of every slot with the key, sharpened by β, normalised over N.
    const K = named("K", cosine(M, reshape(k, ["B", 1, "W"])));
    const wc = named("w_c", softmax(mul(beta, K), "N"));
    const wg = named("w_g", add(mul(g, wc), mul(sub(1, g), wPrev)));
    // Shift by −1, 0, +1 slots: w̃[n] = s₋₁ w_g[n + 1] + s₀ w_g[n] + s₊₁ w_g[n − 1].
    const shifted = named("w_s", add(add(mul(slice(s, -1, 0, 1), roll(wg, -1, "N")), mul(slice(s, -1, 1, 1), wg)), mul(slice(s, -1, 2, 1), roll(wg, 1, "N"))));
    // Sharpen: w̃^γ normalised (as exp(γ log w̃): γ is computed, one per batch row).
    const powered = exp(mul(gamma, log(shifted)));
    return named("w", div(powered, reshape(sum(powered, "N"), ["B", 1])));
  });
}

/**
 * Neural Turing Machine with one read and one write head over memory M [B, N, W].
 *
 * @example
 * const net = zoo.ntm({ N: 16, W: 8 });
 * const { outputs, trace } = await net.run({ x: bits });   // x [B, SeqLen, NInput]
 * trace.get("ntm/read/w");                                 // the read weighting at every step: [SeqLen, B, N]
 */
export const ntm = entry<NtmOptions>(
  "ntm",
  { title: "Neural Turing Machine", citation: "Graves, Wayne & Danihelka, Neural Turing Machines, arXiv:1410.5401, 2014", year: 2014, family: "memory", parents: [] },
  { NInput: 8, NOutput: 8, N: 16, W: 8, NController: 32, seed: 0, loss: false },
  (o): Model => {
    if (typeof o.loss !== "boolean") throw errors.badOption("loss of zoo.ntm", o.loss, "true or false");
    const sizes = sizeOptions("ntm", o, ["NInput", "NOutput", "N", "W", "NController"], { N: 2 });
    return model(
      "NTM",
      sizes,
      () => {
        const xs = input("x", ["B", "SeqLen", "NInput"]);
        // Memory starts at a small constant (a zero memory has no direction for cosine similarity);
        // weightings start on slot 0.
        const M0 = fill(["B", "N", "W"], 1e-6);
        const w0 = named("w0", concat([fill(["B", 1], 1), fill(["B", "N-1"], 0)], -1));
        const { out } = scan(
          "ntm",
          { x: xs },
          { M: M0, r: fill(["B", "W"], 0), wr: w0, ww: w0 },
          ({ x }, { M, r, wr, ww }) => {
            const h = controller([x, r], "NInput+W");
            // Write: address, then erase and add.
            const w = address("write", h, M, ww);
            const Mn = block("memory", "Memory", () => {
              const e = named("e", sigmoid(linear(h, "e", "W")));
              const a = named("a", tanh(linear(h, "a", "W")));
              return named("M", add(mul(M, sub(1, outer(w, e))), outer(w, a)));
            });
            // Read from the memory just written.
            const wRead = address("read", h, Mn, wr);
            const rn = named("r", reshape(matmul(reshape(wRead, ["B", 1, "N"]), Mn), ["B", "W"]));
            const { y, logit } = block("output", "Readout", () => {
              const logit = named("logit", add(matmul(concat([h, rn], -1), param("W", ["NController+W", "NOutput"])), param("b", ["NOutput"])));
              return { y: named("y", sigmoid(logit)), logit };
            });
            return { state: { M: Mn, r: rn, wr: wRead, ww: w }, out: (o.loss ? { y, logit } : { y }) as Record<string, Tensor> };
          },
          { kind: "NTM" },
        );
        const outputs: Record<string, Tensor> = { y: out.y };
        if (o.loss) outputs.loss = losses.binaryCrossEntropy(out.logit, input("target", ["B", "SeqLen", "NOutput"]));
        return outputs;
      },
      { seed: o.seed },
    );
  },
);
