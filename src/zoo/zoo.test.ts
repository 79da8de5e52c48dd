import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ArchlabError } from "../errors";
import { spectralRadius, type Model, type ND } from "../lang";
import { tasks } from "../train/tasks";
import * as zoo from ".";

/** PyTorch's models, weights and outputs (float64): src/zoo/fixtures/torch-zoo.py. */
const torch = JSON.parse(readFileSync(join(__dirname, "fixtures", "torch-zoo.json"), "utf8"));

/** The fixture's fill: pattern(n, seed)[k] = (((k·7 + seed·13) % 23) − 11) / 11, row-major in PyTorch's layout. */
const pattern = (n: number, seed: number) => Array.from({ length: n }, (_, k) => (((k * 7 + seed * 13) % 23) - 11) / 11);
const fill = (n: number, seed: number, scale = 1, offset = 0) => pattern(n, seed).map((v) => offset + scale * v);

/** Writes a value into a model's parameter (checked against its shape), in archlab's layout. */
function load(model: Model, path: string, data: number[]) {
  const p = model.params[path];
  assert.ok(p, `no parameter ${path}`);
  assert.equal(data.length, p.data.length, `${path}: ${data.length} values for shape [${p.shape}]`);
  p.data.set(data);
}
/** A PyTorch [rows, cols] matrix (row-major) transposed to archlab's [cols, rows]. */
const transposed = (m: number[], rows: number, cols: number) => Array.from({ length: rows * cols }, (_, k) => m[(k % rows) * cols + Math.floor(k / rows)]);
/** A PyTorch conv weight OIHW as archlab's HWIO. */
function hwio(w: number[], O: number, I: number): number[] {
  const out = new Array<number>(w.length);
  for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) for (let kh = 0; kh < 3; kh++) for (let kw = 0; kw < 3; kw++) out[((kh * 3 + kw) * I + i) * O + o] = w[((o * I + i) * 3 + kh) * 3 + kw];
  return out;
}
function close(actual: ND, expected: { shape: number[]; data: number[] }, tol: number, what: string) {
  assert.deepEqual([...actual.shape], expected.shape, `${what}: shape`);
  let worst = 0;
  expected.data.forEach((e, i) => (worst = Math.max(worst, Math.abs(actual.data[i] - e))));
  assert.ok(worst <= tol, `${what}: largest difference ${worst} > ${tol}`);
}
/** Nested arrays from flat data. */
const nest = (data: number[], shape: number[]): any => (shape.length === 1 ? data.slice(0, shape[0]) : Array.from({ length: shape[0] }, (_, i) => nest(data.slice((i * data.length) / shape[0], ((i + 1) * data.length) / shape[0]), shape.slice(1))));
/** Summary shapes by row name. */
const shapes = (m: Model, sizes: Record<string, number>) => Object.fromEntries(m.summary(sizes).rows.map((r) => [r.name, r.shape]));
/** PyTorch's count: trainable + frozen parameters (any sizes do: the count does not depend on them). */
const paramCount = (m: Model) => m.summary({ B: 1, SeqLen: 1, S: 1, T: 1 }).totalParams;
/** A listing's symbolic shape with the sizes substituted. */
const substitute = (shape: (string | number)[], sizes: Record<string, number>) => shape.map((s) => (typeof s === "number" ? s : sizes[s]));

