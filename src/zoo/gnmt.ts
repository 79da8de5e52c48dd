/**
 * A GNMT-style stack (Wu et al. 2016, Google's neural machine translation system, §3) at small
 * sizes: deep LSTM encoder and decoder with residual connections, a bidirectional bottom encoder
 * layer, and an attention network driven by the bottom decoder layer whose context feeds every
 * decoder layer.
 */
import { add, block, concat, input, matmul, model, mul, named, param, reshape, scan, sigmoid, softmax, tanh, zeros, type Model, type Tensor } from "../lang";
import { entry, whole } from "./entry";

/** Options of {@link gnmt}. */
export interface GnmtOptions {
  /** Size of a source step's vector. */
  NIn?: number;
  /** Size of a target step's vector (the decoder's teacher-forced input, and its output scores). */
  NOut?: number;
  /** LSTM state size of every layer (each direction of the bidirectional bottom layer too). */
  NHidden?: number;
  /** Size of the attention network's hidden layer. */
  NAttention?: number;
  /** Encoder layers, the bidirectional one included (default 4; the paper's 8). */
  encoderLayers?: number;
  /** Decoder layers (default 4; the paper's 8). */
  decoderLayers?: number;
  seed?: number;
}

/**
 * One LSTM step in the current block: gates i, f, o = σ(x W + h U + b), candidate g = tanh(…),
 * c = f ⊙ c₋₁ + i ⊙ g, h = o ⊙ tanh(c). One weight pair and bias per gate (W [In, H], U [H, H], b [H]).
 */
function lstmStep(x: Tensor, h: Tensor, c: Tensor, inSize: string, hidden: string): { h: Tensor; c: Tensor } {
  const gate = (name: string, f: (t: Tensor) => Tensor) =>
    named(name, f(add(add(matmul(x, param(`W_${name}`, [inSize, hidden])), matmul(h, param(`U_${name}`, [hidden, hidden]))), param(`b_${name}`, [hidden]))));
  const i = gate("i", sigmoid);
  const f = gate("f", sigmoid);
  const g = gate("g", tanh);
  const o = gate("o", sigmoid);
  const cn = named("c", add(mul(f, c), mul(i, g)));
  return { h: named("h", mul(o, tanh(cn))), c: cn };
}

/** An LSTM layer over a sequence [B, S, In] (forward, or reversed) from a zero state: every step's h, [B, S, H]. */
function lstmLayer(name: string, xs: Tensor, inSize: string, hidden: string, zero: Tensor, reverse = false): Tensor {
  const { out } = scan(
    name,
    { x: xs },
    { h: zero, c: zero },
    ({ x }, { h, c }) => {
      const next = lstmStep(x, h, c, inSize, hidden);
      return { state: next, out: { h: next.h } };
    },
    { kind: "LSTM", reverse },
  );
  return out.h;
}

/**
 * GNMT-style encoder–decoder. Encoder: layer 1 is bidirectional (a forward and a reversed LSTM over
 * the source, their states concatenated: [B, S, 2·NHidden]); layer 2 reads that; layers 3… add
 * their input to their output (residual: xˡ⁺¹ = LSTMˡ(xˡ) + xˡ). Its top layer's states are E.
 * Decoder: one scan over the target steps carrying every layer's (h, c); at step i
 *
 *     eᵢ = tanh(E U_a + y¹ᵢ₋₁ W_a) v_a,  αᵢ = softmax_S(eᵢ),  aᵢ = αᵢ E    attention from the bottom layer's previous output
 *     y¹ᵢ = LSTM¹([tᵢ; aᵢ]),  yˡᵢ = LSTMˡ([yˡ⁻¹ᵢ; aᵢ]) (+ yˡ⁻¹ᵢ for l ≥ 3)   the context feeds every layer
 *     oᵢ = yᴸᵢ W_out + b_out
 *
 * Inputs `src` [B, S, NIn] and `tgt` [B, T, NOut] (the previous target steps); outputs `o`
 * [B, T, NOut] and the attention matrix `alpha` [B, T, S]. Each LSTM has one bias per gate
 * (PyTorch's nn.LSTM has two).
 *
 * @example
 * const m = zoo.gnmt({ NHidden: 16, encoderLayers: 4, decoderLayers: 4 });
 * const { outputs, trace } = await m.run({ src, tgt });   // src [1, 6, 4], tgt [1, 5, 4]
 * trace.get("decoder/alpha").shape;                       // [5, 1, 6]
 */
