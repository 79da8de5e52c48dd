/**
 * Differentiable Neural Computer (Graves et al. 2016, Nature 538, "Hybrid computing using a neural
 * network with dynamic external memory", Methods). A controller emits an interface vector that
 * drives one write head and R read heads over memory M [B, N, W]; besides content lookup, the
 * memory keeps how much each slot is used (for allocating free slots) and in what order slots were
 * written (for reading them forwards or backwards in time):
 *
 *     retention   ψ = Π_i (1 − f^i ⊙ w^{r,i}₋₁)                          free gates f^i ∈ (0, 1)
 *     usage       u = (u₋₁ + w^w₋₁ − u₋₁ ⊙ w^w₋₁) ⊙ ψ
 *     allocation  a[φ_j] = (1 − u[φ_j]) Π_{i<j} u[φ_i]                   φ: slots by ascending usage
 *     write       w^w = g^w (g^a a + (1 − g^a) C(M₋₁, k^w, β^w))          C = softmax_N(β cos(M, k))
 *     memory      M = M₋₁ ⊙ (1 − w^w eᵀ) + w^w vᵀ                        erase e, write vector v
 *     link        L[i, j] = (1 − w^w[i] − w^w[j]) L₋₁[i, j] + w^w[i] p₋₁[j],  L[i, i] = 0
 *     precedence  p = (1 − Σ w^w) p₋₁ + w^w
 *     read        w^{r,i} = π^i₁ Lᵀ w^{r,i}₋₁ + π^i₂ C(M, k^{r,i}, β^{r,i}) + π^i₃ L w^{r,i}₋₁   (backward, content, forward)
 *                 r^i = Mᵀ w^{r,i}
 *
 * The allocation is computed without a sort: slot m comes before slot n in the free list φ when
 * u[m] < u[n], or u[m] = u[n] and m < n (ties in slot order, as a stable sort puts them), so
 * a[n] = (1 − u[n]) Π_{m before n} u[m] — the same product over a pairwise "comes before" mask
 * [B, N, N] built with `where`, and Π as exp Σ log. As in DeepMind's implementation, the usage is
 * lifted to ε + (1 − ε) u (ε = 10⁻⁶) inside the allocation, so no factor is 0. Like any float32
 * DNC, the fast interpreter cannot tell apart usages closer than float32's resolution (after the
 * first step, the unused slots' usages differ only by the allocation's ε² … ε^N tail): those tie
 * and go in slot order, where the float64 reference still orders them.
 *
 * The controller here is one tanh layer over [x_t, r¹₋₁ … r^R₋₁] (the paper uses an LSTM; the
 * interface is the same), and the output is y = [h, r¹ … r^R] W_y + b_y (the paper's υ + W_r r).
 * The interface's parts are each a linear map of h, in the blocks that use them: RW + 5R + 3W + 3
 * numbers per step, as in the paper.
 */
import { add, block, concat, constant, cosine, exp, fill, input, log, matmul, model, mul, named, neg, outer, param, relu, reshape, scan, sigmoid, slice, softmax, softplus, sub, sum, transpose, where, type Model, type Tensor } from "../lang";
import { entry, sizeOptions } from "./entry";
import { controller, linear } from "./memory-parts";

/** Options of {@link dnc}. */
export interface DncOptions {
  /** Input and output width per step (default 8). */
  NInput?: number;
  NOutput?: number;
  /** Memory slots N and width W (default 16 × 8). */
  N?: number;
  W?: number;
  /** Read heads R (default 2). */
  R?: number;
  /** Controller units (default 32). */
  NController?: number;
  seed?: number;
}

/** The usage floor inside the allocation (DeepMind's dnc/addressing.py). */
const EPSILON = 1e-6;

/** The paper's oneplus: 1 + softplus, a key strength ≥ 1. */
const oneplus = (x: Tensor) => add(1, softplus(x));
/** A constant N × N matrix [i, j] ↦ f(i, j), as a tensor of symbolic shape [N, N]. */
function nByN(N: number, f: (i: number, j: number) => number): Tensor {
  const data = new Float64Array(N * N);
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) data[i * N + j] = f(i, j);
  return reshape(constant({ shape: [N * N], data }), ["N", "N"]);
}

/**
 * Usage-based allocation from the usage u [B, N] (sort-free; see the module's doc): a [B, N],
 * non-negative and summing to 1 − Π_n u[n] ≤ 1.
 */
function allocation(u: Tensor, N: number): Tensor {
  const lifted = named("û", add(EPSILON, mul(1 - EPSILON, u)));
  const d = sub(reshape(lifted, ["B", "N", 1]), reshape(lifted, ["B", 1, "N"])); // d[b, n, m] = û[n] − û[m]
  // before[b, n, m] = 1 when slot m comes before slot n in the free list (relu(d) is nonzero exactly
  // where û[n] > û[m], relu(−d) where û[n] < û[m]; equal usages fall to slot order).
  const before = named("before", where(relu(d), 1, where(relu(neg(d)), 0, nByN(N, (n, m) => (m < n ? 1 : 0)))));
  const product = exp(sum(log(where(before, reshape(lifted, ["B", 1, "N"]), 1)), -1));
  return named("a", mul(sub(1, lifted), product));
}

/** Content weighting C(M, k, β) = softmax_N(β cos(M[n], k)) for the read heads' keys k [B, R, W] and strengths β [B, R, 1]: [B, R, N]. */
const content = (M: Tensor, k: Tensor, beta: Tensor) => softmax(mul(beta, cosine(reshape(M, ["B", 1, "N", "W"]), reshape(k, ["B", "R", 1, "W"]))), "N");