describe("zoo.convAutoEncoder is the Graphviz reference's model, as PyTorch computes it", () => {
  const cae = torch.convAutoEncoder;
  const BLOCKS = [["enc1", 3, 16], ["enc2", 16, 32], ["enc3", 32, 32], ["dec1", 32, 32], ["dec2", 32, 16], ["dec3", 16, 3]] as const;
  const LISTING: Record<string, (string | number)[]> = {
    x: ["B", 256, 256, 3], enc1: ["B", 128, 128, 16], enc2: ["B", 64, 64, 32], enc3: ["B", 32, 32, 32],
    dec1: ["B", 64, 64, 32], dec2: ["B", 128, 128, 16], dec3: ["B", 256, 256, 3], y: ["B", 256, 256, 3],
  };

  it("has 28 905 parameters, block by block as PyTorch counts them, and its blocks' output shapes at [B, 256, 256, 3]", () => {
    const m = zoo.convAutoEncoder();
    const s = m.summary({ B: 1 });
    assert.equal(s.totalParams, cae.params);
    assert.equal(s.totalParams, 28905);
    for (const [name, n] of Object.entries(cae.blockParams)) assert.equal(s.rows.find((r) => r.name === name)!.params, n, name);
    for (const [name, shape] of Object.entries(cae.shapes256)) assert.deepEqual(shapes(m, { B: 1 })[name], shape, name);
    assert.deepEqual(shapes(m, { B: 3 }), Object.fromEntries(Object.entries(LISTING).map(([k, v]) => [k, substitute(v, { B: 3 })])));
    assert.deepEqual(s.rows.map((r) => r.op), ["Input", "ConvBlock", "ConvBlock", "ConvBlock", "UpConvBlock", "UpConvBlock", "UpConvBlock", "tanh"]);
  });

  /** The small model with PyTorch's weights loaded (OIHW → HWIO; batch norm's running statistics as its constants). */
  function withTorchWeights() {
    const m = zoo.convAutoEncoder({ height: cae.image, width: cae.image });
    BLOCKS.forEach(([name, cin, cout], i) => {
      const s = 10 * (i + 1);
      load(m, `${name}/w`, hwio(fill(cout * cin * 9, s, 1 / Math.sqrt(cin * 9)), cout, cin));
      load(m, `${name}/b`, fill(cout, s + 1, 0.1));
      load(m, `${name}/gamma`, fill(cout, s + 2, 0.2, 1));
      load(m, `${name}/beta`, fill(cout, s + 3, 0.1));
      load(m, `${name}/mean`, fill(cout, s + 4, 0.1));
      load(m, `${name}/var`, fill(cout, s + 5, 0.25, 0.75));
    });
    const S = cae.image;
    return { m, x: { shape: [1, S, S, 3], data: Float64Array.from(pattern(S * S * 3, 99)) } };
  }
  const blockOutput = (name: string) => (name === "y" ? "y" : name.startsWith("enc") ? `${name}/pool` : `${name}/relu`);

  it(`computes every block's output as PyTorch does on a [1, ${cae.image}, ${cae.image}, 3] image (reference interpreter, float64: 1e-10)`, async () => {
    const { m, x } = withTorchWeights();
    const { trace, outputs } = await m.run({ x }, { backend: "reference" });
    for (const [name, expected] of Object.entries(cae.outputs)) close(trace.get(blockOutput(name)), expected as any, 1e-10, name);
    close(outputs.y, cae.outputs.y, 1e-10, "output y");
  });

  it("computes the same on the fast path (tfjs-core, float32: 1e-4)", async () => {
    const { m, x } = withTorchWeights();
    const { trace } = await m.run({ x });
    for (const [name, expected] of Object.entries(cae.outputs)) close(trace.get(blockOutput(name)), expected as any, 1e-4, name);
  });

  it("in training mode (batch statistics) the fast path computes what the reference interpreter does", async () => {
    const { m, x } = withTorchWeights();
    const ref = await m.run({ x }, { backend: "reference", training: true });
    const fast = await m.run({ x }, { training: true });
    const eval_ = await m.run({ x }, { backend: "reference" });
    for (const name of ["enc1/bn", "dec3/bn"]) {
      const r = ref.trace.get(name);
      close(fast.trace.get(name), { shape: [...r.shape], data: [...r.data] }, 1e-3, name);
      assert.ok(r.data.some((v, i) => Math.abs(v - eval_.trace.get(name).data[i]) > 1e-3), `${name}: batch statistics differ from the running ones`);
    }
  });

  it("refuses an image size the encoder cannot halve three times, naming the option", () => {
    assert.throws(() => zoo.convAutoEncoder({ height: 30 }), (e: unknown) => e instanceof ArchlabError && e.code === "bad-option" && /height of zoo\.convAutoEncoder/.test(e.message) && /multiple of 8/.test(e.message));
  });
});

