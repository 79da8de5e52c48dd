/**
 * The gradient-trick entries (DANN, DNI, RAM): shapes and parameter counts, forward values against
 * plain loops written here from the papers with the models' own parameters, RAM's glimpse crop
 * against an independent bilinear-sampling loop, seeds, and the named errors for bad options.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ArchlabError } from "../errors";
import { input, model, type ND } from "../lang";
import { BACKENDS, affine, assertClose, softmax } from "../../test/support/plain-loop";
import { dann, dni, glimpse, ram } from ".";

/** Summary shapes by row name. */
const shapes = (m: { summary(s: Record<string, number>): { rows: { name: string; shape: number[] }[] } }, sizes: Record<string, number>) =>
  Object.fromEntries(m.summary(sizes).rows.map((r) => [r.name, r.shape]));
const relu = (v: number[]) => v.map((x) => Math.max(x, 0));
/** Rows of an ND [n, k] as arrays. */
const rows = (v: ND) => Array.from({ length: v.shape[0] }, (_, i) => Array.from(v.data.slice((i * v.data.length) / v.shape[0], ((i + 1) * v.data.length) / v.shape[0])));
const crossEntropy = (logits: number[], target: number) => -Math.log(softmax(logits)[target]);
/** A deterministic pseudo-random fill in [−1, 1). */
const pattern = (n: number, seed: number) => Array.from({ length: n }, (_, k) => (((k * 7919 + seed * 104729) % 1000) / 500) - 1);
const named = (code: string, option: RegExp) => (e: unknown) => e instanceof ArchlabError && e.code === code && option.test(e.message);

describe("zoo.dann: feature extractor → label predictor, and → gradient reversal → domain classifier", () => {
  const x = [[0.5, -1], [1.5, 0.25], [-0.75, 2], [0.1, 0.2], [-1, -0.5]];
  const y = [1, 0, 1, 0, 1];
  const domain = [0, 0, 1, 1, 0];

  it("summary: the paper's toy sizes, every layer's shape and its parameters", () => {
    const net = dann();
    const s = net.summary({ B: 5 });
    assert.deepEqual(
      s.rows.map((r) => [r.name, r.op, r.shape, r.params]),
      [
        ["x", "Input", [5, 2], 0], ["y", "Input", [5], 0], ["domain", "Input", [5], 0],
        ["features", "Linear", [5, 15], 2 * 15 + 15], ["labels", "Linear", [5, 2], 15 * 2 + 2], ["reversed", "gradReverse", [5, 15], 0],
        ["domainHidden", "Linear", [5, 15], 15 * 15 + 15], ["domainOut", "Linear", [5, 2], 15 * 2 + 2], ["losses", "Loss", [], 0],
      ],
    );
    assert.equal(s.totalParams, 349);
    // NDomainHidden 0: the paper's toy domain regressor, a logistic regression on the reversed features.
    const logistic = dann({ NDomainHidden: 0 }).summary({ B: 5 }).rows.map((r) => [r.name, r.params]);
    assert.deepEqual(logistic.filter(([name]) => String(name).startsWith("domain")), [["domain", 0], ["domainOut", 15 * 2 + 2]]);
    assert.deepEqual(Object.keys(net.graph.outputs).sort(), ["d", "domainLoss", "labelLoss", "loss", "y"]);
    assert.deepEqual(net.meta.family, "gradient");
  });

  it("computes a plain-loop DANN's logits and losses — the label loss over the source rows only (both interpreters)", async () => {
    const net = dann({ NInput: 2, NFeature: 4, NDomainHidden: 3, NClasses: 2, seed: 3 });
    const p = net.params;
    const f = x.map((r) => relu(affine(r, p["features/W"], p["features/b"])));
    const logits = f.map((r) => affine(r, p["labels/W"], p["labels/b"]));
    const d = f.map((r) => affine(relu(affine(r, p["domainHidden/W"], p["domainHidden/b"])), p["domainOut/W"], p["domainOut/b"]));
    const source = domain.flatMap((v, i) => (v === 0 ? [i] : []));
    const labelLoss = source.reduce((s, i) => s + crossEntropy(logits[i], y[i]), 0) / source.length;
    const domainLoss = d.reduce((s, r, i) => s + crossEntropy(r, domain[i]), 0) / d.length;
    for (const [backend, tol] of BACKENDS) {
      const { outputs, trace } = await net.run({ x, y, domain }, { backend });
      assertClose(outputs.y.data, logits.flat(), tol, `${backend} label logits`);
      assertClose(outputs.d.data, d.flat(), tol, `${backend} domain logits`);
      assertClose(trace.get("reversed").data, f.flat(), tol, `${backend} R(f) = f going forward`);
      assertClose(outputs.labelLoss.data, [labelLoss], tol, `${backend} label loss`);
      assertClose(outputs.domainLoss.data, [domainLoss], tol, `${backend} domain loss`);
      assertClose(outputs.loss.data, [labelLoss + domainLoss], tol, `${backend} loss`);
    }
  });

  it("the same seed builds the same weights; another seed other weights", () => {
    assert.deepEqual(dann({ seed: 4 }).params["features/W"].data, dann({ seed: 4 }).params["features/W"].data);
    assert.notDeepEqual(dann({ seed: 4 }).params["features/W"].data, dann({ seed: 5 }).params["features/W"].data);
  });

  it("names a bad option: a negative λ, one class, an unknown option", () => {
    assert.throws(() => dann({ lambda: -1 }), named("bad-option", /lambda of zoo\.dann/));
    assert.throws(() => dann({ NClasses: 1 }), named("bad-option", /NClasses of zoo\.dann/));
    assert.throws(() => dann({ lamda: 1 } as never), (e: unknown) => e instanceof ArchlabError && /lamda/.test(e.message));
  });
});

