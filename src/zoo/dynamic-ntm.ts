/**
 * Dynamic Neural Turing Machine (Gulcehre, Chandar, Cho & Bengio 2016, "Dynamic Neural Turing
 * Machine with Continuous and Discrete Addressing Schemes", arXiv:1607.00036; Neural Computation
 * 30(4), 2018) — the continuous (soft) D-NTM with a feed-forward controller. Each memory slot is an
 * address vector, a trainable parameter shared by every sequence, and a content vector that is
 * read and written:
 *
 *     memory    M = [A; C]                       A [N, WAddress] learned, C [B, N, WContent] written
 *     address   z[i] = β K(k, M[i])              K = cosine similarity, β = softplus(…) (per head)
 *     read      w^r = softmax_N(z^r)             from the previous controller state h₋₁
 *               r = Σ_i w^r[i] M₋₁[i]            the read sees addresses and contents
 *     control   h = tanh([x, r] W + b)           (the paper's feed-forward controller)
 *     LRU write w^w = softmax_N(z^w − γ v₋₁)     γ = σ(u_γ·h + b_γ): how much to avoid recent slots
 *               v = 0.1 v₋₁ + 0.9 z^w            moving average of the write logits
 *     write     C = C₋₁ ⊙ (1 − w^w eᵀ) + w^w cᵀ   erase e = σ(…), content c = relu(…); A is never written
 *
 * The least-recently-used term is the paper's dynamic LRU addressing (on the authors' poster:
 * w_t ← softmax(z_t − γ_t v_{t−1}), v the exponential moving average of the logits z): slots
 * written lately keep high averaged logits v, so subtracting γ v pushes the write towards slots not
 * used lately. β is a plain softplus, as in the authors' code. The output is y = h W_y + b_y.
 * Left out: the paper's discrete (REINFORCE) addressing, its NOP slot, its GRU controller, and the
 * input term that its written content also takes through a learned scalar gate (here c depends on
 * x only through h).
 */
import { add, block, concat, cosine, fill, input, matmul, model, mul, named, outer, param, relu, reshape, scan, sigmoid, softmax, softplus, sub, inits, type Model, type Tensor } from "../lang";
import { entry, sizeOptions } from "./entry";
import { controller, linear } from "./memory-parts";

/** Options of {@link dynamicNtm}. */
export interface DynamicNtmOptions {
  /** Input and output width per step (default 8). */
  NInput?: number;
  NOutput?: number;
  /** Memory slots N (default 16), address width WAddress (default 4) and content width WContent (default 8). */
  N?: number;
  WAddress?: number;
  WContent?: number;
  /** Controller units (default 32). */
  NController?: number;
  seed?: number;
}

/** The paper's moving average of the write logits: v = DECAY v₋₁ + (1 − DECAY) z^w. */
const DECAY = 0.1;


/** A head's logits z[i] = β K(k, M[i]) over the whole slots [a_i; c_i], key and strength from h. */
function logits(h: Tensor, M: Tensor): Tensor {
  const k = named("k", linear(h, "k", "WAddress+WContent"));
  const beta = named("β", softplus(linear(h, "beta", "1")));
  return named("z", mul(beta, cosine(M, reshape(k, ["B", 1, "WAddress+WContent"]))));
}

/**
 * Dynamic NTM (soft addressing, feed-forward controller) with one read and one write head over
 * learned addresses A [N, WAddress] and contents C [B, N, WContent].
 *
 * @example
 * const net = zoo.dynamicNtm({ N: 16, WAddress: 4, WContent: 8 });
 * const { outputs, trace } = await net.run({ x });   // x [B, SeqLen, NInput]
 * trace.get("dynamicNtm/write/w");                    // the LRU write weighting at every step: [SeqLen, B, N]
 * net.params["dynamicNtm/A"];                         // the learned address vectors [N, WAddress]
 */
export const dynamicNtm = entry<DynamicNtmOptions>(
  "dynamicNtm",
  {
    title: "Dynamic Neural Turing Machine",
    citation: "Gulcehre, Chandar, Cho & Bengio, Dynamic Neural Turing Machine with Continuous and Discrete Addressing Schemes, arXiv:1607.00036, 2016",
    year: 2016,
    family: "memory",
    parents: ["ntm"],
  },
  { NInput: 8, NOutput: 8, N: 16, WAddress: 4, WContent: 8, NController: 32, seed: 0 },
  (o): Model => {
    const sizes = sizeOptions("dynamicNtm", o, ["NInput", "NOutput", "N", "WAddress", "WContent", "NController"], { N: 2 });
    return model(
      "DynamicNTM",
      sizes,
      () => {
        const xs = input("x", ["B", "SeqLen", "NInput"]);
        // Contents start empty, the controller at rest, the write logits' average at zero.
        const state = {
          C: named("C0", fill(["B", "N", "WContent"], 0)),
          h: named("h0", fill(["B", "NController"], 0)),
          v: named("v0", fill(["B", "N"], 0)),
        };
        const { out } = scan(
          "dynamicNtm",
          { x: xs },
          state,
          ({ x }, { C, h, v }) => {
            // The memory: every sequence's contents beside the same learned addresses.
            const A = param("A", ["N", "WAddress"], { init: inits.glorot() });
            const M = named("M", concat([add(fill(["B", "N", "WAddress"], 0), A), C], -1));
            // Read with the previous controller state, then update the controller.
            const { r } = block("read", "Head", () => {
              const w = named("w", softmax(logits(h, M), "N"));
              return { r: named("r", reshape(matmul(reshape(w, ["B", 1, "N"]), M), ["B", "WAddress+WContent"])) };
            });
            const hn = controller([x, r], "NInput+WAddress+WContent");
            // Write with LRU addressing: content logits minus γ times their recent average.
            const { w, vn } = block("write", "LruHead", () => {
              const z = logits(hn, M);
              const gamma = named("γ", sigmoid(linear(hn, "gamma", "1")));
              const w = named("w", softmax(sub(z, mul(gamma, v)), "N"));
              return { w, vn: named("v", add(mul(DECAY, v), mul(1 - DECAY, z))) };
            });
            const Cn = block("memory", "Memory", () => {
              const e = named("e", sigmoid(linear(hn, "e", "WContent")));
              const c = named("c", relu(linear(hn, "c", "WContent")));
              return named("C", add(mul(C, sub(1, outer(w, e))), outer(w, c)));
            });
            const y = block("output", "Readout", () => named("y", add(matmul(hn, param("W", ["NController", "NOutput"])), param("b", ["NOutput"]))));
            return { state: { C: Cn, h: hn, v: vn }, out: { y } };
          },
          { kind: "DynamicNTM" },
        );
        return { y: out.y };
      },
      { seed: o.seed },
    );
  },
);
