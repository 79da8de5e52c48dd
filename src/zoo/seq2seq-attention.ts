/**
 * Encoder–decoder with additive attention (Bahdanau, Cho & Bengio 2015), small: a tanh RNN encoder
 * over the source, then a decoder scan whose body reads all the encoder's states at every step.
 */
import { add, block, concat, input, losses, matmul, model, named, param, reshape, scan, softmax, tanh, zeros, type Tensor } from "../lang";
import { errors } from "../errors";
import { entry, whole } from "./entry";
import { rnnLayer } from "./rnns";

/** Sizes of {@link seq2seqAttention}. */
export interface Seq2SeqAttentionOptions {
  /** Size of a source step's vector. */
  NIn?: number;
  /** Size of a target step's vector (the decoder's input, teacher-forced, and its output scores). */
  NOut?: number;
  /** Encoder and decoder state size. */
  NHidden?: number;
  /** Size of the attention's hidden layer. */
  NAttention?: number;
  /**
   * The training form (default false): adds an int input `targets` [B, T] (the class of each
   * target step among NOut) and a scalar output `loss`, the cross-entropy of the scores `o`
   * against it (`nn.losses.crossEntropy`). The other inputs and outputs are unchanged.
   */
  loss?: boolean;
  /**
   * The decoder's first state (default "encoder"): the encoder's last state, or "zeros" — then all
   * the decoder learns of the source reaches it through the attention.
   */
  start?: "encoder" | "zeros";
  seed?: number;
}

/**
 * Sequence to sequence with additive attention. The encoder's states E [B, S, NHidden] are keyed
 * once (K = E U_a); at each decoder step t, from the previous state s:
 *
 *     eₜ = tanh(K + s W_a) v_a         scores over the S source steps   [B, S]
 *     αₜ = softmax_S(eₜ)               attention weights                [B, S]
 *     cₜ = αₜ E                        context                          [B, NHidden]
 *     sₜ = tanh([yₜ₋₁; cₜ] W + s U + b),   oₜ = sₜ W_o + b_o
 *
 * Inputs `src` [B, S, NIn] and `tgt` [B, T, NOut] (the decoder's inputs: the previous target
 * steps); outputs `o` [B, T, NOut] and the attention matrix `alpha` [B, T, S]. In the trace,
 * `decoder/alpha` is [T, B, S]: one row of weights per decoder step.
 *
 * @example
 * const m = zoo.seq2seqAttention({ NIn: 4, NOut: 4, NHidden: 16, NAttention: 8 });
 * const { outputs, trace } = await m.run({ src, tgt });  // src [1, 6, 4], tgt [1, 5, 4]
 * trace.get("decoder/alpha").shape;                      // [5, 1, 6]
 */
export const seq2seqAttention = entry<Seq2SeqAttentionOptions>(
  "seq2seqAttention",
  {
    title: "Sequence to sequence with additive attention",
    citation: "Bahdanau, Cho & Bengio, Neural machine translation by jointly learning to align and translate, ICLR 2015",
    year: 2015,
    family: "attention",
    parents: ["timeRnn"],
  },
  { NIn: 4, NOut: 4, NHidden: 16, NAttention: 8, loss: false, start: "encoder", seed: 0 },
  (o) => {
    if (typeof o.loss !== "boolean") throw errors.badOption("loss of zoo.seq2seqAttention", o.loss, "true (add the input targets and the output loss) or false");
    if (o.start !== "encoder" && o.start !== "zeros") throw errors.badOption("start of zoo.seq2seqAttention", o.start, `"encoder" (the decoder starts from the encoder's last state) or "zeros"`);
    const sizes = Object.fromEntries((["NIn", "NOut", "NHidden", "NAttention"] as const).map((k) => [k, whole("seq2seqAttention", k, o[k])]));
    return model(
      "Seq2SeqAttention",
      sizes,
      () => {
        const src = input("src", ["B", "S", "NIn"]);
        const tgt = input("tgt", ["B", "T", "NOut"]);
        const { hs: E, hN } = rnnLayer("encoder", src, "NIn", "NHidden");
        const K = block("keys", "Linear", () => named("K", matmul(E, param("U_a", ["NHidden", "NAttention"]))));
        const { out } = scan(
          "decoder",
          { y: tgt },
          { s: o.start === "encoder" ? hN : zeros(["B", "NHidden"]) },
          ({ y }, { s }) => {
            const q = named("q", reshape(matmul(s, param("W_a", ["NHidden", "NAttention"])), ["B", 1, "NAttention"]));
            const e = named("e", reshape(matmul(tanh(add(K, q)), param("v_a", ["NAttention", 1])), ["B", "S"]));
            const alpha = named("alpha", softmax(e, "S"));
            const c = named("c", reshape(matmul(reshape(alpha, ["B", 1, "S"]), E), ["B", "NHidden"]));
            const W = param("W", ["NOut+NHidden", "NHidden"]);
            const sn = named("s", tanh(add(add(matmul(concat([y, c], -1), W), matmul(s, param("U", ["NHidden", "NHidden"]))), param("b", ["NHidden"]))));
            const on = named("o", add(matmul(sn, param("W_o", ["NHidden", "NOut"])), param("b_o", ["NOut"])));
            return { state: { s: sn }, out: { alpha, o: on } };
          },
          { kind: "AttentionDecoder" },
        );
        const outputs: Record<string, Tensor> = { o: out.o, alpha: out.alpha };
        if (!o.loss) return outputs;
        return { ...outputs, loss: losses.crossEntropy(out.o, input("targets", ["B", "T"], { dtype: "int" }), "NOut") };
      },
      { seed: o.seed },
    );
  },
);