describe("zoo.dni: an MLP decoupled by synthetic-gradient modules", () => {
  const x = [[0.5, -1, 0.25, 2], [1.5, 0.25, -0.5, 0], [-0.75, 2, 1, -1]];
  const y = [1, 0, 2];
  const o = { NInput: 4, NHidden: 5, NLayers: 3, NClasses: 3, seed: 1 };

  it("summary: the paper's MNIST MLP sizes; one SyntheticGradient module per hidden layer, each output exposed", () => {
    const s = dni().summary({ B: 2 });
    const H = 256;
    assert.deepEqual(
      s.rows.map((r) => [r.name, r.op, r.shape, r.params]),
      [
        ["x", "Input", [2, 784], 0], ["y", "Input", [2], 0],
        ["layer1", "Linear", [2, H], 784 * H + H], ["layer2", "Linear", [2, H], H * H + H], ["layer3", "Linear", [2, H], H * H + H], ["output", "Linear", [2, 10], H * 10 + 10],
        ["objective", "CrossEntropy", [], 0], ["M1", "SyntheticGradient", [2, H], H * H + H], ["M2", "SyntheticGradient", [2, H], H * H + H], ["M3", "SyntheticGradient", [2, H], H * H + H],
      ],
    );
    assert.deepEqual(Object.keys(dni().graph.outputs).sort(), ["g1", "g2", "g3", "h1", "h2", "h3", "loss", "y"]);
  });

  it("each layer above reads its input through a stop-gradient (decoupled) or directly (backprop); same layer weights either way", () => {
    const [dec, bp] = [dni(o), dni({ ...o, decoupled: false })];
    const op = (m: typeof dec, path: string) => m.graph.nodes.find((t) => t.path === path)!.inputs[0].op;
    for (const path of ["layer2/in", "layer3/in", "output/in"]) {
      assert.equal(dec.graph.nodes.find((t) => t.path === path)!.op, "stopGradient", path);
      assert.equal(bp.graph.nodes.find((t) => t.path === path)!.op, "identity", path);
      assert.equal(op(bp, path), "relu", path);
    }
    for (const k of Object.keys(bp.params)) assert.deepEqual(dec.params[k].data, bp.params[k].data, k);
    assert.deepEqual(Object.keys(bp.graph.outputs).sort(), ["h1", "h2", "h3", "loss", "y"]);
  });

  it("computes a plain-loop MLP's layers, logits and loss, and each synthetic gradient ĝ_i = h_i A_i + c_i (zero at first)", async () => {
    const net = dni(o);
    const p = net.params;
    for (const i of [1, 2, 3]) assert.ok(p[`M${i}/A`].data.every((v) => v === 0), `M${i}/A starts at zero`);
    // Give the modules weights, so ĝ is checked as a function of h.
    for (const i of [1, 2, 3]) {
      p[`M${i}/A`].data.set(pattern(25, i).map((v) => v / 4));
      p[`M${i}/c`].data.set(pattern(5, 10 + i));
    }
    const hs: number[][][] = [];
    let h = x;
    for (const i of [1, 2, 3]) hs.push((h = h.map((r) => relu(affine(r, p[`layer${i}/W`], p[`layer${i}/b`])))));
    const logits = h.map((r) => affine(r, p["output/W"], p["output/b"]));
    const loss = logits.reduce((s, r, b) => s + crossEntropy(r, y[b]), 0) / logits.length;
    for (const [backend, tol] of BACKENDS) {
      const { outputs } = await net.run({ x, y }, { backend });
      hs.forEach((hi, i) => {
        assertClose(outputs[`h${i + 1}`].data, hi.flat(), tol, `${backend} h${i + 1}`);
        assertClose(outputs[`g${i + 1}`].data, hi.flatMap((r) => affine(r, p[`M${i + 1}/A`], p[`M${i + 1}/c`])), tol, `${backend} ĝ${i + 1}`);
      });
      assertClose(outputs.y.data, logits.flat(), tol, `${backend} logits`);
      assertClose(outputs.loss.data, [loss], tol, `${backend} loss`);
    }
  });

  it("names a bad option: decoupled not a boolean, zero layers", () => {
    assert.throws(() => dni({ decoupled: "yes" as never }), named("bad-option", /decoupled of zoo\.dni/));
    assert.throws(() => dni({ NLayers: 0 }), named("bad-option", /NLayers of zoo\.dni/));
  });
});