/** Loads PyTorch nn.RNN weights (fixture fill, seeds from `seed`) into layers rnn1…rnnL. */
function loadRnn(m: Model, layers: number, seed: number, sizes: { In: number; H: number }, prefix = (l: number) => `rnn${l + 1}`) {
  for (let l = 0; l < layers; l++) {
    const In = l === 0 ? sizes.In : sizes.H, H = sizes.H, s = seed + 4 * l;
    load(m, `${prefix(l)}/W_ih`, transposed(fill(H * In, s, 0.5), H, In));
    load(m, `${prefix(l)}/W_hh`, transposed(fill(H * H, s + 1, 0.5), H, H));
    load(m, `${prefix(l)}/b_ih`, fill(H, s + 2, 0.5));
    load(m, `${prefix(l)}/b_hh`, fill(H, s + 3, 0.5));
  }
}

describe("zoo.timeRnn is the reference's TimeRNN (tanh cells), as PyTorch's nn.RNN + nn.Linear compute it", () => {
  const { defaultParams, case: c } = torch.timeRnn;

  it("summary({ B, SeqLen }) gives the listing's shapes with the sizes substituted, and PyTorch's parameter count", () => {
    const o = { NFeature: 8, NHidden: 32, NLayers: 3, NLabels: 4 };
    const sizes = { ...o, B: 2, SeqLen: 7 };
    const m = zoo.timeRnn(o);
    assert.deepEqual(shapes(m, { B: 2, SeqLen: 7 }), {
      x: substitute(["B", "SeqLen", "NFeature"], sizes), rnn1: substitute(["B", "SeqLen", "NHidden"], sizes), rnn2: substitute(["B", "SeqLen", "NHidden"], sizes),
      rnn3: substitute(["B", "SeqLen", "NHidden"], sizes), linear: substitute(["B", "SeqLen", "NLabels"], sizes),
    });
    assert.deepEqual(m.summary({ B: 1, SeqLen: 1 }).rows.map((r) => r.op), ["Input", "RNNCell", "RNNCell", "RNNCell", "Linear"]);
    assert.equal(paramCount(zoo.timeRnn()), defaultParams);
  });

  it("computes PyTorch's outputs on its weights (float64: 1e-10)", async () => {
    const { NFeature, NHidden, NLayers, NLabels, B, SeqLen } = c.sizes;
    const m = zoo.timeRnn({ NFeature, NHidden, NLayers, NLabels });
    assert.equal(paramCount(m), c.params);
    loadRnn(m, NLayers, 1, { In: NFeature, H: NHidden });
    load(m, "linear/W", transposed(fill(NLabels * NHidden, 50, 0.5), NLabels, NHidden));
    load(m, "linear/b", fill(NLabels, 51, 0.5));
    const { outputs } = await m.run({ x: nest(c.x, [B, SeqLen, NFeature]) }, { backend: "reference" });
    close(outputs.y, c.y, 1e-10, "y");
  });

  it("refuses a size that is not a whole number ≥ 1, and an unknown option, naming them", () => {
    assert.throws(() => zoo.timeRnn({ NHidden: 0 }), (e: unknown) => e instanceof ArchlabError && e.code === "bad-option" && /NHidden of zoo\.timeRnn/.test(e.message));
    assert.throws(() => zoo.timeRnn({ Nhidden: 3 } as never), (e: unknown) => e instanceof ArchlabError && /Unknown option "Nhidden" in zoo\.timeRnn/.test(e.message));
  });
});

