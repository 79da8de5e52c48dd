/**
 * The recurrent models of the Graphviz architecture reference: TimeRNN (a stack of RNN cells and a
 * linear head over every step) and the NLP RNN (word ids → embedding → RNN cells → output through
 * the embedding's transpose). Each layer is a scan over time of PyTorch's nn.RNN step.
 */
import { add, embedding, input, losses, matmul, model, named, param, scan, softmax, transpose, tanh, zeros, block, type Tensor } from "../lang";
import { errors } from "../errors";
import { entry, whole } from "./entry";

/**
 * One tanh RNN layer over a sequence `[B, SeqLen, In]`, as PyTorch's nn.RNN computes it (two
 * biases, so parameter counts match): hₜ = tanh(xₜ W_ih + b_ih + hₜ₋₁ W_hh + b_hh), h₀ = 0.
 * Weights are stored [In, H] (PyTorch's weight_ih_l0 transposed). Returns hₜ stacked, `hs`
 * `[B, SeqLen, H]`, and the last state `hN` `[B, H]`.
 */
export function rnnLayer(name: string, xs: Tensor, inSize: string, hidden: string): { hs: Tensor; hN: Tensor } {
  const { out, final } = scan(
    name,
    { x: xs },
    { h: zeros(["B", hidden]) },
    ({ x }, { h }) => {
      const W_ih = param("W_ih", [inSize, hidden]);
      const b_ih = param("b_ih", [hidden]);
      const W_hh = param("W_hh", [hidden, hidden]);
      const b_hh = param("b_hh", [hidden]);
      const hn = named("h", tanh(add(add(matmul(x, W_ih), b_ih), add(matmul(h, W_hh), b_hh))));
      return { state: { h: hn }, out: { h: hn } };
    },
    { kind: "RNNCell" },
  );
  return { hs: out.h, hN: final.h };
}

/** A linear layer over the last axis: y = x W + b, `[…, In]` → `[…, Out]` (PyTorch's nn.Linear, W stored transposed). */
export function linear(name: string, x: Tensor, inSize: string, outSize: string): Tensor {
  return block(name, "Linear", () => named("y", add(matmul(x, param("W", [inSize, outSize])), param("b", [outSize]))));
}

/** Sizes of {@link timeRnn}, named as in the reference's listing. */
export interface TimeRnnOptions {
  NFeature?: number;
  NHidden?: number;
  /** RNN layers (≥ 1). */
  NLayers?: number;
  NLabels?: number;
  /** Seed of the initial weights (default 0). */
  seed?: number;
}

/**
 * The reference's TimeRNN: [B, SeqLen, NFeature] → RNNCell₁ [NFeature, NHidden] → RNNCell ×
 * (NLayers − 1) → [B, SeqLen, NHidden] → Linear [NHidden, NLabels] → [B, SeqLen, NLabels]: a label
 * score at every step. The cells are tanh RNN cells: the reference draws its RNN cell with a
 * sigmoid, an erratum (an RNN cell is tanh, or relu; see CELLS.md, "Errata").
 *
 * @example
 * const m = zoo.timeRnn({ NFeature: 8, NHidden: 32, NLayers: 2, NLabels: 4 });
 * m.summary({ B: 1, SeqLen: 7 }).rows.map((r) => r.shape); // [1,7,8] [1,7,32] [1,7,32] [1,7,4]
 */
export const timeRnn = entry<TimeRnnOptions>(
  "timeRnn",
  { title: "TimeRNN", citation: "The Graphviz architecture reference (TimeRNN); after Elman, Finding structure in time, Cognitive Science 1990", year: 1990, family: "rnn", parents: [] },
  { NFeature: 8, NHidden: 32, NLayers: 2, NLabels: 4, seed: 0 },
  (o) => {
    const sizes = { NFeature: whole("timeRnn", "NFeature", o.NFeature), NHidden: whole("timeRnn", "NHidden", o.NHidden), NLabels: whole("timeRnn", "NLabels", o.NLabels) };
    const layers = whole("timeRnn", "NLayers", o.NLayers);
    return model(
      "TimeRNN",
      sizes,
      () => {
        let h = rnnLayer("rnn1", input("x", ["B", "SeqLen", "NFeature"]), "NFeature", "NHidden").hs;
        for (let l = 2; l <= layers; l++) h = rnnLayer(`rnn${l}`, h, "NHidden", "NHidden").hs;
        return { y: linear("linear", h, "NHidden", "NLabels") };
      },
      { seed: o.seed },
    );
  },
);