/**
 * The retina from its definition, independently of the model's tent-kernel matrices: each output
 * pixel of scale k is the mean of f × f bilinear samples (f = 2^k) at sub-pixel points around the
 * centre, each sample from the four pixels around it by floor and fraction, 0 outside the image.
 */
function retina(img: number[][], l: [number, number], g: number, scales: number): number[][][] {
  const [H, W] = [img.length, img[0].length];
  const at = (r: number, c: number) => (r >= 0 && r < H && c >= 0 && c < W ? img[r][c] : 0);
  const bilinear = (py: number, px: number) => {
    const [r0, c0] = [Math.floor(py), Math.floor(px)];
    const [a, b] = [py - r0, px - c0];
    return (1 - a) * (1 - b) * at(r0, c0) + (1 - a) * b * at(r0, c0 + 1) + a * (1 - b) * at(r0 + 1, c0) + a * b * at(r0 + 1, c0 + 1);
  };
  // l = (row, column) in [−1, 1]: −1 the top/left edge of the image, +1 the bottom/right edge.
  const [cy, cx] = [((l[0] + 1) / 2) * H - 0.5, ((l[1] + 1) / 2) * W - 0.5];
  return Array.from({ length: scales }, (_, k) => {
    const f = 2 ** k;
    const side = g * f; // pixels the crop covers
    return Array.from({ length: g }, (_, i) =>
      Array.from({ length: g }, (_, j) => {
        let s = 0;
        for (let u = 0; u < f; u++) for (let v = 0; v < f; v++) s += bilinear(cy - side / 2 + i * f + u + 0.5, cx - side / 2 + j * f + v + 0.5);
        return s / (f * f);
      }),
    );
  });
}

