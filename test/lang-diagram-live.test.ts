/**
 * Live values on diagrams of the definition language's models (`modelDiagram(m, { trace, t, b })`),
 * read back from Graphviz's SVG with an HTML parser (test/support/svg.ts, layout.ts) and compared
 * with values computed here in plain loops from the model's parameters and inputs (the DB-LSTM's
 * shortcut m = A h + B m + b, an ELM's tanh(x W), an ESN's reservoir), and with the trace: a scan
 * body at step t, a reversed scan at the step that reads position t, top-level tensors at position t
 * of their time axis, others whole; the box coloured on the cells' diverging scale; named errors for
 * a trace of another model and a step or batch row out of range; text escaped, inside its box, and
 * drawn by the bundled font.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { modelDiagram } from "../src/diagram/graph";
import { divergingColor } from "../src/diagram/theme";
import { ArchlabError } from "../src/errors";
import { cell, dbLstm, LSTM, nn, zoo } from "../src";
import { pngFonts } from "../src/display/image";
import { charset } from "./support/fonts";
import { inside, readLayout } from "./support/layout";
import { convAutoEncoder, elm, esn } from "./support/lang-models";
import { readSvg as readSvgRaw } from "./support/svg";

const { model, input, param, named, matmul, tanh, add, scan, layer, inits } = nn;

const nodeText = async (d: ReturnType<typeof modelDiagram>) =>
  Object.fromEntries(Object.entries(readSvgRaw(await d.toSvg()).nodeText).map(([k, v]) => [k, v.replace(/\s+/g, " ").trim()]));

/** The numbers of a node's live line, as drawn: `[0.04, −0.19]` → [0.04, -0.19]. */
const shown = (text: string): number[] => {
  const m = text.match(/\[([^\]]*)\]$/);
  assert.ok(m, `a vector of values at the end of "${text}"`);
  return m[1].split(", ").map((s) => Number(s.replace("−", "-")));
};
/** `64 values: mean 0.12, min −0.50, max 0.90` → { count, mean, min, max }. */
const summary = (text: string) => {
  const m = text.match(/([\d×]+) values: mean (\S+), min (\S+), max (\S+)$/);
  assert.ok(m, `a summary at the end of "${text}"`);
  const n = (s: string) => Number(s.replace(/,$/, "").replace("−", "-"));
  return { size: m[1], mean: n(m[2]), min: n(m[3]), max: n(m[4]) };
};
/** Drawn with two decimals: within half a unit of the last place. */
const near = (got: number[], want: number[], what: string) => {
  assert.equal(got.length, want.length, `${what}: ${got.length} numbers shown, expected ${want.length}`);
  want.forEach((w, i) => assert.ok(Math.abs(got[i] - w) <= 0.005 + 1e-9, `${what}[${i}]: shown ${got[i]}, computed ${w}`));
};
const stats = (v: number[]) => ({ mean: v.reduce((a, x) => a + x, 0) / v.length, min: Math.min(...v), max: Math.max(...v) });
const nearStats = (text: string, v: number[], size: string, what: string) => {
  const s = summary(text);
  assert.equal(s.size, size, what);
  const want = stats(v);
  near([s.mean, s.min, s.max], [want.mean, want.min, want.max], `${what} mean, min, max`);
};
/** Row `[i][j]` of a flat row-major array of shape `shape`, all trailing entries. */
const at = (data: ArrayLike<number>, shape: readonly number[], index: number[]) => {
  const inner = shape.slice(index.length).reduce((a, d) => a * d, 1);
  let offset = 0;
  index.forEach((i, k) => (offset = offset * shape[k] + i));
  return Array.from(data).slice(offset * inner, (offset + 1) * inner);
};
/** `[[…]] · v` as plain loops: row vector `v` times matrix `M` [rows, cols]. */
const vecMat = (v: number[], M: ArrayLike<number>, cols: number) => Array.from({ length: cols }, (_, j) => v.reduce((s, x, i) => s + x * M[i * cols + j], 0));
/** The fill of node `id`'s shape in the SVG. */
const fillOf = (svg: string, id: string) => {
  const start = svg.indexOf(`<title>${id}</title>`);
  assert.ok(start >= 0, `node ${id} in the SVG`);
  return svg.slice(start).match(/fill="([^"]+)"/)![1];
};

