import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ArchlabError } from "../errors";
import * as nn from "../lang";
import type { Model, ND } from "../lang";
import * as nd from "../lang/nd";
import type { ScanInfo } from "../lang/build";
import * as zoo from ".";

/** torchvision's models (weights=None) and ResNet-18's values: src/zoo/fixtures/torchvision-cnns.py. */
const torchvision = JSON.parse(readFileSync(join(__dirname, "fixtures", "torchvision-cnns.json"), "utf8"));

/** The fixture's fill: pattern(n, seed)[k] = (((k·7 + seed·13) % 23) − 11) / 11, row-major in PyTorch's layout. */
const pattern = (n: number, seed: number) => Float64Array.from({ length: n }, (_, k) => (((k * 7 + seed * 13) % 23) - 11) / 11);

/** A PyTorch conv weight OIHW as archlab's HWIO. */
function hwio(w: Float64Array, [O, I, KH, KW]: number[]): Float64Array {
  const out = new Float64Array(w.length);
  for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) for (let y = 0; y < KH; y++) for (let x = 0; x < KW; x++) out[((y * KW + x) * I + i) * O + o] = w[((o * I + i) * KH + y) * KW + x];
  return out;
}
/** A PyTorch Linear weight [Out, In] as archlab's [In, Out]. */
function inOut(w: Float64Array, [O, I]: number[]): Float64Array {
  const out = new Float64Array(w.length);
  for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) out[i * O + o] = w[o * I + i];
  return out;
}
const BN: Record<string, string> = { weight: "gamma", bias: "beta", running_mean: "mean", running_var: "var" };
/** torchvision's ResNet state-dict key as archlab's parameter path: `layer2.0.bn1.weight` → `layer2/0/conv1/gamma`. */
function resnetPath(key: string): string {
  const parts = key.split(".");
  const leaf = parts.pop()!;
  if (parts[0] === "fc") return `fc/${leaf === "weight" ? "w" : "b"}`;
  const owner = parts.join("/").replace(/^bn1$/, "conv1").replace(/bn(\d)$/, "conv$1").replace(/downsample\/[01]$/, "downsample");
  const isBn = /(^|\/)bn\d$/.test(parts.join("/")) || parts[parts.length - 1] === "1";
  return `${owner}/${isBn ? BN[leaf] : "w"}`;
}

/** torchvision's GoogLeNet state-dict key as archlab's parameter path: `inception3a.branch2.1.bn.weight` → `inception3a/branch2/conv2/gamma`. */
function googlenetPath(key: string): string {
  const parts = key.split(".");
  const leaf = parts.pop()!;
  if (parts[0] === "fc") return `fc/${leaf === "weight" ? "w" : "b"}`;
  const module = parts.pop(); // BasicConv2d's conv or bn
  const owner = parts.join("/").replace(/(branch[23])\/([01])$/, (_, b, i) => `${b}/conv${Number(i) + 1}`).replace(/branch4\/1$/, "branch4/conv").replace(/branch1$/, "branch1/conv");
  return `${owner}/${module === "bn" ? BN[leaf] : "w"}`;
}

function closeRelative(actual: ND, expected: { shape: number[]; data: number[] }, tol: number, what: string) {
  assert.deepEqual([...actual.shape], expected.shape, `${what}: shape`);
  const scale = Math.max(...expected.data.map(Math.abs));
  let worst = 0;
  expected.data.forEach((e, i) => (worst = Math.max(worst, Math.abs(actual.data[i] - e) / scale)));
  assert.ok(worst <= tol, `${what}: largest difference ${worst} × the largest |value| > ${tol}`);
}

/** Every row but the input, as the fixture lists them. */
const rows = (m: Model) => m.summary({ B: 1 }).rows.filter((r) => r.op !== "Input").map(({ name, shape, params }) => ({ name, shape, params }));

const named = (code: string, pattern: RegExp) => (e: unknown) => e instanceof ArchlabError && e.code === code && pattern.test(e.message);