export const gnmt = entry<GnmtOptions>(
  "gnmt",
  {
    title: "GNMT stack (deep LSTM encoder–decoder with residuals and attention)",
    citation: "Wu et al., Google's neural machine translation system: bridging the gap between human and machine translation, arXiv:1609.08144, 2016",
    year: 2016,
    family: "attention",
    parents: ["seq2seqAttention"],
  },
  { NIn: 4, NOut: 4, NHidden: 16, NAttention: 8, encoderLayers: 4, decoderLayers: 4, seed: 0 },
  (o): Model => {
    const sizes = Object.fromEntries((["NIn", "NOut", "NHidden", "NAttention"] as const).map((k) => [k, whole("gnmt", k, o[k])]));
    const encoderLayers = whole("gnmt", "encoderLayers", o.encoderLayers, 2);
    const decoderLayers = whole("gnmt", "decoderLayers", o.decoderLayers);
    return model(
      "GNMT",
      sizes,
      () => {
        const src = input("src", ["B", "S", "NIn"]);
        const tgt = input("tgt", ["B", "T", "NOut"]);
        // One zero state [B, NHidden] starts every LSTM (one node in the diagram, not one per layer).
        const zero = zeros(["B", "NHidden"]);
        let x = block("encoder1", "BiLSTM", () => named("h", concat([lstmLayer("forward", src, "NIn", "NHidden", zero), lstmLayer("backward", src, "NIn", "NHidden", zero, true)], -1)));
        x = block("encoder2", "LSTM", () => named("h", lstmLayer("lstm", x, "2*NHidden", "NHidden", zero)));
        for (let l = 3; l <= encoderLayers; l++) {
          const below = x;
          x = block(`encoder${l}`, "ResidualLSTM", () => named("h", add(lstmLayer("lstm", below, "NHidden", "NHidden", zero), below)));
        }
        const E = x;
        const K = block("keys", "Linear", () => named("K", matmul(E, param("U_a", ["NHidden", "NAttention"]))));
        const layers = Array.from({ length: decoderLayers }, (_, i) => i + 1);
        const init = Object.fromEntries(layers.flatMap((l) => [[`h${l}`, zero], [`c${l}`, zero]]));
        const { out } = scan(
          "decoder",
          { t: tgt },
          init,
          ({ t }, prev) => {
            // Attention from the bottom layer's previous output over every encoder state.
            const q = named("q", reshape(matmul(prev.h1, param("W_a", ["NHidden", "NAttention"])), ["B", 1, "NAttention"]));
            const e = named("e", reshape(matmul(tanh(add(K, q)), param("v_a", ["NAttention", 1])), ["B", "S"]));
            const alpha = named("alpha", softmax(e, "S"));
            const a = named("a", reshape(matmul(reshape(alpha, ["B", 1, "S"]), E), ["B", "NHidden"]));
            const state: Record<string, Tensor> = {};
            let y = t;
            for (const l of layers) {
              const below = y;
              const next = block(`layer${l}`, l >= 3 ? "ResidualLSTMCell" : "LSTMCell", () => {
                const step = lstmStep(concat([below, a], -1), prev[`h${l}`], prev[`c${l}`], l === 1 ? "NOut+NHidden" : "2*NHidden", "NHidden");
                return { ...step, y: l >= 3 ? named("y", add(step.h, below)) : step.h };
              });
              state[`h${l}`] = next.h;
              state[`c${l}`] = next.c;
              y = next.y;
            }
            const on = named("o", add(matmul(y, param("W_out", ["NHidden", "NOut"])), param("b_out", ["NOut"])));
            return { state, out: { alpha, o: on } };
          },
          { kind: "GNMTDecoder" },
        );
        return { o: out.o, alpha: out.alpha };
      },
      { seed: o.seed },
    );
  },
);