describe("live DB-LSTM (issue 12 item 10): its shortcut blocks show their values", () => {
  const db = dbLstm({ inputSize: 3, hiddenSize: 4, depth: 3, seed: 1 });
  const m = nn.dbLstmModel(db);
  const T = 5, B = 2;
  const xs = Array.from({ length: T }, (_, t) => Array.from({ length: B }, (_, b) => [Math.sin(t + b), Math.cos(2 * t), t / T - b]));
  const run = m.run({ x: xs }, { backend: "reference" });

  it("m1 shows trace.get('m1/m') at each step t and batch row b, and that equals A h⁽⁰⁾ + B x + b computed here", async () => {
    const { trace } = await run;
    const w = db.weights().m1 as { A: number[][]; B: number[][]; b: number[] };
    const mm = trace.get("m1/m");
    const h0 = trace.get("l0_h");
    for (const [t, b] of [[0, 0], [3, 1], [4, 0]]) {
      const text = (await nodeText(modelDiagram(m, { trace, t, b, fold: ["l0", "l1_reverse", "l2"] }))).m1;
      assert.match(text, /^m1: Shortcut \[T, B, H\] \[/);
      near(shown(text), at(mm.data, mm.shape, [t, b]), `m1 at t = ${t}, b = ${b} vs trace.get("m1/m")`);
      const h = at(h0.data, h0.shape, [t, b]);
      const byHand = w.b.map((bias, i) => bias + w.A[i].reduce((s, a, j) => s + a * h[j], 0) + w.B[i].reduce((s, a, j) => s + a * xs[t][b][j], 0));
      near(shown(text), byHand, `m1 at t = ${t}, b = ${b} vs A h + B x + b`);
    }
  });

  it("expanded, the shortcut's op m = … shows the same numbers, and the title says which step and row", async () => {
    const { trace } = await run;
    const svg = await modelDiagram(m, { trace, t: 2, b: 1, expand: ["m2"], fold: ["l0", "l1_reverse", "l2"] }).toSvg();
    const s = readSvgRaw(svg);
    const text = s.nodeText["m2/m"].replace(/\s+/g, " ").trim();
    assert.match(text, /^m = /);
    const mm = trace.get("m2/m");
    near(shown(text), at(mm.data, mm.shape, [2, 1]), "m2/m at t = 2, b = 1");
    assert.ok(s.text.includes("DB_LSTM: 484 parameters at t = 2, batch row 1"), "the caption's title");
  });

  it("a reversed scan shows the step that reads position t: its h is the stacked output at t, its h_prev the output at t + 1", async () => {
    const { trace } = await run;
    const out = trace.get("l1_reverse_h");
    const text = await nodeText(modelDiagram(m, { trace, t: 1, b: 0 }));
    near(shown(text["l1_reverse/h"]), at(out.data, out.shape, [1, 0]), "l1_reverse/h at position 1");
    near(shown(text["l1_reverse/h_prev"]), at(out.data, out.shape, [2, 0]), "l1_reverse/h_prev at position 1 (the step that read position 2 ran before)");
    // A forward scan's previous state is the output one position earlier.
    const fwd = trace.get("l0_h");
    near(shown(text["l0/h_prev"]), at(fwd.data, fwd.shape, [0, 0]), "l0/h_prev at position 1");
    // Default: the last position.
    const last = await nodeText(modelDiagram(m, { trace }));
    near(shown(last["l1_reverse/h"]), at(out.data, out.shape, [T - 1, 0]), "default t = T − 1");
  });
});

describe("live values outside and inside scans", () => {
  it("ELM (no scan): every node shows its one value for the batch row; 64 numbers summarised as size, mean, min, max; t is refused", async () => {
    const e = elm();
    const x = [[0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8], [1, 0, -1, 0.5, 0.25, -0.25, 0, 2]];
    const { trace } = await e.run({ x }, { backend: "reference" });
    const W = e.params.W.data;
    const text = await nodeText(modelDiagram(e, { trace, b: 1 }));
    const h = vecMat(x[1], W, 64).map(Math.tanh);
    nearStats(text.h, h, "64", "h = tanh(x W), row 1");
    nearStats(text.x, x[1], "8", "x row 1");
    near(shown(text["output:y"]), vecMat(h, e.params.Wout.data, 1), "y row 1");
    assert.doesNotMatch(text.W, /values/, "parameters carry no live value");
    assert.throws(() => modelDiagram(e, { trace, t: 0 }), (err: unknown) => err instanceof ArchlabError && /Option t = 0.*model ELM has no scan/.test(err.message));
  });

  it("ESN: the reservoir's h at step t equals the recurrence run here, x and h_prev are that step's; the box is filled with the mean's colour on the diverging scale", async () => {
    const e = esn();
    const T = 6, B = 2, H = 50;
    const x = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => [Math.sin(t + b), Math.cos(t * b) - 0.5]));
    const h0 = Array.from({ length: B }, (_, b) => Array.from({ length: H }, (_, i) => 0.01 * i * (b + 1)));
    const { trace } = await e.run({ x, h0 }, { backend: "reference" });
    const { Win, W } = e.params;
    let h = h0[1];
    const states = [h];
    for (let t = 0; t < T; t++) {
      const a = vecMat(x[1][t], Win.data, H);
      const r = vecMat(h, W.data, H);
      h = a.map((v, i) => Math.tanh(v + r[i]));
      states.push(h);
    }
    const d = modelDiagram(e, { trace, t: 4, b: 1 });
    const svg = await d.toSvg();
    const text = await nodeText(d);
    nearStats(text["reservoir/h"], states[5], "50", "reservoir/h at t = 4");
    nearStats(text["reservoir/h_prev"], states[4], "50", "reservoir/h_prev at t = 4");
    near(shown(text["reservoir/x"]), x[1][4], "reservoir/x at t = 4");
    near(shown(text.x), x[1][4], "the input x [B, T, In] at position 4");
    assert.equal(fillOf(svg, "reservoir/x"), divergingColor((x[1][4][0] + x[1][4][1]) / 2).fill);
    assert.equal(fillOf(svg, "reservoir/h"), divergingColor(stats(states[5]).mean).fill);
  });

  it("a folded block inside a scan (the NTM's read head) shows the value it hands on at step t", async () => {
    const net = zoo.ntm({ N: 6, W: 4, NController: 8, NInput: 3, NOutput: 3 });
    const bits = [Array.from({ length: 5 }, (_, t) => [t % 2, (t + 1) % 2, t / 5])];
    const { trace } = await net.run({ x: bits }, { backend: "reference" });
    const d = modelDiagram(net, { trace, t: 3 });
    const r = trace.get("ntm/r");
    near(shown((await nodeText(d))["ntm/r"]), at(r.data, r.shape, [3, 0]), "ntm/r at step 3");
    assertFits(await d.toSvg());
  });

  it("two scans of different lengths: at a position only the longer one has, the shorter one's nodes say so", async () => {
    const s2s = zoo.seq2seqAttention({ NIn: 2, NOut: 2, NHidden: 3, NAttention: 2 });
    const src = [Array.from({ length: 6 }, (_, t) => [Math.sin(t), Math.cos(t)])];
    const tgt = [Array.from({ length: 4 }, (_, t) => [t / 4, -t / 4])];
    const { trace } = await s2s.run({ src, tgt }, { backend: "reference" });
    const text = await nodeText(modelDiagram(s2s, { trace, t: 5 }));
    assert.match(text["decoder/alpha"], /no position 5 \(4 steps\)$/);
    const alpha = trace.get("decoder/alpha");
    const ok = await nodeText(modelDiagram(s2s, { trace, t: 3 }));
    near(shown(ok["decoder/alpha"]), at(alpha.data, alpha.shape, [3, 0]), "decoder/alpha at step 3 (weights over the 6 source steps)");
    assert.throws(() => modelDiagram(s2s, { trace, t: 6 }), (err: unknown) => err instanceof ArchlabError && err.code === "out-of-range" && /Step t 6.*0…5/.test(err.message));
  });
});