describe("zoo.nlpRnn is the reference's NLP RNN: its output weight is the embedding", () => {
  const { defaultParams, case: c } = torch.nlpRnn;

  it("summary({ B, SeqLen }) gives the listing's shapes and PyTorch's parameter count (the tied weight counted once)", () => {
    const o = { VocabSize: 100, NHidden: 16, NLayers: 2 };
    const sizes = { ...o, B: 3, SeqLen: 9 };
    const m = zoo.nlpRnn(o);
    assert.deepEqual(shapes(m, { B: 3, SeqLen: 9 }), {
      ids: substitute(["B", "SeqLen"], sizes), embedding: substitute(["B", "SeqLen", "NHidden"], sizes), rnn1: substitute(["B", "SeqLen", "NHidden"], sizes),
      rnn2: substitute(["B", "SeqLen", "NHidden"], sizes), out: substitute(["B", "SeqLen", "VocabSize"], sizes), p: substitute(["B", "SeqLen", "VocabSize"], sizes),
    });
    assert.equal(paramCount(zoo.nlpRnn()), defaultParams);
  });

  it("has one embedding parameter, read by the lookup and (transposed) by the output", () => {
    const m = zoo.nlpRnn({ VocabSize: 7, NHidden: 4, NLayers: 1 });
    const E = m.graph.params.filter((p) => p.path.startsWith("embedding/"));
    assert.equal(E.length, 1);
    const readers = m.graph.nodes.filter((t) => t.inputs.includes(E[0])).map((t) => t.op).sort();
    assert.deepEqual(readers, ["gather", "transpose"]);
  });

  it("computes PyTorch's word probabilities on its weights (float64: 1e-10); changing the embedding changes both of its uses", async () => {
    const { VocabSize, NHidden, NLayers } = c.sizes;
    const m = zoo.nlpRnn({ VocabSize, NHidden, NLayers });
    assert.equal(paramCount(m), c.params);
    load(m, "embedding/w", fill(VocabSize * NHidden, 60));
    loadRnn(m, NLayers, 61, { In: NHidden, H: NHidden });
    const run = await m.run({ ids: c.ids }, { backend: "reference" });
    close(run.outputs.p, c.p, 1e-10, "p");
    m.params["embedding/w"].data[0] += 1; // word 0's vector, unit 0
    const again = await m.run({ ids: c.ids }, { backend: "reference" });
    const changed = (path: string) => run.trace.get(path).data.some((v, i) => v !== again.trace.get(path).data[i]);
    assert.ok(changed("out/wT"), "the output weight Eᵀ follows the embedding");
    assert.ok(changed("embedding/x") === c.ids.flat().includes(0), "the lookup follows it where word 0 is read");
  });
});

describe("zoo.seq2seqAttention: a decoder that reads every encoder state at every step", () => {
  const c = torch.seq2seqAttention;
  const { NIn, NOut, NHidden, NAttention, B, S, T } = c.sizes;
  const weights = [["keys/U_a", NHidden, NAttention], ["decoder/W_a", NHidden, NAttention], ["decoder/v_a", NAttention, 1], ["decoder/W", NOut + NHidden, NHidden], ["decoder/U", NHidden, NHidden], ["decoder/b", 1, NHidden], ["decoder/W_o", NHidden, NOut], ["decoder/b_o", 1, NOut]] as const;

  it("computes PyTorch's outputs and attention matrix on its weights (float64: 1e-10); the trace holds one row of weights per step", async () => {
    const m = zoo.seq2seqAttention({ NIn, NOut, NHidden, NAttention });
    assert.equal(paramCount(m), c.params);
    loadRnn(m, 1, 70, { In: NIn, H: NHidden }, () => "encoder");
    weights.forEach(([path, r, k], i) => load(m, path, fill(r * k, 80 + i, 0.5)));
    const src = nest(pattern(B * S * NIn, 90), [B, S, NIn]);
    const tgt = nest(pattern(B * T * NOut, 91), [B, T, NOut]);
    const { outputs, trace } = await m.run({ src, tgt }, { backend: "reference" });
    close(outputs.o, c.o, 1e-10, "o");
    close(outputs.alpha, c.alpha, 1e-10, "alpha");
    const steps = trace.get("decoder/alpha");
    assert.deepEqual(steps.shape, [T, B, S]);
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) assert.equal(steps.data[(t * B + b) * S + s], outputs.alpha.data[(b * T + t) * S + s]);
    const fast = await m.run({ src, tgt });
    close(fast.outputs.alpha, c.alpha, 1e-5, "alpha (fast path)");
  });
});

/** A task's time-first batch [T][B][n] as [B][T][n]. */
const batchFirst = (xs: number[][][]) => xs[0].map((_, b) => xs.map((row) => row[b]));

