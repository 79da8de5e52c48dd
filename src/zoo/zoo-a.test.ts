/**
 * memN2N, gnmt and lsm: summary shapes and parameter counts worked out by hand, and each model's
 * computation against an independent plain-loop implementation written here from its paper, with
 * the model's own parameters; the bAbI-style generator's determinism and answers; the LSM's spikes,
 * resets and fitted readout.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import seedrandom from "seedrandom";
import { ArchlabError } from "../errors";
import type { Model } from "../lang";
import type { ND } from "../lang/nd";
import { tasks } from "../train/tasks";
import * as zoo from ".";

const sig = (x: number) => 1 / (1 + Math.exp(-x));
function softmax(v: number[]): number[] {
  const m = Math.max(...v);
  const e = v.map((x) => Math.exp(x - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}
/** Row `i` of a 2-D parameter. */
const row = (p: ND, i: number) => Array.from(p.data.subarray(i * p.shape[1], (i + 1) * p.shape[1]));
/** x W (+ b) for a row x and W [K, n]. */
function affine(x: number[], W: ND, b?: ND): number[] {
  const [K, n] = W.shape;
  return Array.from({ length: n }, (_, j) => {
    let s = b ? b.data[j] : 0;
    for (let k = 0; k < K; k++) s += x[k] * W.data[k * n + j];
    return s;
  });
}
const plus = (a: number[], b: number[]) => a.map((x, i) => x + b[i]);
/** Every parameter redrawn uniform on ±scale from a seeded stream (so attention is far from uniform). */
function randomise(m: Model, scale: number, seed: number) {
  const random = seedrandom(String(seed));
  for (const p of m.graph.params) if (p.attrs.kind !== "constant") m.graph.values.get(p)!.data.forEach((_, i, d) => (d[i] = (2 * random() - 1) * scale));
}
function close(got: ArrayLike<number>, want: number[], tol: number, what: string) {
  assert.equal(got.length, want.length, `${what}: length`);
  want.forEach((w, i) => assert.ok(Math.abs(got[i] - w) <= tol * Math.max(1, Math.abs(w)), `${what}[${i}] = ${got[i]}, plain loop ${w}`));
}
const rows = (m: Model, sizes: Record<string, number>) => m.summary(sizes).rows.map((r) => [r.name, r.op, r.shape, r.params]);

describe("zoo.babi: a seeded bAbI-style single-supporting-fact task", () => {
  it("is deterministic by seed: the same seed gives the same stories, another seed others", () => {
    assert.deepEqual(zoo.babi({ count: 20, seed: 3 }), zoo.babi({ count: 20, seed: 3 }));
    assert.notDeepEqual(zoo.babi({ count: 20, seed: 3 }).stories, zoo.babi({ count: 20, seed: 4 }).stories);
  });

  it("answers every question with the asked person's last place, read back from the text; the ids spell the text", () => {
    const task = zoo.babi({ count: 200, sentences: 5, seed: 1 });
    const words = (s: string) => s.toLowerCase().replace(/[.?]/g, "").split(" ");
    const spelled = (ids: readonly number[]) => ids.filter((i) => i !== 0).map((i) => task.vocab[i]);
    let sameAsLast = 0;
    task.stories.forEach((s, k) => {
      assert.equal(s.sentences.length, 5);
      const asked = words(s.question)[2];
      assert.deepEqual(words(s.question).slice(0, 2), ["where", "is"]);
      // The text alone: the last sentence that starts with the asked person names the answer.
      const mentions = s.sentences.map(words).filter((w) => w[0] === asked);
      assert.ok(mentions.length > 0, `story ${k}: ${asked} is in the story`);
      assert.equal(s.answer, mentions.at(-1)!.at(-1));
      assert.equal(task.vocab[task.answer[k]], s.answer);
      s.sentences.forEach((text, i) => assert.deepEqual(spelled(task.story[k][i]), words(text)));
      assert.deepEqual(spelled(task.query[k]), words(s.question));
      assert.ok(task.story[k].every((ids) => ids.length === zoo.BABI_SENTENCE_WORDS));
      if (s.answer === words(s.sentences.at(-1)!).at(-1)) sameAsLast++;
    });
    // The answer is not simply the last sentence's place (so the task needs attention to the right sentence).
    assert.ok(sameAsLast < 150, `${sameAsLast} of 200 answers are the last sentence's place`);
  });

  it("names a word outside the vocabulary", () => {
    assert.throws(() => zoo.babiIds("Bill went to the kitchen."), (e: unknown) => e instanceof ArchlabError && /Unknown word "bill"/.test(e.message));
  });
});

