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
import { modelDiagram } from "../diagram/graph";
import { readLayout } from "../../test/support/layout";
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

  it("names a word outside the vocabulary, an unknown option and a bad count", () => {
    assert.throws(() => zoo.babi({ cout: 3 } as never), (e: unknown) => e instanceof ArchlabError && /Unknown option "cout" in zoo\.babi/.test(e.message));
    assert.throws(() => zoo.babi({ count: 0 }), (e: unknown) => e instanceof ArchlabError && /count of zoo\.babi/.test(e.message));
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

/** One LSTM step from its equations, with the gate weights at `prefix` (W_g [In, H], U_g [H, H], b_g [H]). */
function lstm(p: Record<string, ND>, prefix: string, x: number[], h: number[], c: number[]) {
  const gate = (g: string) => plus(affine(x, p[`${prefix}/W_${g}`], p[`${prefix}/b_${g}`]), affine(h, p[`${prefix}/U_${g}`]));
  const [i, f, o] = ["i", "f", "o"].map((g) => gate(g).map(sig));
  const g = gate("g").map(Math.tanh);
  const cn = c.map((cv, k) => f[k] * cv + i[k] * g[k]);
  return { h: cn.map((v, k) => o[k] * Math.tanh(v)), c: cn };
}

/** GNMT (Wu et al. 2016, §3 and Fig. 1) as plain loops over one sequence pair, with the model's parameters. */
function gnmtLoop(p: Record<string, ND>, src: number[][], tgt: number[][], L: { enc: number; dec: number }) {
  const H = p["keys/U_a"].shape[0];
  const zero = () => new Array<number>(H).fill(0);
  const run = (prefix: string, xs: number[][], reverse = false) => {
    const out: number[][] = new Array(xs.length);
    let s = { h: zero(), c: zero() };
    for (let k = 0; k < xs.length; k++) {
      const t = reverse ? xs.length - 1 - k : k;
      s = lstm(p, prefix, xs[t], s.h, s.c);
      out[t] = s.h;
    }
    return out;
  };
  // Bidirectional bottom layer, then layer 2, then residual layers.
  const fw = run("encoder1/forward", src), bw = run("encoder1/backward", src, true);
  let x = fw.map((h, t) => [...h, ...bw[t]]);
  x = run("encoder2/lstm", x);
  for (let l = 3; l <= L.enc; l++) x = run(`encoder${l}/lstm`, x).map((h, t) => plus(h, x[t]));
  const E = x;
  const K = E.map((e) => affine(e, p["keys/U_a"]));
  const states = Array.from({ length: L.dec }, () => ({ h: zero(), c: zero() }));
  const alphas: number[][] = [], outs: number[][] = [];
  for (const t of tgt) {
    // Attention from the bottom decoder layer's previous output over all encoder states.
    const q = affine(states[0].h, p["decoder/W_a"]);
    const alpha = softmax(K.map((k) => affine(plus(k, q).map(Math.tanh), p["decoder/v_a"])[0]));
    const a = E[0].map((_, j) => E.reduce((s, e, i) => s + alpha[i] * e[j], 0));
    let y = t;
    for (let l = 1; l <= L.dec; l++) {
      const s = lstm(p, `decoder/layer${l}`, [...y, ...a], states[l - 1].h, states[l - 1].c);
      states[l - 1] = s;
      y = l >= 3 ? plus(s.h, y) : s.h;
    }
    alphas.push(alpha);
    outs.push(affine(y, p["decoder/W_out"], p["decoder/b_out"]));
  }
  return { alphas, outs };
}

describe("zoo.gnmt: bidirectional bottom encoder layer, residuals from layer 3 up, attention from the bottom decoder layer", () => {
  /** Parameters of one LSTM layer with one bias per gate. */
  const lstmParams = (In: number, H: number) => 4 * (In * H + H * H + H);

  it("summary: shapes and parameter counts by hand", () => {
    const [In, Out, H, A] = [4, 4, 16, 8];
    const m = zoo.gnmt();
    assert.deepEqual(rows(m, { B: 2, S: 6, T: 5 }), [
      ["src", "Input", [2, 6, In], 0], ["tgt", "Input", [2, 5, Out], 0],
      ["encoder1", "BiLSTM", [2, 6, 2 * H], 2 * lstmParams(In, H)],
      ["encoder2", "LSTM", [2, 6, H], lstmParams(2 * H, H)],
      ["encoder3", "ResidualLSTM", [2, 6, H], lstmParams(H, H)], ["encoder4", "ResidualLSTM", [2, 6, H], lstmParams(H, H)],
      ["keys", "Linear", [2, 6, A], H * A],
      ["decoder", "GNMTDecoder", [2, 5, Out], H * A + A + lstmParams(Out + H, H) + 3 * lstmParams(2 * H, H) + H * Out + Out],
    ]);
    const deep = zoo.gnmt({ encoderLayers: 8, decoderLayers: 8, NHidden: 8, NAttention: 4, NIn: 3, NOut: 5 });
    assert.equal(deep.summary({ B: 1, S: 1, T: 1 }).totalParams,
      2 * lstmParams(3, 8) + lstmParams(16, 8) + 6 * lstmParams(8, 8) + 8 * 4 + 8 * 4 + 4 + lstmParams(5 + 8, 8) + 7 * lstmParams(16, 8) + 8 * 5 + 5);
  });

  it("has the GNMT structure in its graph: one forward and one reversed scan over the source at the bottom, residual adds exactly from layer 3 up, attention keys over the top encoder layer read by the decoder", () => {
    const m = zoo.gnmt({ encoderLayers: 5, decoderLayers: 4 });
    const all = (nodes: readonly typeof m.graph.nodes[number][]): typeof m.graph.nodes[number][] =>
      nodes.flatMap((t) => (t.op === "scan" ? [t, ...all((t.attrs.scan as { body: typeof nodes }).body)] : [t]));
    const nodes = all(m.graph.nodes);
    const at = (path: string) => nodes.find((t) => t.path === path)!;
    const src = m.graph.inputs[0];
    const bottom = nodes.filter((t) => t.op === "scan" && t.path.startsWith("encoder1/"));
    assert.deepEqual(bottom.map((t) => [t.path, (t.attrs.scan as { reverse: boolean }).reverse, t.inputs[0] === src]), [["encoder1/forward", false, true], ["encoder1/backward", true, true]]);
    assert.equal(at("encoder1/h").op, "concat");
    // Residual: block l's output is its LSTM's states plus its input (the block below's output).
    const residual = (l: number) => at(`encoder${l}/h`).op === "add" && at(`encoder${l}/h`).inputs[1] === at(`encoder${l - 1}/h`);
    assert.deepEqual([2, 3, 4, 5].map(residual), [false, true, true, true]);
    const decoderResidual = (l: number) => nodes.some((t) => t.path === `decoder/layer${l}/y` && t.op === "add" && t.inputs[0] === at(`decoder/layer${l}/h`));
    assert.deepEqual([1, 2, 3, 4].map(decoderResidual), [false, false, true, true]);
    // Keys are made from the top encoder layer's states (all S of them); the decoder's scores read them and the bottom layer's previous h.
    assert.equal(at("keys/K").inputs[0], at("encoder5/h"));
    const scoresIn = nodes.filter((t) => t.scope?.name === "decoder" && t.op === "add" && t.inputs.includes(at("keys/K")));
    assert.equal(scoresIn.length, 1);
    assert.equal(at("decoder/q").inputs[0].inputs[0].path, "decoder/h1_prev");
    // The context a feeds every decoder layer.
    for (let l = 1; l <= 4; l++) assert.ok(at(`decoder/layer${l}/concat`).inputs.includes(at("decoder/a")), `layer ${l} reads the context`);
  });

  it("computes what a plain-loop GNMT computes, attention over every encoder state at every step (tiny sizes; both interpreters)", async () => {
    const L = { enc: 4, dec: 3 };
    const net = zoo.gnmt({ NIn: 2, NOut: 3, NHidden: 3, NAttention: 2, encoderLayers: L.enc, decoderLayers: L.dec, seed: 4 });
    randomise(net, 1, 11);
    const random = seedrandom("gnmt-data");
    const [B, S, T] = [2, 5, 4];
    const src = Array.from({ length: B }, () => Array.from({ length: S }, () => [random() * 2 - 1, random() * 2 - 1]));
    const tgt = Array.from({ length: B }, () => Array.from({ length: T }, () => [random(), random(), random()]));
    const want = src.map((s, b) => gnmtLoop(net.params, s, tgt[b], L));
    for (const [backend, tol] of [["reference", 1e-12], ["fast", 1e-5]] as const) {
      const { outputs } = await net.run({ src, tgt }, { backend });
      close(outputs.alpha.data, want.flatMap((w) => w.alphas.flat()), tol, `${backend} alpha`);
      close(outputs.o.data, want.flatMap((w) => w.outs.flat()), tol, `${backend} o`);
    }
    assert.deepEqual((await net.run({ src, tgt })).outputs.alpha.shape, [B, T, S]);
  });
});

/** A task's time-first batch [T][B][n] as [B][T][n]. */
const batchFirst = (xs: number[][][]) => xs[0].map((_, b) => xs.map((r) => r[b]));

describe("zoo.lsm: a leaky integrate-and-fire reservoir with spikes and a fitted linear readout", () => {
  const sines = (seed: number) => batchFirst(tasks.sine({ length: 200, seed }).batch(4).xs);

  it("summary: the liquid's frozen weights and the readout's, counted by hand; only the readout is trainable", () => {
    const m = zoo.lsm({ NInput: 2, NReservoir: 50, NOutput: 3 });
    assert.deepEqual(rows(m, { B: 4, SeqLen: 9 }), [["x", "Input", [4, 9, 2], 0], ["liquid", "LIF reservoir", [4, 9, 50], 2 * 50 + 50 * 50 + 50], ["readout", "Readout", [4, 9, 3], 50 * 3 + 3]]);
    const s = m.summary({ B: 1, SeqLen: 1 });
    assert.equal(s.trainableParams, 50 * 3 + 3);
    assert.deepEqual(Object.fromEntries(m.graph.params.map((p) => [p.path, p.attrs.kind])), { "liquid/W_in": "frozen", "liquid/W": "frozen", "liquid/b": "frozen", "readout/W": "trainable", "readout/b": "trainable" });
    assert.equal(zoo.lsm.meta.family, "reservoir");
  });

  it("its recurrent weights obey Dale's law: the first 20% of the neurons only inhibit, the rest only excite, none onto itself", () => {
    const W = zoo.lsm({ NReservoir: 50 }).params["liquid/W"];
    for (let i = 0; i < 50; i++) {
      const r = row(W, i);
      assert.ok(i < 10 ? r.every((v) => v <= 0) : r.every((v) => v >= 0), `neuron ${i}`);
      assert.equal(r[i], 0);
    }
    const nonzero = W.data.filter((v) => v !== 0).length / (50 * 49);
    assert.ok(nonzero > 0.05 && nonzero < 0.15, `density ${nonzero}`);
  });

  it("spikes are 0 or 1, fired exactly where the membrane crossed the threshold, which then resets to 0 — as a plain-loop LIF network computes", async () => {
    const net = zoo.lsm({ NReservoir: 40, threshold: 0.8 });
    const x = sines(3).slice(0, 2).map((s) => s.slice(0, 60));
    const { trace } = await net.run({ x }, { backend: "reference" });
    const [s, v, vPre, r] = ["s", "v", "v_pre", "r"].map((n) => trace.get(`liquid/${n}`));
    assert.deepEqual([...s.shape], [60, 2, 40]);
    assert.ok(s.data.every((b) => b === 0 || b === 1));
    const rate = Array.from(s.data).reduce((a, b) => a + b, 0) / s.data.length;
    assert.ok(rate > 0.02 && rate < 0.9, `firing rate ${rate}`);
    s.data.forEach((b, i) => {
      assert.equal(b === 1, vPre.data[i] > 0.8, `spike ${i} iff v′ > θ`);
      assert.equal(v.data[i], b === 1 ? 0 : vPre.data[i], `reset ${i}`);
    });
    // The plain loop, from the equations, with the model's weights.
    const p = net.params;
    const [leak, decay] = [0.5, 0.5];
    const want: number[] = [];
    for (let b = 0; b < 2; b++) {
      let [vm, sp, tr] = [0, 0, 0].map(() => new Array<number>(40).fill(0));
      for (let t = 0; t < 60; t++) {
        const I = plus(affine(x[b][t], p["liquid/W_in"], p["liquid/b"]), affine(sp, p["liquid/W"]));
        const pre = vm.map((u, k) => (1 - leak) * u + I[k]);
        sp = pre.map((u) => (u > 0.8 ? 1 : 0));
        vm = pre.map((u, k) => (sp[k] ? 0 : u));
        tr = tr.map((u, k) => decay * u + sp[k]);
        tr.forEach((u, k) => (want[(t * 2 + b) * 40 + k] = u));
      }
    }
    close(r.data, want, 1e-12, "spike traces r");
    const fast = await net.run({ x });
    assert.ok(fast.trace.get("liquid/s").data.every((b) => b === 0 || b === 1), "fast path: spikes are 0 or 1");
  });

  it("a readout fitted by ridge regression recalls the input of two steps before from the spikes, on unseen sines (MSE < 0.03, a fifth of repeating the current input)", async () => {
    const net = zoo.lsm();
    const delayed = (xs: number[][][]) => xs.map((seq) => seq.map((_, t) => [t >= 2 ? seq[t - 2][0] : 0]));
    const train = sines(1);
    await zoo.fitReadout(net, { x: train }, delayed(train), { lambda: 1e-4, washout: 20 });
    const test = sines(2);
    const { outputs } = await net.run({ x: test });
    const xs = test.flat(2), ys = delayed(test).flat(2);
    let mse = 0, baseline = 0, n = 0;
    ys.forEach((y, i) => {
      if (i % 200 < 20) return;
      mse += (outputs.y.data[i] - y) ** 2;
      baseline += (xs[i] - y) ** 2;
      n++;
    });
    assert.ok(mse / n < 0.03 && mse < baseline / 5, `test MSE ${mse / n}, repeating the current input ${baseline / n}`);
  });

  it("its diagram shows what the reference article says zoo drawings hide: three recurrences (spikes, membrane, trace), frozen liquid weights, a trained readout; the ELM beside it has none", async () => {
    const svg = await modelDiagram(zoo.lsm(), { expand: true }).toSvg();
    const red = readLayout(svg).edges.filter((e) => e.stroke === "#d1242f").map((e) => [e.from, e.to]);
    assert.deepEqual(red.sort(), [["liquid/r", "liquid/r_prev"], ["liquid/s", "liquid/s_prev"], ["liquid/v", "liquid/v_prev"]]);
    const dashed = (id: string) => {
      const at = svg.indexOf(`<title>${id}</title>`);
      assert.ok(at >= 0, `node ${id} drawn`);
      return /stroke-dasharray/.test(svg.slice(at, svg.indexOf("</g>", at)));
    };
    assert.deepEqual(["liquid/W_in", "liquid/W", "liquid/b", "readout/W", "readout/b"].map(dashed), [true, true, true, false, false]);
    const elmSvg = await modelDiagram(zoo.elm()).toSvg();
    assert.deepEqual(readLayout(elmSvg).edges.filter((e) => e.stroke === "#d1242f"), []);
  });

  it("refuses bad options, naming them", () => {
    assert.throws(() => zoo.lsm({ leak: 2 }), (e: unknown) => e instanceof ArchlabError && /leak of zoo\.lsm/.test(e.message));
    assert.throws(() => zoo.lsm({ threshold: 0 }), (e: unknown) => e instanceof ArchlabError && /threshold of zoo\.lsm/.test(e.message));
  });
});