describe("zoo.ram: glimpse sensor, glimpse network, core RNN, Gaussian location policy, baseline", () => {
  const small = { height: 10, width: 12, glimpseSize: 3, scales: 2, glimpses: 4, NGlimpseHidden: 6, NLocHidden: 5, NGlimpse: 7, NHidden: 8, NClasses: 3 };
  const image = (b: number) => Array.from({ length: 10 }, (_, r) => pattern(12, 7 * b + r));

  it("the glimpse crop equals a plain bilinear retina at several locations — centre, corners, the border (zero padding), between pixels — at 3 scales, both interpreters", async () => {
    const locations: [number, number][] = [[0, 0], [-1, -1], [1, 1], [-0.95, 0.97], [0.13, -0.41], [1, -0.2], [0.5, 0.5]];
    for (const g of [3, 4]) {
      const H = 10, W = 12, scales = 3;
      const m = model("Retina", {}, () => ({ y: glimpse(input("x", ["B", H, W]), input("l", ["B", 2]), { glimpseSize: g, scales }) }));
      const imgs = locations.map((_, b) => image(b));
      const want = locations.map((l, b) => retina(imgs[b], l, g, scales));
      for (const [backend, tol] of BACKENDS) {
        const { trace, outputs } = await m.run({ x: imgs, l: locations }, { backend });
        for (let k = 0; k < scales; k++) assertClose(trace.get(`patch${k}`).data, want.flatMap((w) => w[k].flat()), tol, `${backend} g=${g} scale ${k}`);
        assert.deepEqual([...outputs.y.shape], [locations.length, scales * g * g]);
      }
    }
    // Sanity of the reference itself: at the centre of an even image a 2 × 2 crop is the four middle pixels; off the image, zeros.
    const img = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]];
    assert.deepEqual(retina(img, [0, 0], 2, 1)[0], [[6, 7], [10, 11]]);
    assert.deepEqual(retina(img, [-1, -1], 2, 1)[0], [[0, 0], [0, 1]]);
  });

  it("summary: the paper's MNIST RAM (6 glimpses of 8 × 8, 1 scale) and a small one, layer by layer", () => {
    const s = ram().summary({ B: 2 });
    const rowsOf = Object.fromEntries(s.rows.map((r) => [r.name, [r.op, r.shape, r.params]]));
    assert.deepEqual(rowsOf.x, ["Input", [2, 28, 28], 0]);
    assert.deepEqual(rowsOf.ram[0], "RAM");
    // locator 256·2+2, what 64·128+128, where 2·128+128, glimpse 128·256·2+256, core 256·256·2+256, baseline 256+1.
    assert.equal(rowsOf.ram[2], 514 + 8320 + 384 + 65792 + 131328 + 257);
    assert.deepEqual(rowsOf.action, ["Linear", [2, 10], 2570]);
    assert.equal(s.totalParams, 514 + 8320 + 384 + 65792 + 131328 + 257 + 2570);
    const net = ram(small);
    assert.deepEqual(Object.keys(net.graph.outputs).sort(), ["baselineLoss", "classLoss", "locations", "loss", "mu", "reinforceLoss", "reward", "y"]);
    assert.deepEqual(shapes(net, { B: 5 }).x, [5, 10, 12]);
  });

  it("computes a plain-loop RAM step by step with the same noise: locations, glimpses, core, reward and the hybrid loss", async () => {
    const net = ram({ ...small, seed: 2, noiseSeed: 9, sigma: 0.3 });
    const p = net.params;
    const B = 3;
    const x = [0, 1, 2].map(image);
    const yv = [0, 2, 1];
    const { outputs, trace } = await net.run({ x, y: yv }, { backend: "reference" });
    // The noise ε is the op's own draw (recorded); everything else is recomputed here.
    const eps = trace.get("ram/locator/randomNormal");
    const T = small.glimpses;
    const want = { l: [] as number[][][], mu: [] as number[][][], patch: [] as number[][], logPi: [] as number[][], b: [] as number[][] };
    const h = Array.from({ length: B }, () => new Array<number>(small.NHidden).fill(0));
    for (let t = 0; t < T; t++) {
      const ls: number[][] = [], mus: number[][] = [], lps: number[] = [], bs: number[] = [];
      const next: number[][] = [];
      for (let b = 0; b < B; b++) {
        const mu = affine(h[b], p["ram/locator/W"], p["ram/locator/b"]).map(Math.tanh);
        const sample = mu.map((m, i) => m + 0.3 * eps.data[(t * B + b) * 2 + i]);
        const l = sample.map((v) => Math.min(1, Math.max(-1, v))) as [number, number];
        lps.push(-sample.reduce((s, v, i) => s + (v - mu[i]) ** 2, 0) / (2 * 0.3 * 0.3));
        bs.push(affine(h[b], p["ram/baseline/W"], p["ram/baseline/b"])[0]);
        const rho = retina(x[b], l, 3, 2).flatMap((s) => s.flat());
        want.patch.push(rho);
        const what = relu(affine(rho, p["ram/glimpseNet/what/W"], p["ram/glimpseNet/what/b"]));
        const where = relu(affine(l, p["ram/glimpseNet/where/W"], p["ram/glimpseNet/where/b"]));
        const gt = relu(affine(what, p["ram/glimpseNet/W_what"], p["ram/glimpseNet/b"]).map((v, j) => v + affine(where, p["ram/glimpseNet/W_where"], { shape: [7], data: new Float64Array(7) })[j]));
        const core = affine(h[b], p["ram/core/W_hh"], p["ram/core/b"]);
        next.push(relu(core.map((v, j) => v + affine(gt, p["ram/core/W_hg"], { shape: [8], data: new Float64Array(8) })[j])));
        ls.push(l);
        mus.push(mu);
      }
      next.forEach((v, b) => (h[b] = v));
      want.l.push(ls);
      want.mu.push(mus);
      want.logPi.push(lps);
      want.b.push(bs);
    }
    const logits = h.map((r) => affine(r, p["action/W"], p["action/b"]));
    const reward = logits.map((r, b) => (r.indexOf(Math.max(...r)) === yv[b] ? 1 : 0));
    const classLoss = logits.reduce((s, r, b) => s + crossEntropy(r, yv[b]), 0) / B;
    let reinforce = 0, baseline = 0;
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++) {
        reinforce -= ((reward[b] - want.b[t][b]) * want.logPi[t][b]) / B;
        baseline += (want.b[t][b] - reward[b]) ** 2 / (B * T);
      }
    const tol = 1e-12;
    // Batch-first [B, T, 2] outputs against the loop's time-first lists.
    const batchFirst = (v: number[][][]) => Array.from({ length: B }, (_, b) => v.map((step) => step[b])).flat(2);
    assertClose(outputs.locations.data, batchFirst(want.l), tol, "locations");
    assertClose(outputs.mu.data, batchFirst(want.mu), tol, "policy means");
    assertClose(trace.get("ram/sensor/ρ").data, want.patch.flat(), tol, "glimpses (time-major)");
    assertClose(outputs.y.data, logits.flat(), tol, "class logits");
    assert.deepEqual([...outputs.reward.data], reward);
    assertClose(outputs.classLoss.data, [classLoss], tol, "class loss");
    assertClose(outputs.reinforceLoss.data, [reinforce], tol, "REINFORCE loss");
    assertClose(outputs.baselineLoss.data, [baseline], tol, "baseline loss");
    assertClose(outputs.loss.data, [classLoss + reinforce + baseline], tol, "loss");
    assert.ok(rows(outputs.y).length === B);
  });

  it("the reward is 1 exactly where the class is right", async () => {
    const net = ram({ ...small, NClasses: 3 });
    const x = [0, 1, 2, 3, 4, 5].map(image);
    const { outputs } = await net.run({ x, y: [0, 0, 0, 0, 0, 0] }, { backend: "reference" });
    const predicted = rows(outputs.y).map((r) => r.indexOf(Math.max(...r)));
    for (const yv of [[0, 1, 2, 0, 1, 2], predicted]) {
      const { outputs: o } = await net.run({ x, y: yv }, { backend: "reference" });
      assert.deepEqual([...o.reward.data], predicted.map((c, b) => (c === yv[b] ? 1 : 0)));
    }
  });

  it("seeds: the same noiseSeed draws the same locations, another noiseSeed others; seed fixes the weights", async () => {
    const x = [0, 1].map(image);
    const run = async (o: object) => (await ram({ ...small, ...o }).run({ x, y: [0, 1] }, { backend: "reference" })).outputs.locations.data;
    assert.deepEqual(await run({ noiseSeed: 3 }), await run({ noiseSeed: 3 }));
    assert.notDeepEqual(await run({ noiseSeed: 3 }), await run({ noiseSeed: 4 }));
    assert.deepEqual(ram({ ...small, seed: 1 }).params["ram/core/W_hh"].data, ram({ ...small, seed: 1, noiseSeed: 5 }).params["ram/core/W_hh"].data);
    assert.notDeepEqual(ram({ ...small, seed: 1 }).params["ram/core/W_hh"].data, ram({ ...small, seed: 2 }).params["ram/core/W_hh"].data);
  });

  it("names a bad option: σ ≤ 0, no glimpses, too many scales, a fractional glimpse size, an image of the wrong rank", () => {
    assert.throws(() => ram({ sigma: 0 }), named("bad-option", /sigma of zoo\.ram/));
    assert.throws(() => ram({ glimpses: 0 }), named("bad-option", /glimpses of zoo\.ram/));
    assert.throws(() => ram({ scales: 9 }), named("bad-option", /scales of zoo\.ram/));
    assert.throws(() => ram({ glimpseSize: 2.5 }), named("bad-option", /glimpseSize of zoo\.ram/));
    assert.throws(() => ram({ noiseSeed: -1 }), named("bad-option", /noiseSeed of zoo\.ram/));
    assert.throws(() => model("G", {}, () => glimpse(input("x", ["B", 4, 4, 1]), input("l", ["B", 2]), { glimpseSize: 2, scales: 1 })), named("bad-option", /glimpse/));
  });
});