/**
 * Differentiable Neural Computer with one write head and R read heads over memory M [B, N, W].
 *
 * @example
 * const net = zoo.dnc({ N: 16, W: 8, R: 2 });
 * const { outputs, trace } = await net.run({ x });   // x [B, SeqLen, NInput]
 * trace.get("dnc/write/w");                           // the write weighting at every step: [SeqLen, B, N]
 * trace.get("dnc/read/w");                            // the read weightings: [SeqLen, B, R, N]
 * trace.get("dnc/link/L");                            // the temporal link matrix: [SeqLen, B, N, N]
 */
export const dnc = entry<DncOptions>(
  "dnc",
  {
    title: "Differentiable Neural Computer",
    citation: "Graves, Wayne, Reynolds, Harley, Danihelka et al., Hybrid computing using a neural network with dynamic external memory, Nature 538, 2016",
    year: 2016,
    family: "memory",
    parents: ["ntm"],
  },
  { NInput: 8, NOutput: 8, N: 16, W: 8, R: 2, NController: 32, seed: 0 },
  (o): Model => {
    const sizes = sizeOptions("dnc", o, ["NInput", "NOutput", "N", "W", "R", "NController"], { N: 2 });
    const { N, R } = sizes;
    return model(
      "DNC",
      sizes,
      () => {
        const xs = input("x", ["B", "SeqLen", "NInput"]);
        // Everything starts at zero: empty memory, nothing used, written or read, no links.
        const state = {
          M: named("M0", fill(["B", "N", "W"], 0)),
          r: named("r0", fill(["B", "R", "W"], 0)),
          wr: named("wr0", fill(["B", "R", "N"], 0)),
          ww: named("ww0", fill(["B", "N"], 0)),
          u: named("u0", fill(["B", "N"], 0)),
          p: named("p0", fill(["B", "N"], 0)),
          L: named("L0", fill(["B", "N", "N"], 0)),
        };
        const { out } = scan(
          "dnc",
          { x: xs },
          state,
          ({ x }, { M, r, wr, ww, u, p, L }) => {
            const h = controller([x, reshape(r, ["B", "R*W"])], "NInput+R*W");
            // Usage: what the last step wrote is used; what the read heads free (f^i on what they read) is not.
            const un = block("usage", "Usage", () => {
              const f = named("f", sigmoid(linear(h, "f", "R")));
              const kept = (i: number) => sub(1, mul(slice(f, -1, i, 1), reshape(slice(wr, "R", i, 1), ["B", "N"])));
              let psi = kept(0);
              for (let i = 1; i < R; i++) psi = mul(psi, kept(i));
              psi = named("ψ", psi);
              return named("u", mul(sub(add(u, ww), mul(u, ww)), psi));
            });
            // Write: allocation or content, gated; then erase and add.
            const w = block("write", "WriteHead", () => {
              const a = allocation(un, N);
              const k = named("k", linear(h, "k", "W"));
              const beta = named("β", oneplus(linear(h, "beta", "1")));
              const ga = named("g_a", sigmoid(linear(h, "ga", "1")));
              const gw = named("g_w", sigmoid(linear(h, "gw", "1")));
              const c = named("c", softmax(mul(beta, cosine(M, reshape(k, ["B", 1, "W"]))), "N"));
              return named("w", mul(gw, add(mul(ga, a), mul(sub(1, ga), c))));
            });
            const Mn = block("memory", "Memory", () => {
              const e = named("e", sigmoid(linear(h, "e", "W")));
              const v = named("v", linear(h, "v", "W"));
              return named("M", add(mul(M, sub(1, outer(w, e))), outer(w, v)));
            });
            // Temporal links: L[i, j] is how much slot i was written right after slot j.
            const { Ln, pn } = block("link", "TemporalLink", () => {
              const keep = sub(sub(1, reshape(w, ["B", "N", 1])), reshape(w, ["B", 1, "N"]));
              const Ln = named("L", mul(add(mul(keep, L), outer(w, p)), nByN(N, (i, j) => (i === j ? 0 : 1))));
              const pn = named("p", add(mul(sub(1, reshape(sum(w, "N"), ["B", 1])), p), w));
              return { Ln, pn };
            });
            // Read: each head mixes backward, content and forward weightings by its read modes π.
            const { wRead, rn } = block("read", "ReadHeads", () => {
              const k = named("k", reshape(linear(h, "k", "R*W"), ["B", "R", "W"]));
              const beta = named("β", reshape(oneplus(linear(h, "beta", "R")), ["B", "R", 1]));
              const pi = named("π", softmax(reshape(linear(h, "pi", "R*3"), ["B", "R", 3]), -1));
              const c = named("c", content(Mn, k, beta));
              const fwd = named("f", matmul(wr, transpose(Ln)));
              const bwd = named("b", matmul(wr, Ln));
              const wRead = named("w", add(add(mul(slice(pi, -1, 0, 1), bwd), mul(slice(pi, -1, 1, 1), c)), mul(slice(pi, -1, 2, 1), fwd)));
              return { wRead, rn: named("r", matmul(wRead, Mn)) };
            });
            const y = block("output", "Readout", () =>
              named("y", add(matmul(concat([h, reshape(rn, ["B", "R*W"])], -1), param("W", ["NController+R*W", "NOutput"])), param("b", ["NOutput"]))),
            );
            return { state: { M: Mn, r: rn, wr: wRead, ww: w, u: un, p: pn, L: Ln }, out: { y } };
          },
          { kind: "DNC" },
        );
        return { y: out.y };
      },
      { seed: o.seed },
    );
  },
);