describe("zoo's ImageNet CNNs are torchvision's: every layer's output shape and parameter count at [1, 224, 224, 3]", () => {
  const ISSUE = { alexnet: 61_100_840, vgg16: 138_357_544, googlenet: 6_624_904, resnet18: 11_689_512 };
  for (const [name, total] of Object.entries(ISSUE) as [keyof typeof ISSUE, number][]) {
    it(`${name}: ${total.toLocaleString("en-US")} parameters, layer by layer`, () => {
      const m = zoo[name]();
      assert.equal(torchvision[name].params, total);
      assert.equal(m.summary({ B: 1 }).totalParams, total);
      assert.deepEqual(rows(m), torchvision[name].rows);
    });
  }

  it("ResNet-18 without shortcuts is the paper's plain 18-layer net: the same shapes, no downsample convolutions", () => {
    const plain = zoo.resnet18({ shortcuts: false });
    assert.deepEqual(rows(plain).map((r) => r.shape), torchvision.resnet18.rows.map((r: { shape: number[] }) => r.shape));
    assert.ok(!Object.keys(plain.params).some((p) => p.includes("downsample")));
    assert.equal(plain.summary({ B: 1 }).totalParams, 11_689_512 - (64 * 128 + 2 * 128) - (128 * 256 + 2 * 256) - (256 * 512 + 2 * 512));
  });
});

describe("zoo.adaptiveAvgPool is PyTorch's AdaptiveAvgPool2d (the identity at AlexNet's and VGG's 224 sizes, not elsewhere)", () => {
  const { input: given, size: [oh, ow], output } = torchvision.adaptiveAvgPool;
  const [, H, W, C] = given.shape;
  const m = nn.model("Pool", {}, () => ({ y: zoo.adaptiveAvgPool("pool", nn.input("x", ["B", H, W, C]), oh, ow) }));
  for (const backend of ["reference", "fast"] as const)
    it(`pools [1, ${H}, ${W}, ${C}] to ${oh}×${ow} as PyTorch does (${backend})`, async () => {
      const { outputs } = await m.run({ x: given }, { backend });
      closeRelative(outputs.y, output, backend === "reference" ? 1e-12 : 1e-6, "pooled");
    });
});

for (const [name, fixture, pathOf, block] of [
  ["resnet18", "resnet18Values", resnetPath, ["layer4", "layer4/1/out"]],
  ["googlenet", "googlenetValues", googlenetPath, ["inception4e", "inception4e/concat"]],
] as const)
  describe(`zoo.${name} computes what torchvision's does, with the same weights`, () => {
    const values = torchvision[fixture];
    const S = values.image;
    /** The model at the fixture's image size with every state-dict entry's formula weights, converted to NHWC layouts. */
    function withTorchWeights() {
      const m = zoo[name]({ height: S, width: S });
      const params = m.params;
      const seen = new Set<string>();
      for (const { key, shape, seed, scale, offset } of values.entries as { key: string; shape: number[]; seed: number; scale: number; offset: number }[]) {
        const raw = pattern(shape.reduce((a, b) => a * b, 1), seed).map((v) => offset + scale * v);
        const path = pathOf(key);
        const p = params[path];
        assert.ok(p, `${key} → ${path}: no such parameter`);
        p.data.set(shape.length === 4 ? hwio(raw, shape) : shape.length === 2 ? inOut(raw, shape) : raw);
        seen.add(path);
      }
      assert.deepEqual([...seen].sort(), Object.keys(params).sort(), "every parameter loaded once");
      return { m, x: { shape: [1, S, S, 3], data: pattern(S * S * 3, 99) } };
    }

    it(`reference interpreter (float64) on a [1, ${S}, ${S}, 3] image: ${block[0]} and the logits to 1e-9`, async () => {
      const { m, x } = withTorchWeights();
      const { outputs, trace } = await m.run({ x }, { backend: "reference" });
      closeRelative(trace.get(block[1]), values[block[0]], 1e-9, block[0]);
      closeRelative(outputs.logits, values.logits, 1e-9, "logits");
    });

    it("fast path (tfjs, float32): the logits to 1e-4 of PyTorch's float32 ones", async () => {
      const { m, x } = withTorchWeights();
      const { outputs } = await m.run({ x });
      closeRelative(outputs.logits, values.logitsFloat32, 1e-4, "logits");
    });
  });

