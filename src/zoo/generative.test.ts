/**
 * The zoo's capsule network, VAE and GAN against PyTorch (src/zoo/fixtures/torch-generative.py: the
 * same weights from integer formulas; routing written there as the paper's loop, the losses by
 * PyTorch's own functions), their seeds, and their named errors.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { modelDiagram } from "../diagram/graph";
import { ArchlabError } from "../errors";
import type { Model } from "../lang";
import * as zoo from ".";
import { close, fill, hwio, load, nd, transposed, type Stored } from "./fixtures/load";

const torch = JSON.parse(readFileSync(join(__dirname, "fixtures", "torch-generative.json"), "utf8"));

/** Index `k` of a stored value's leading axis. */
const at = (v: Stored, k: number): Stored => {
  const n = v.data.length / v.shape[0];
  return { shape: v.shape.slice(1), data: v.data.slice(k * n, (k + 1) * n) };
};
const shapes = (m: Model, sizes: Record<string, number>) => Object.fromEntries(m.summary(sizes).rows.map((r) => [r.name, r.shape]));
const named = (code: string, pattern: RegExp) => (e: unknown) => e instanceof ArchlabError && e.code === code && pattern.test(e.message);
/** A linear layer's PyTorch weight [Out, In] and bias, from the fixture's seeds, into archlab's W [In, Out] and b. */
function linear(m: Model, W: string, b: string, nIn: number, nOut: number, seed: number, scale: number, biasScale: number) {
  load(m, W, transposed(fill(nOut * nIn, seed, scale), nOut, nIn));
  load(m, b, fill(nOut, seed + 1, biasScale));
}