/** The memory network from Sukhbaatar et al. (2015) §2, as plain loops over one story, with the model's parameters. */
function memN2NLoop(p: Record<string, ND>, story: number[][], query: number[], o: { hops: number; position: boolean; temporal: boolean }) {
  const d = p["question/B"].shape[1];
  const J = query.length;
  // l_kj = (1 − j/J) − (k/d)(1 − 2j/J), j and k from 1 (§4.1); 1 for a bag of words.
  const l = (j: number, k: number) => (o.position ? 1 - (j + 1) / J - ((k + 1) / d) * (1 - (2 * (j + 1)) / J) : 1);
  const embed = (E: ND, ids: number[]) => {
    const out = new Array<number>(d).fill(0);
    ids.forEach((id, j) => id !== 0 && row(E, id).forEach((v, k) => (out[k] += l(j, k) * v)));
    return out;
  };
  let u = embed(p["question/B"], query);
  let A = p["question/B"];
  let TA = o.temporal ? p["hop1/T_A"] : undefined;
  const attention: number[][] = [];
  for (let k = 1; k <= o.hops; k++) {
    const C = p[`hop${k}/C`];
    const TC = o.temporal ? p[`hop${k}/T_C`] : undefined;
    const m = story.map((s, i) => (TA ? plus(embed(A, s), row(TA, i)) : embed(A, s)));
    const c = story.map((s, i) => (TC ? plus(embed(C, s), row(TC, i)) : embed(C, s)));
    const pk = softmax(m.map((mi) => mi.reduce((s, v, q) => s + v * u[q], 0)));
    const read = u.map((_, q) => c.reduce((s, ci, i) => s + pk[i] * ci[q], 0));
    u = plus(u, read);
    attention.push(pk);
    [A, TA] = [C, TC];
  }
  // â = softmax(W u), W = Cᴷᵀ.
  const answer = softmax(Array.from({ length: A.shape[0] }, (_, w) => row(A, w).reduce((s, v, q) => s + v * u[q], 0)));
  return { attention, answer };
}