describe("ResNet-18's skips carry the gradient down (notebook 16's claim)", () => {
  it("‖∂L/∂x‖ at the image is about 1/30 of the top block's input's with skips, below 1e-6 of it without (L = Σ logits, 32×32)", async () => {
    const side = 32;
    const x = { shape: [1, side, side, 3], data: Float64Array.from({ length: side * side * 3 }, (_, i) => Math.sin(0.37 * i) * Math.cos(0.011 * i)) };
    const norm = (v: ND) => Math.hypot(...v.data);
    const ratio = async (shortcuts: boolean) => {
      const m = zoo.resnet18({ height: side, width: side, classes: 10, shortcuts });
      const g = m.backward(await m.run({ x }, { backend: "reference" }), { logits: 1 });
      return norm(g.inputs.x) / norm(g.trace.get("layer4/0/out"));
    };
    const [withSkips, without] = [await ratio(true), await ratio(false)];
    assert.ok(withSkips > 1 / 100 && withSkips < 1 / 10, `with skips: ${withSkips}`);
    assert.ok(without < 1e-6, `without skips: ${without}`);
  });
});

describe("zoo.drcn: one convolution applied recursively with shared weights, a prediction per recursion", () => {
  const sizes = { filters: 4, recursions: 3, height: 6, width: 5 };
  const x = { shape: [1, 6, 5, 1], data: pattern(30, 5) };

  it("has one inference filter W, read by the recursion body's one convolution at every step", () => {
    const m = zoo.drcn(sizes);
    assert.deepEqual(Object.keys(m.params).filter((p) => p.startsWith("recursion/") && !p.includes("reconstruct")), ["recursion/W", "recursion/b"]);
    const scanNode = m.graph.nodes.find((t) => t.op === "scan")!;
    const info = scanNode.attrs.scan as ScanInfo;
    assert.equal(info.length.constant, 3);
    const W = m.graph.params.find((p) => p.path === "recursion/W")!;
    const readers = info.body.filter((t) => t.inputs.includes(W));
    assert.deepEqual(readers.map((t) => t.op), ["conv2d"]);
    // Counted once, as PyTorch counts one nn.Conv2d used D times.
    const F = sizes.filters;
    const convs = (cin: number, cout: number) => 9 * cin * cout + cout;
    assert.equal(m.summary({ B: 1 }).totalParams, convs(1, F) + convs(F, F) + convs(F, F) + convs(F, F) + convs(F, 1) + sizes.recursions);
  });

  it("every recursion's H_d = relu(W ∗ H_{d−1} + b) with the same W, ŷ_d = x + reconstruction(H_d), ŷ = Σ w_d ŷ_d (a plain loop)", async () => {
    const m = zoo.drcn(sizes);
    const p = m.params;
    p["average/w"].data.set([0.2, 0.3, 0.5]);
    const { trace, outputs } = await m.run({ x }, { backend: "reference" });
    const conv = (h: ND, w: string, b: string) => nd.zip(nd.conv2d(h, p[w], 1, 1, 1), p[b], (u, v) => u + v);
    const relu = (v: ND) => nd.map(v, (u) => Math.max(u, 0));
    let h = trace.get("embed/conv2/relu");
    const ys: ND[] = [];
    for (let d = 0; d < sizes.recursions; d++) {
      h = relu(conv(h, "recursion/W", "recursion/b"));
      assert.deepEqual([...nd.slice(trace.get("recursion/h"), 0, d, 1).data], [...h.data], `H_${d + 1}`);
      const detail = conv(relu(conv(h, "recursion/reconstruct/hidden/w", "recursion/reconstruct/hidden/b")), "recursion/reconstruct/out/w", "recursion/reconstruct/out/b");
      ys.push(nd.zip(detail, { shape: x.shape, data: x.data }, (u, v) => u + v));
      assert.deepEqual([...nd.slice(outputs.ys, 0, d, 1).data], [...ys[d].data], `ŷ_${d + 1}`);
    }
    const y = ys.reduce((acc, yd, d) => nd.zip(acc, yd, (u, v) => u + [0.2, 0.3, 0.5][d] * v), nd.zeros(ys[0].shape));
    outputs.y.data.forEach((v, i) => assert.ok(Math.abs(v - y.data[i]) < 1e-12, `ŷ at ${i}`));
  });
});