describe("zoo.capsNet is Sabour et al.'s capsule network, as PyTorch computes it", () => {
  it("has PyTorch's parameter count at MNIST size (8 215 568; 6 804 224 without the decoder), part by part, and the paper's shapes", () => {
    const m = zoo.capsNet();
    const s = m.summary({ B: 2 });
    assert.equal(s.totalParams, torch.capsNet.params);
    assert.equal(s.totalParams, 8215568);
    assert.equal(zoo.capsNet({ reconstruction: false }).summary({ B: 1 }).totalParams, torch.capsNet.withoutDecoder);
    for (const [name, n] of Object.entries(torch.capsNet.parts)) assert.equal(s.rows.find((r) => r.name === name)!.params, n, name);
    const sh = shapes(m, { B: 2 });
    assert.deepEqual(sh.x, [2, 28, 28, 1]);
    assert.deepEqual(sh.conv1, [2, 20, 20, 256]);
    assert.deepEqual(sh.primaryCaps, [2, 1152, 8]);
    assert.deepEqual(sh.digitCaps, [2, 1152, 10, 16]);
    for (const r of [1, 2, 3]) assert.deepEqual(sh[`routing${r}`], [2, 1152, 10]);
    assert.deepEqual(sh.lengths, [2, 10]);
    assert.deepEqual(sh.decoder, [2, 28, 28, 1]);
  });

  /** The small network of the fixture with PyTorch's weights. */
  function small() {
    const o = torch.capsNetSmall.options;
    const m = zoo.capsNet(o);
    const [C, K, TP] = [o.channels, o.convChannels, o.primaryTypes * o.primaryDim];
    load(m, "conv1/w", hwio(fill(K * C * 81, 1, 0.3), K, C, 9));
    load(m, "conv1/b", fill(K, 2, 0.1));
    load(m, "primaryCaps/w", hwio(fill(TP * K * 81, 3, 0.3), TP, K, 9));
    load(m, "primaryCaps/b", fill(TP, 4, 0.1));
    load(m, "digitCaps/W", fill(m.params["digitCaps/W"].data.length, 5, 2));
    const sizes = [o.classes * o.digitDim, 512, 1024, o.height * o.width * o.channels];
    for (let k = 0; k < 3; k++) linear(m, `decoder/fc${k + 1}/W`, `decoder/fc${k + 1}/b`, sizes[k], sizes[k + 1], 6 + 2 * k, 0.05, 0.1);
    const B = torch.capsNetSmall.labels.length;
    const x = { shape: [B, o.height, o.width, o.channels], data: Float64Array.from(fill(B * o.height * o.width * o.channels, 20, 0.5, 0.5)) };
    const target = torch.capsNetSmall.labels.map((l: number) => Array.from({ length: o.classes }, (_, j) => (j === l ? 1 : 0)));
    return { m, inputs: { x, target } };
  }

  for (const [backend, tol] of [["reference", 1e-9], ["fast", 2e-4]] as const)
    it(`routes by agreement as the paper's loop does: every iteration's coupling coefficients and outputs, the lengths and the losses (${backend})`, async () => {
      const { m, inputs } = small();
      const out = torch.capsNetSmall.outputs;
      const { outputs, trace } = await m.run(inputs, { backend });
      close(trace.get("primaryCaps/u"), out.u, tol, "u");
      close(trace.get("digitCaps/uHat"), out.uHat, tol, "û");
      for (const r of [1, 2, 3]) {
        close(trace.get(`routing${r}/c`), at(out.c, r - 1), tol, `c at iteration ${r}`);
        close(trace.get(`routing${r}/v`), at(out.v, r - 1), tol, `v at iteration ${r}`);
      }
      // Routing changed the couplings: the last iteration's are far from the uniform 1/10.
      const c3 = trace.get("routing3/c").data;
      assert.ok(Math.max(...c3) > 0.3 && Math.min(...c3) < 0.03);
      close(outputs.lengths, out.lengths, tol, "lengths");
      close(outputs.reconstruction, out.reconstruction, tol, "reconstruction");
      close(outputs.margin, out.margin, tol, "margin loss");
      close(outputs.reconLoss, out.reconLoss, tol * 10, "reconstruction loss");
      close(outputs.loss, out.loss, tol, "loss");
    });

  it("backpropagates through the three routing iterations as PyTorch's autograd does: ∂loss/∂(conv, primary caps, transforms W, decoder)", async () => {
    const { m, inputs } = small();
    const o = torch.capsNetSmall.options;
    const gr = torch.capsNetSmall.grads;
    const g = m.backward(await m.run(inputs, { backend: "reference" }), { loss: 1 });
    const K = o.convChannels;
    const scaled = (v: Stored) => Math.max(1, ...v.data.map(Math.abs));
    close(g.params["conv1/w"], { shape: [9, 9, o.channels, K], data: hwio(gr["conv1.weight"].data, K, o.channels, 9) }, 1e-9 * scaled(gr["conv1.weight"]), "∂loss/∂conv1/w");
    close(g.params["conv1/b"], gr["conv1.bias"], 1e-9 * scaled(gr["conv1.bias"]), "∂loss/∂conv1/b");
    close(g.params["primaryCaps/b"], gr["primary.bias"], 1e-9 * scaled(gr["primary.bias"]), "∂loss/∂primaryCaps/b");
    const W = g.params["digitCaps/W"];
    close({ shape: [2, ...W.shape.slice(1)], data: W.data.slice(0, gr.W01.data.length) }, gr.W01, 1e-9 * scaled(gr.W01), "∂loss/∂W for primary capsules 0 and 1");
    close(g.params["decoder/fc3/b"], gr["fc3.bias"], 1e-9 * scaled(gr["fc3.bias"]), "∂loss/∂decoder/fc3/b");
  });

  it("draws each routing iteration as a box, fed by the predictions û and the previous iteration's logits", () => {
    const m = zoo.capsNet({ convChannels: 8, primaryTypes: 2 });
    const dot = modelDiagram(m).toDot();
    for (const r of [1, 2, 3]) assert.match(dot, new RegExp(`routing${r}: Routing`));
    const d = modelDiagram(m, { expand: ["routing2"] });
    assert.ok(d.nodes.some((n) => n.title === "c" && n.cluster !== undefined), "an expanded iteration shows its coupling coefficients c");
  });

  it("is the same model for the same seed, another for another seed", async () => {
    const [a, b, c] = [3, 3, 4].map((seed) => zoo.capsNet({ convChannels: 8, primaryTypes: 2, seed }));
    assert.deepEqual(a.params["digitCaps/W"].data, b.params["digitCaps/W"].data);
    assert.notDeepEqual(a.params["conv1/w"].data, c.params["conv1/w"].data);
  });

  it("names a bad option", () => {
    assert.throws(() => zoo.capsNet({ height: 16 }), named("bad-option", /height of zoo\.capsNet/));
    assert.throws(() => zoo.capsNet({ iterations: 0 }), named("bad-option", /iterations of zoo\.capsNet/));
    assert.throws(() => zoo.capsNet({ reconstruction: "yes" as never }), named("bad-option", /reconstruction of zoo\.capsNet/));
    assert.throws(() => zoo.capsNet({ routing: 3 } as never), named("unknown-name", /routing/));
  });
});

