/**
 * End-to-end memory network (Sukhbaatar, Szlam, Weston & Fergus 2015): a story's sentences are
 * embedded into memories, a question into a controller state u, and K hops of soft attention read
 * the memories, each hop adding what it read to u; the answer is one word.
 */
import { add, block, inits, embedding, input, matmul, model, mul, named, oneHot, param, reshape, slice, softmax, sub, sum, transpose, type Model, type Tensor } from "../lang";
import { errors } from "../errors";
import { BABI_SENTENCE_WORDS, BABI_VOCAB } from "./babi";
import { entry, whole } from "./entry";

/** The paper's initialisation: Gaussian, σ = 0.1. */
const normal = inits.normal(0.1);

/** Options of {@link memN2N}. */
export interface MemN2NOptions {
  /** Words in the vocabulary, id 0 the padding word `<nil>` (default: the bAbI toy task's, 19). */
  VocabSize?: number;
  /** Embedding size d (default 20, the paper's). */
  NEmbed?: number;
  /** Sentences in memory (default 4, the toy task's default story length). */
  NMemory?: number;
  /** Words per sentence and per question, padded with id 0 (default 5). */
  NWords?: number;
  /** Hops K (default 3, the paper's). */
  hops?: number;
  /** Position encoding (§4.1): words weighted by their place in the sentence; false: a bag of words (default true). */
  positionEncoding?: boolean;
  /** Temporal encoding (§4.1): a learned vector per memory slot added to its memory (default true; the toy task needs order). */
  temporal?: boolean;
  seed?: number;
}

/** The paper's position encoding l_kj = (1 − j/J) − (k/d)(1 − 2j/J), word j of J, dimension k of d (both from 1): stored [J, d]. */
export function positionEncoding(J: number, d: number): { shape: number[]; data: Float64Array } {
  const data = new Float64Array(J * d);
  for (let j = 1; j <= J; j++) for (let k = 1; k <= d; k++) data[(j - 1) * d + (k - 1)] = 1 - j / J - (k / d) * (1 - (2 * j) / J);
  return { shape: [J, d], data };
}

/**
 * End-to-end memory network with K hops and adjacent weight tying (§2.2): the embeddings are
 * B = A¹ (question), and Aᵏ⁺¹ = Cᵏ, W = Cᴷᵀ (answer), so there are K + 1 embedding matrices.
 * With word ids `story` [B, NMemory, NWords] and `query` [B, NWords] (0 = padding, whose
 * embedding is masked to zero as the paper's null symbol):
 *
 *     mᵢ = Σⱼ lⱼ ⊙ Aᵏ xᵢⱼ + T_Aᵏ(i),  cᵢ = Σⱼ lⱼ ⊙ Cᵏ xᵢⱼ + T_Cᵏ(i)   memories [B, NMemory, NEmbed]
 *     u¹ = Σⱼ lⱼ ⊙ B qⱼ                                            the question [B, NEmbed]
 *     pᵏ = softmax(mᵢ · uᵏ),  oᵏ = Σᵢ pᵏᵢ cᵢ,  uᵏ⁺¹ = uᵏ + oᵏ            each hop
 *     â = softmax(W uᴷ⁺¹)                                           the answer [B, VocabSize]
 *
 * In the trace, `hop1/p` … `hopK/p` are each hop's attention over the memories.
 *
 * @example
 * const task = zoo.babi({ count: 8, seed: 1 });
 * const net = zoo.memN2N({ hops: 3 });
 * const { outputs, trace } = await net.run({ story: task.story, query: task.query });
 * trace.get("hop1/p");   // [8, 4]: the first hop's attention over the 4 sentences
 */
export const memN2N = entry<MemN2NOptions>(
  "memN2N",
  {
    title: "End-to-end memory network",
    citation: "Sukhbaatar, Szlam, Weston & Fergus, End-to-end memory networks, NeurIPS 2015",
    year: 2015,
    family: "memory",
    parents: ["ntm"],
  },
  { VocabSize: BABI_VOCAB.length, NEmbed: 20, NMemory: 4, NWords: BABI_SENTENCE_WORDS, hops: 3, positionEncoding: true, temporal: true, seed: 0 },
  (o): Model => {
    const sizes = Object.fromEntries((["VocabSize", "NEmbed", "NMemory", "NWords"] as const).map((k) => [k, whole("memN2N", k, o[k], k === "VocabSize" ? 2 : 1)]));
    const hops = whole("memN2N", "hops", o.hops);
    for (const k of ["positionEncoding", "temporal"] as const) if (typeof o[k] !== "boolean") throw errors.badOption(`${k} of zoo.memN2N`, o[k], "true or false");
    return model(
      "MemN2N",
      sizes,
      () => {
        const story = input("story", ["B", "NMemory", "NWords"], { dtype: "int" });
        const query = input("query", ["B", "NWords"], { dtype: "int" });
        let l: Tensor | undefined;
        /** Σⱼ lⱼ ⊙ E xⱼ over a sentence's words, the padding word's embedding masked to zero. */
        const encode = (E: Tensor, ids: Tensor) => {
          const keep = sub(1, slice(oneHot(ids, sizes.VocabSize), -1, 0, 1));
          const words = mul(embedding(E, ids), keep);
          return sum(l ? mul(words, l) : words, "NWords");
        };
        const question = block("question", "Embedding", () => {
          if (o.positionEncoding) l = param("l", ["NWords", "NEmbed"], { kind: "constant", init: (shape) => positionEncoding(shape[0], shape[1]) });
          const B = param("B", ["VocabSize", "NEmbed"], { init: normal });
          return { B, u: named("u", encode(B, query)) };
        });
        // Adjacent tying: hop 1 reads with A¹ = B, hop k + 1 with Aᵏ⁺¹ = Cᵏ (and T_Aᵏ⁺¹ = T_Cᵏ).
        let [A, u] = [question.B, question.u];
        let T_A: Tensor | undefined;
        for (let k = 1; k <= hops; k++) {
          const out = block(`hop${k}`, "Hop", () => {
            if (o.temporal && k === 1) T_A = param("T_A", ["NMemory", "NEmbed"], { init: normal });
            const C = param("C", ["VocabSize", "NEmbed"], { init: normal });
            const T_C = o.temporal ? param("T_C", ["NMemory", "NEmbed"], { init: normal }) : undefined;
            const m = named("m", T_A ? add(encode(A, story), T_A) : encode(A, story));
            const c = named("c", T_C ? add(encode(C, story), T_C) : encode(C, story));
            const p = named("p", softmax(reshape(matmul(m, reshape(u, ["B", "NEmbed", 1])), ["B", "NMemory"]), "NMemory"));
            const read = named("o", reshape(matmul(reshape(p, ["B", 1, "NMemory"]), c), ["B", "NEmbed"]));
            return { C, T_C, u: named("u", add(u, read)) };
          });
          [A, T_A, u] = [out.C, out.T_C, out.u];
        }
        const logits = block("answer", "TiedLinear", () => named("logits", matmul(u, named("W", transpose(A))))); // W = Cᴷᵀ
        return { answer: named("a", softmax(logits, "VocabSize")) };
      },
      { seed: o.seed },
    );
  },
);