describe("zoo.crmn: a ResNet whose blocks' pooled outputs are an LSTM's input sequence", () => {
  it("has the stages' shapes, one LSTM step per basic block, and classifies [LSTM's h, the last features]", async () => {
    const m = zoo.crmn({ widths: [4, 8], blocks: 2, NHidden: 5, classes: 3, height: 8, width: 8 });
    const s = m.summary({ B: 2 });
    const shapes = Object.fromEntries(s.rows.map((r) => [r.name, r.shape]));
    assert.deepEqual(shapes, { x: [2, 8, 8, 3], stem: [2, 8, 8, 4], stage1: [2, 8, 8, 4], stage2: [2, 4, 4, 8], features: [4, 2, 8], memory: [4, 2, 5], joined: [2, 13], fc: [2, 3] });
    const x = { shape: [2, 8, 8, 3], data: pattern(2 * 8 * 8 * 3, 3) };
    const { trace, outputs } = await m.run({ x }, { backend: "reference" });
    assert.deepEqual(outputs.logits.shape, [2, 3]);
    // Step 1 of the memory reads block stage1/1's output averaged over the map, zero-padded from 4 to 8 channels.
    const block = trace.get("stage1/1/out");
    const pooled = nd.reduce(block, [1, 2], 0, (a, v) => a + v, (a, n) => a / n);
    const step = nd.slice(trace.get("features/seq"), 0, 1, 1);
    for (let b = 0; b < 2; b++)
      for (let c = 0; c < 8; c++) assert.ok(Math.abs(step.data[b * 8 + c] - (c < 4 ? pooled.data[b * 4 + c] : 0)) < 1e-12, `batch ${b} channel ${c}`);
    assert.deepEqual(trace.get("memory/h").shape, [4, 2, 5]);
  });
});

describe("the CNN entries refuse bad options by name", () => {
  it("names the option, the value and what is expected", () => {
    assert.throws(() => zoo.googlenet({ height: 100 }), named("bad-option", /height of zoo\.googlenet.*multiple of 32/s));
    assert.throws(() => zoo.alexnet({ width: 20 }), named("bad-option", /width of zoo\.alexnet/));
    assert.throws(() => zoo.vgg16({ classes: 0 }), named("bad-option", /classes of zoo\.vgg16/));
    assert.throws(() => zoo.resnet18({ shortcuts: "yes" as unknown as boolean }), named("bad-option", /shortcuts of zoo\.resnet18/));
    assert.throws(() => zoo.resnet18({ depth: 34 } as object), (e: unknown) => e instanceof ArchlabError && /depth/.test(e.message) && /zoo\.resnet18/.test(e.message));
    assert.throws(() => zoo.drcn({ recursions: 0 }), named("bad-option", /recursions of zoo\.drcn/));
    assert.throws(() => zoo.crmn({ widths: [] }), named("bad-option", /widths of zoo\.crmn/));
    assert.throws(() => zoo.crmn({ height: 30, widths: [4, 8, 16] }), named("bad-option", /height of zoo\.crmn.*multiple of 4/s));
  });
});