describe("zoo.vae is Kingma & Welling's VAE: the reparameterised sample, the Bernoulli decoder, the negative ELBO", () => {
  const f = torch.vae;
  function withTorchWeights() {
    const m = zoo.vae({ ...f.sizes, noise: "input" });
    const { NInput: I, NHidden: H, NLatent: L } = f.sizes;
    linear(m, "encoder/W1", "encoder/b1", I, H, 30, 0.6, 0.2);
    linear(m, "encoder/W_mu", "encoder/b_mu", H, L, 32, 0.6, 0.2);
    linear(m, "encoder/W_logvar", "encoder/b_logvar", H, L, 34, 0.6, 0.2);
    linear(m, "decoder/W1", "decoder/b1", L, H, 36, 0.6, 0.2);
    linear(m, "decoder/W2", "decoder/b2", H, I, 38, 0.6, 0.2);
    return m;
  }

  it("has PyTorch's parameter counts (the paper's MNIST size: 815 824) and its shapes", () => {
    assert.equal(zoo.vae().summary({ B: 1 }).totalParams, f.fullParams);
    assert.equal(zoo.vae(f.sizes).summary({ B: 1 }).totalParams, f.params);
    assert.deepEqual(shapes(zoo.vae(), { B: 5 }), { x: [5, 784], encoder: [5, 20], sample: [5, 20], decoder: [5, 784], elbo: [], loss: [] });
  });

  for (const [backend, tol] of [["reference", 1e-9], ["fast", 1e-4]] as const)
    it(`computes μ, log σ², z = μ + σ ⊙ ε, the probabilities and the loss terms as PyTorch's BCE and KL divergence do (${backend})`, async () => {
      const { outputs } = await withTorchWeights().run({ x: nd(f.x), eps: nd(f.eps) }, { backend });
      for (const k of ["mu", "logVar", "z", "p", "reconstruction", "kl", "loss"]) close(outputs[k], f.outputs[k], k === "reconstruction" || k === "loss" ? tol * 10 : tol, k);
    });

  it("has PyTorch's gradients of the negative ELBO for every weight (through the reparameterised sample)", async () => {
    const m = withTorchWeights();
    const g = m.backward(await m.run({ x: nd(f.x), eps: nd(f.eps) }, { backend: "reference" }), { loss: 1 });
    const { NInput: I, NHidden: H, NLatent: L } = f.sizes;
    const layers = [["encoder/W1", "encoder/b1", "enc1", I, H], ["encoder/W_mu", "encoder/b_mu", "enc_mu", H, L], ["encoder/W_logvar", "encoder/b_logvar", "enc_lv", H, L], ["decoder/W1", "decoder/b1", "dec1", L, H], ["decoder/W2", "decoder/b2", "dec2", H, I]] as const;
    for (const [W, b, name, nIn, nOut] of layers) {
      close(g.params[W], { shape: [nIn, nOut], data: transposed(f.grads[name].weight.data, nOut, nIn) }, 1e-9, `∂loss/∂${W}`);
      close(g.params[b], f.grads[name].bias, 1e-9, `∂loss/∂${b}`);
    }
  });

  it("draws ε with the seeded randomNormal op: recorded, the same for the same noiseSeed, standard normal, and z = μ + σ ⊙ ε", async () => {
    const x = { shape: [4000, 784], data: new Float64Array(4000 * 784).fill(0.5) };
    const runs = await Promise.all([zoo.vae({ NHidden: 8, NLatent: 5 }), zoo.vae({ NHidden: 8, NLatent: 5 }), zoo.vae({ NHidden: 8, NLatent: 5, noiseSeed: 1 })].map((m) => m.run({ x }, { backend: "reference" })));
    const eps = runs.map((r) => r.trace.get("sample/ε").data);
    assert.deepEqual(eps[0], eps[1]);
    assert.notDeepEqual(eps[0], eps[2]);
    const draws = [...eps[0]];
    const n = draws.length;
    const m = draws.reduce((s, v) => s + v, 0) / n;
    const sd = Math.sqrt(draws.reduce((s, v) => s + (v - m) ** 2, 0) / n);
    assert.ok(Math.abs(m) < 0.03 && Math.abs(sd - 1) < 0.03, `ε: mean ${m}, standard deviation ${sd}`);
    const { trace } = runs[0];
    const [mu, logVar, z] = ["encoder/μ", "encoder/logσ2", "sample/z"].map((p) => trace.get(p).data);
    for (let i = 0; i < n; i++) assert.ok(Math.abs(z[i] - (mu[i] + Math.exp(0.5 * logVar[i]) * eps[0][i])) < 1e-12);
  });

  it("builds its decoder alone with the same parameter paths: a trained VAE's decoder samples from z", async () => {
    const full = withTorchWeights();
    const dec = zoo.vae({ ...f.sizes, part: "decoder" });
    assert.deepEqual(Object.keys(dec.params).sort(), Object.keys(full.params).filter((k) => k.startsWith("decoder/")).sort());
    for (const [k, v] of Object.entries(dec.params)) v.data.set(full.params[k].data);
    const { outputs } = await dec.run({ z: nd(f.outputs.z) }, { backend: "reference" });
    close(outputs.p, f.outputs.p, 1e-9, "p from z");
  });

  it("names a bad option", () => {
    assert.throws(() => zoo.vae({ noise: "gaussian" as never }), named("bad-option", /noise of zoo\.vae/));
    assert.throws(() => zoo.vae({ part: "encoder" as never }), named("bad-option", /part of zoo\.vae/));
    assert.throws(() => zoo.vae({ NLatent: 0 }), named("bad-option", /NLatent of zoo\.vae/));
    assert.throws(() => zoo.vae({ noiseSeed: 0.5 }), named("bad-option", /noiseSeed of zoo\.vae/));
  });
});