/** Sizes of {@link nlpRnn}, named as in the reference's listing. */
export interface NlpRnnOptions {
  VocabSize?: number;
  NHidden?: number;
  NLayers?: number;
  /**
   * The training form (default false): adds an int input `next` [B, SeqLen] (the id that follows
   * each input id) and a scalar output `loss`, the cross-entropy of the logits against it
   * (`nn.losses.crossEntropy`). The reference's input and output `p` are unchanged.
   */
  loss?: boolean;
  seed?: number;
}

/**
 * The reference's NLP RNN: word ids [B, SeqLen] → Embedding [VocabSize, NHidden] → RNNCell ×
 * NLayers → `@ Embedding.wᵀ` → softmax: word probabilities [B, SeqLen, VocabSize]. The output
 * weight is the embedding itself (one parameter used twice: weight tying, Press & Wolf 2017), so
 * it cannot untie and is counted once.
 *
 * @example
 * const m = zoo.nlpRnn({ VocabSize: 50, NHidden: 16, NLayers: 2 });
 * const { outputs } = await m.run({ ids: [[3, 1, 4, 1]] });
 * outputs.p.shape; // [1, 4, 50]
 *
 * // Trained as a language model: predict each next id.
 * const lm = zoo.nlpRnn({ VocabSize: 50, NHidden: 16, loss: true });
 * const run = await lm.run({ ids: [[3, 1, 4]], next: [[1, 4, 1]] });
 * lm.backward(run, { loss: 1 }).params["embedding/w"]; // one gradient for both uses
 */
export const nlpRnn = entry<NlpRnnOptions>(
  "nlpRnn",
  {
    title: "NLP RNN with tied embedding",
    citation: "The Graphviz architecture reference (NLP RNN); weight tying: Press & Wolf, Using the output embedding to improve language models, EACL 2017",
    year: 2017,
    family: "rnn",
    parents: ["timeRnn"],
  },
  { VocabSize: 1000, NHidden: 64, NLayers: 2, loss: false, seed: 0 },
  (o) => {
    if (typeof o.loss !== "boolean") throw errors.badOption("loss of zoo.nlpRnn", o.loss, "true (add the input next and the output loss) or false");
    const sizes = { VocabSize: whole("nlpRnn", "VocabSize", o.VocabSize), NHidden: whole("nlpRnn", "NHidden", o.NHidden) };
    const layers = whole("nlpRnn", "NLayers", o.NLayers);
    return model(
      "NLPRNN",
      sizes,
      () => {
        const ids = input("ids", ["B", "SeqLen"], { dtype: "int" });
        const { E, x } = block("embedding", "Embedding", () => {
          const w = param("w", ["VocabSize", "NHidden"]);
          return { E: w, x: named("x", embedding(w, ids)) };
        });
        let h = x;
        for (let l = 1; l <= layers; l++) h = rnnLayer(`rnn${l}`, h, "NHidden", "NHidden").hs;
        const logits = block("out", "TiedLinear", () => named("logits", matmul(h, named("wT", transpose(E)))));
        const p = named("p", softmax(logits, "VocabSize"));
        if (!o.loss) return { p } as Record<string, Tensor>;
        return { p, loss: losses.crossEntropy(logits, input("next", ["B", "SeqLen"], { dtype: "int" }), "VocabSize") };
      },
      { seed: o.seed },
    );
  },
);