describe("zoo.memN2N: K hops of attention over sentence memories, adjacent weight tying", () => {
  it("summary: shapes and parameter counts by hand — K + 1 embeddings V·d, temporal vectors M·d, the position encoding a constant", () => {
    const m = zoo.memN2N();
    const [V, d, M, J] = [19, 20, 4, 5];
    assert.deepEqual(rows(m, { B: 2 }), [
      ["story", "Input", [2, M, J], 0], ["query", "Input", [2, J], 0],
      ["question", "Embedding", [2, d], V * d],
      ["hop1", "Hop", [2, d], V * d + 2 * M * d], ["hop2", "Hop", [2, d], V * d + M * d], ["hop3", "Hop", [2, d], V * d + M * d],
      ["answer", "TiedLinear", [2, V], 0], ["a", "softmax", [2, V], 0],
    ]);
    const s = m.summary({ B: 1 });
    assert.equal(s.totalParams, 4 * V * d + 4 * M * d);
    assert.equal(s.constants, J * d);
    const bare = zoo.memN2N({ hops: 2, positionEncoding: false, temporal: false, VocabSize: 30, NEmbed: 8 }).summary({ B: 1 });
    assert.equal(bare.totalParams, 3 * 30 * 8);
    assert.equal(bare.constants, 0);
    assert.equal(zoo.memN2N.meta.year, 2015);
  });

  it("ties adjacent layers: hop k + 1 reads its memories with hop k's C, the question with A¹, the answer with Cᴷᵀ", () => {
    const m = zoo.memN2N({ hops: 2 });
    const P = (path: string) => m.graph.params.find((p) => p.path === path)!;
    const readers = (path: string) => {
      const found: string[] = [];
      const visit = (nodes: readonly typeof m.graph.nodes[number][]) => nodes.forEach((t) => t.inputs.includes(P(path)) && found.push(t.path));
      visit(m.graph.nodes);
      return found.map((p) => p.split("/")[0]).sort();
    };
    assert.deepEqual(readers("question/B"), ["hop1", "question"]);
    assert.deepEqual(readers("hop1/C"), ["hop1", "hop2"]);
    assert.deepEqual(readers("hop2/C"), ["answer", "hop2"]);
    assert.deepEqual(readers("hop1/T_C"), ["hop1", "hop2"]);
  });

  for (const o of [{ hops: 3, position: true, temporal: true }, { hops: 2, position: false, temporal: false }]) {
    it(`every hop's attention and the answer equal a plain-loop memory network (${o.hops} hops, position encoding ${o.position}, temporal ${o.temporal}); both interpreters`, async () => {
      const net = zoo.memN2N({ hops: o.hops, positionEncoding: o.position, temporal: o.temporal, NMemory: 6 });
      randomise(net, 1, 7);
      const task = zoo.babi({ count: 5, sentences: 6, seed: 2 });
      const want = task.stories.map((_, b) => memN2NLoop(net.params, task.story[b], task.query[b], o));
      for (const [backend, tol] of [["reference", 1e-12], ["fast", 1e-5]] as const) {
        const { outputs, trace } = await net.run({ story: task.story, query: task.query }, { backend });
        for (let k = 1; k <= o.hops; k++) close(trace.get(`hop${k}/p`).data, want.flatMap((w) => w.attention[k - 1]), tol, `${backend} hop${k}/p`);
        close(outputs.answer.data, want.flatMap((w) => w.answer), tol, `${backend} answer`);
      }
      // The attention is far from uniform (the comparison tests something).
      const p1 = want.flatMap((w) => w.attention[0]);
      assert.ok(Math.max(...p1) > 0.5, `largest hop-1 weight ${Math.max(...p1)}`);
    });
  }

  it("the padding word contributes nothing to memories or the question: changing its embedding rows changes no attention and no uᴷ⁺¹", async () => {
    const net = zoo.memN2N();
    const task = zoo.babi({ count: 3, seed: 5 });
    const before = await net.run({ story: task.story, query: task.query }, { backend: "reference" });
    for (const path of ["question/B", "hop1/C", "hop2/C", "hop3/C"]) net.params[path].data.fill(5, 0, 20); // row 0 (<nil>)
    const after = await net.run({ story: task.story, query: task.query }, { backend: "reference" });
    for (const path of ["question/u", "hop1/p", "hop2/p", "hop3/p", "hop3/u"]) assert.deepEqual(after.trace.get(path).data, before.trace.get(path).data, path);
    // Only the answer's score for <nil> itself (row 0 of W = Cᴷᵀ) moved.
    assert.notDeepEqual(after.outputs.answer.data, before.outputs.answer.data);
  });

  it("refuses bad options, naming them", () => {
    assert.throws(() => zoo.memN2N({ hops: 0 }), (e: unknown) => e instanceof ArchlabError && /hops of zoo\.memN2N/.test(e.message));
    assert.throws(() => zoo.memN2N({ temporal: "yes" as never }), (e: unknown) => e instanceof ArchlabError && /temporal of zoo\.memN2N/.test(e.message) && /true or false/.test(e.message));
  });
});