describe("zoo.gan is Goodfellow et al.'s GAN: one discriminator on real and generated data, and its losses", () => {
  const f = torch.gan;
  function withTorchWeights() {
    const m = zoo.gan({ ...f.sizes, noise: "input" });
    const { NLatent: L, NHidden: H, NData: D } = f.sizes;
    linear(m, "generator/W1", "generator/b1", L, H, 50, 0.7, 0.2);
    linear(m, "generator/W2", "generator/b2", H, D, 52, 0.7, 0.2);
    linear(m, "D_V1", "D_c1", D, H, 54, 0.7, 0.2);
    linear(m, "D_V2", "D_c2", H, 1, 56, 0.7, 0.2);
    return m;
  }

  it("computes the generated batch, D on both batches and the losses as PyTorch's binary cross-entropy does", async () => {
    const m = withTorchWeights();
    assert.equal(m.summary({ B: 1 }).totalParams, f.params);
    for (const [backend, tol] of [["reference", 1e-9], ["fast", 1e-5]] as const) {
      const { outputs } = await m.run({ x: nd(f.x), z: nd(f.z) }, { backend });
      for (const k of ["fake", "dReal", "dFake", "lossReal", "lossFake", "lossD", "lossG"]) close(outputs[k], f.outputs[k], tol, `${k} (${backend})`);
    }
  });

  it("has PyTorch's gradients: ∂lossD/∂(discriminator, summed over its two uses) and ∂lossG/∂(generator)", async () => {
    const m = withTorchWeights();
    const run = await m.run({ x: nd(f.x), z: nd(f.z) }, { backend: "reference" });
    const { NLatent: L, NHidden: H, NData: D } = f.sizes;
    const check = (seed: string, layers: [string, string, number, number][], grads: Stored[]) => {
      const g = m.backward(run, { [seed]: 1 });
      layers.forEach(([W, b, nIn, nOut], k) => {
        close(g.params[W], { shape: [nIn, nOut], data: transposed(grads[2 * k].data, nOut, nIn) }, 1e-9, `∂${seed}/∂${W}`);
        close(g.params[b], grads[2 * k + 1], 1e-9, `∂${seed}/∂${b}`);
      });
    };
    check("lossD", [["D_V1", "D_c1", D, H], ["D_V2", "D_c2", H, 1]], f.grads.lossD);
    check("lossG", [["generator/W1", "generator/b1", L, H], ["generator/W2", "generator/b2", H, D]], f.grads.lossG);
  });

  it("summarises the generator fed by the random noise op as a layer, like one fed by an input", () => {
    // Rows are the data path; the noise z drawn by randomNormal starts it as an input would.
    for (const noise of ["op", "input"] as const) {
      const s = zoo.gan({ noise }).summary({ B: 8 });
      assert.deepEqual(s.rows.map((r) => [r.name, r.shape, r.params]), [
        ["x", [8, 784], 0],
        ["z", [8, 16], 0],
        ["generator", [8, 784], 16 * 128 + 128 + 128 * 784 + 784],
        ["dReal", [8, 1], 784 * 128 + 128 + 128 + 1],
        ["dFake", [8, 1], 0],
        ["losses", [], 0],
      ], noise);
    }
  });

  it("ties the discriminator: one weight read on the real and on the generated batch, drawn once", async () => {
    const m = zoo.gan({ NData: 4, NLatent: 2, NHidden: 3 });
    const V1 = m.graph.params.find((p) => p.path === "D_V1")!;
    const readers = m.graph.nodes.filter((t) => t.inputs.includes(V1)).map((t) => t.path);
    assert.deepEqual(readers.map((p) => p.split("/")[0]).sort(), ["dFake", "dReal"]);
    assert.equal(modelDiagram(m).nodes.filter((n) => n.title === "D_V1").length, 1);
    const x = [[0.1, 0.9, 0.3, 0.5]];
    const before = (await m.run({ x }, { backend: "reference" })).outputs;
    m.params.D_V1.data[0] += 1;
    const after = (await m.run({ x }, { backend: "reference" })).outputs;
    assert.notEqual(before.dReal.data[0], after.dReal.data[0]);
    assert.notEqual(before.dFake.data[0], after.dFake.data[0]);
  });

  it("draws z with the seeded op: reproducible per noiseSeed", async () => {
    const run = (noiseSeed: number) => zoo.gan({ NData: 4, NLatent: 3, NHidden: 5, noiseSeed }).run({ x: [[0, 0, 0, 0], [1, 1, 1, 1]] }, { backend: "reference" });
    const [a, b, c] = await Promise.all([run(0), run(0), run(2)]);
    assert.deepEqual(a.outputs.fake.data, b.outputs.fake.data);
    assert.notDeepEqual(a.trace.get("z").data, c.trace.get("z").data);
  });

  it("names a bad option", () => {
    assert.throws(() => zoo.gan({ output: "tanh" as never }), named("bad-option", /output of zoo\.gan/));
    assert.throws(() => zoo.gan({ noise: 1 as never }), named("bad-option", /noise of zoo\.gan/));
    assert.throws(() => zoo.gan({ NHidden: -2 }), named("bad-option", /NHidden of zoo\.gan/));
  });
});