describe("live model diagrams: bad input", () => {
  it("names a trace of another model, a step or batch row out of range, t without a trace, and a cell's trace", async () => {
    const e = esn();
    const x = [[[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]];
    const { trace } = await e.run({ x, h0: [Array(50).fill(0)] });
    const other = (await elm().run({ x: [[1, 2, 3, 4, 5, 6, 7, 8]] })).trace;
    assert.throws(() => modelDiagram(e, { trace: other }), (err: unknown) => err instanceof ArchlabError && err.code === "bad-option" && /trace of model ELM.*trace of model ESN/.test(err.message));
    // The same definition built again is the same model.
    assert.doesNotThrow(() => modelDiagram(esn(), { trace }));
    assert.throws(() => modelDiagram(e, { trace, t: 3 }), (err: unknown) => err instanceof ArchlabError && err.code === "out-of-range" && /Step t 3 .*0…2/.test(err.message));
    assert.throws(() => modelDiagram(e, { trace, t: -1 }), (err: unknown) => err instanceof ArchlabError && err.code === "out-of-range");
    assert.throws(() => modelDiagram(e, { trace, t: 1.5 }), (err: unknown) => err instanceof ArchlabError && err.code === "out-of-range");
    assert.throws(() => modelDiagram(e, { trace, b: 1 }), (err: unknown) => err instanceof ArchlabError && err.code === "out-of-range" && /Batch row b 1 .*batch elements are 0…0/.test(err.message));
    assert.throws(() => modelDiagram(e, { t: 1 }), (err: unknown) => err instanceof ArchlabError && /t and b need a trace/.test(err.message));
    const cellTrace = cell(LSTM, { inputSize: 2, hiddenSize: 2 }).run([[[1, 2]]]);
    assert.throws(() => modelDiagram(e, { trace: cellTrace as never }), (err: unknown) => err instanceof ArchlabError && err.code === "bad-option" && /trace of model ESN/.test(err.message));
  });

  it("a non-finite value is shown as such, not as a number; a tiny negative one as 0.00, not −0.00", async () => {
    const m = model("Blowup", { In: 2 }, () => named("y", matmul(input("x", ["B", "In"]), param("W", ["In", "In"], { init: inits.ones }))));
    const { trace } = await m.run({ x: [[Infinity, -Infinity]] }, { backend: "reference" });
    assert.match((await nodeText(modelDiagram(m, { trace }))).y, /\[NaN, NaN\]$/);
    const tiny = await m.run({ x: [[-0.003, 0.001], [-2, 0.5]] }, { backend: "reference" });
    assert.match((await nodeText(modelDiagram(m, { trace: tiny.trace }))).y, /\[0\.00, 0\.00\]$/);
    assert.match((await nodeText(modelDiagram(m, { trace: tiny.trace, b: 1 }))).y, /\[−1\.50, −1\.50\]$/);
  });
});

/** Every text inside its node's box and the caption inside the picture, as resvg draws them in the bundled font. */
function assertFits(svg: string) {
  const layout = readLayout(svg);
  for (const node of layout.nodes)
    for (const t of node.texts) assert.ok(t.ink && inside(t.ink, node.box), `"${t.text}" (${JSON.stringify(t.ink)}) inside node ${node.id} (${JSON.stringify(node.box)})`);
  for (const t of layout.texts) assert.ok(t.ink && inside(t.ink, layout.viewBox), `caption line "${t.text}" inside the picture`);
}

describe("live model diagrams: escaping and readability", () => {
  const EVIL = `<script>alert(1)</script>"]; x [label="pwn`;
  it("escapes a hostile layer and scan kind with live values shown", async () => {
    const blk = layer(EVIL, (x: nn.Tensor) => named("y", tanh(matmul(x, param("W", ["In", "In"])))));
    const m = model("Hostile", { In: 2 }, () => {
      const xs = input("x", ["B", "T", "In"]);
      const { out } = scan("s", { x: xs }, { h: input("h0", ["B", "In"]) }, ({ x }, { h }) => {
        const hn = named("h", add(blk("blk", x), h));
        return { state: { h: hn }, out: { h: hn } };
      }, { kind: `</title><script>alert(2)</script>` });
      return { y: out.h };
    });
    const { trace } = await m.run({ x: [[[1, 2], [3, 4]]], h0: [[0, 0]] });
    const svg = await modelDiagram(m, { trace, t: 1 }).toSvg();
    assert.doesNotMatch(svg, /<script/i);
    const text = await nodeText(modelDiagram(m, { trace, t: 1 }));
    assert.match(text["s/blk"], new RegExp(`^blk: ${EVIL.replace(/[[\]()"^$.*+?|\\/]/g, "\\$&")} \\[B, In\\] \\[`));
  });

  for (const [name, draw] of [
    ["DB-LSTM folded", async () => {
      const db = nn.dbLstmModel(dbLstm({ inputSize: 3, hiddenSize: 4, depth: 3, seed: 2 }));
      const { trace } = await db.run({ x: [[[1, -2, 3], [0.5, 0, -1]], [[0, 1, 0], [2, 2, -2]]] });
      return modelDiagram(db, { trace, t: 1, b: 1, fold: ["l0", "l1_reverse", "l2"] });
    }],
    ["DB-LSTM expanded", async () => {
      const db = nn.dbLstmModel(dbLstm({ inputSize: 2, hiddenSize: 3, depth: 2, seed: 3 }));
      const { trace } = await db.run({ x: [[[1, -2]], [[0.5, 0]]] });
      return modelDiagram(db, { trace, t: 0, expand: true });
    }],
    ["ConvAutoEncoder", async () => {
      const cae = convAutoEncoder();
      const img = [Array.from({ length: 256 }, (_, i) => Array.from({ length: 256 }, (_, j) => [Math.sin(i / 9), Math.cos(j / 7), ((i * j) % 3) - 1]))];
      return modelDiagram(cae, { trace: (await cae.run({ x: img })).trace });
    }],
  ] as const)
    it(`${name}: every text, values included, stays inside its box, and the caption inside the picture`, async () => {
      const d = await draw();
      const svg = await d.toSvg();
      const text = readSvgRaw(svg).text;
      assert.ok(text.includes("Live values"), "the caption explains the values");
      assertFits(svg);
      // The bundled font draws every glyph (× and − of the values included).
      for (const file of pngFonts().fontFiles!) {
        const fontHas = charset(file);
        assert.deepEqual([...new Set(text)].filter((c) => c.trim() !== "" && !fontHas(c.codePointAt(0)!)), [], `glyphs missing from ${file}`);
      }
    });
});