describe("zoo.esn and zoo.elm: fixed random networks with a readout solved in closed form", () => {
  it("the ESN's reservoir is frozen, scaled to the spectral radius asked, and recurrent (a scan); the ELM's hidden layer has no scan", () => {
    const net = zoo.esn({ NReservoir: 50, spectralRadius: 0.7 });
    assert.ok(Math.abs(spectralRadius(net.params["reservoir/W"]) - 0.7) < 1e-6);
    const kinds = Object.fromEntries(net.graph.params.map((p) => [p.path, p.attrs.kind]));
    assert.deepEqual(kinds, { "reservoir/W_in": "frozen", "reservoir/W": "frozen", "reservoir/b": "frozen", "readout/W": "trainable", "readout/b": "trainable" });
    assert.ok(net.graph.nodes.some((t) => t.op === "scan"));
    const elm = zoo.elm();
    assert.ok(!elm.graph.nodes.some((t) => t.op === "scan"));
    assert.deepEqual(elm.graph.params.map((p) => p.attrs.kind), ["frozen", "frozen", "trainable", "trainable"]);
  });

  it("an ESN fitted by ridge regression predicts unseen sine waves' next value (MSE < 1e-3, far below repeating the last value)", async () => {
    const net = zoo.esn({ NReservoir: 100, spectralRadius: 0.9, leak: 0.3 });
    const train = tasks.sine({ length: 200, seed: 1 }).batch(4);
    const fit = await zoo.fitReadout(net, { x: batchFirst(train.xs) }, batchFirst(train.targets as number[][][]), { lambda: 1e-6, washout: 20 });
    assert.ok(fit < 1e-5, `training MSE ${fit}`);
    const test = tasks.sine({ length: 200, seed: 2 }).batch(4);
    const { outputs } = await net.run({ x: batchFirst(test.xs) });
    const xs = batchFirst(test.xs).flat(2), ys = batchFirst(test.targets as number[][][]).flat(2);
    let mse = 0, persistence = 0, n = 0;
    ys.forEach((y, i) => {
      if (i % 200 < 20) return;
      mse += (outputs.y.data[i] - y) ** 2;
      persistence += (xs[i] - y) ** 2;
      n++;
    });
    assert.ok(mse / n < 1e-3 && mse < persistence / 20, `test MSE ${mse / n}, repeating the last value ${persistence / n}`);
  });

  it("an ELM fitted by least squares regresses sin(3x) + x²/2 on unseen points (MSE < 1e-4)", async () => {
    const f = (x: number) => Math.sin(3 * x) + 0.5 * x * x;
    const net = zoo.elm({ NHidden: 50 });
    const xs = Array.from({ length: 200 }, (_, i) => [-1 + (2 * i) / 199]);
    await zoo.fitReadout(net, { x: xs }, xs.map(([x]) => [f(x)]));
    const test = Array.from({ length: 50 }, (_, i) => [-0.99 + (1.98 * i) / 49]);
    const { outputs } = await net.run({ x: test });
    const mse = test.reduce((s, [x], i) => s + (outputs.y.data[i] - f(x)) ** 2, 0) / test.length;
    assert.ok(mse < 1e-4, `test MSE ${mse}`);
  });

  it("fitReadout names what is wrong: targets of the wrong shape, a model without a readout", async () => {
    const net = zoo.elm();
    await assert.rejects(zoo.fitReadout(net, { x: [[0], [1]] }, [[0]]), (e: unknown) => e instanceof ArchlabError && e.code === "shape" && /targets of fitReadout/.test(e.message));
    await assert.rejects(zoo.fitReadout(zoo.timeRnn(), { x: [[[0, 0, 0, 0, 0, 0, 0, 0]]] }, [[[0, 0, 0, 0]]]), (e: unknown) => e instanceof ArchlabError && /has no readout block/.test(e.message));
  });
});

describe("every zoo entry", () => {
  const entries = Object.entries(zoo).filter(([, v]) => typeof v === "function" && "meta" in v) as [string, zoo.ZooEntry<object>][];

  it("builds with no argument and carries its metadata, on the entry and on the model", () => {
    assert.deepEqual(entries.map(([k]) => k).sort(), ["alexnet", "capsNet", "convAutoEncoder", "crmn", "dann", "dnc", "dni", "drcn", "dynamicNtm", "elm", "esn", "gan", "gnmt", "googlenet", "lsm", "memN2N", "nlpRnn", "ntm", "ram", "resnet18", "seq2seqAttention", "timeRnn", "vae", "vgg16"]);
    for (const [name, make] of entries) {
      const { title, citation, year, family, parents } = make.meta;
      assert.ok(title && citation && Number.isInteger(year) && family, name);
      for (const p of parents) assert.ok(entries.some(([k]) => k === p), `${name}'s parent ${p} is a zoo entry`);
      assert.equal(make().meta, make.meta);
    }
  });
});
