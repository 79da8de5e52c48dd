/**
 * Diagrams of the definition language's models, read back from Graphviz's SVG with an HTML parser
 * (test/support/svg.ts, layout.ts), independently of the DOT writer: recurrence drawn only where a
 * scan's body reads its previous state (ELM none, ESN one), frozen parameters drawn frozen, a tied
 * parameter drawn once with an edge to each use, blocks folded or expanded, equations derived from
 * the op table (a name is only a symbol), hostile kinds escaped, every text inside its box.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { modelDiagram } from "../src/diagram/graph";
import { DISPLAY } from "../src/display/protocol";
import { ArchlabError } from "../src/errors";
import { LSTM, cell, dbLstm, nn, zoo } from "../src";
import { inside, readLayout } from "./support/layout";
import { pngFonts } from "../src/display/image";
import { charset } from "./support/fonts";
import { convAutoEncoder, elm, esn, nlpRnn, timeRnnModel } from "./support/lang-models";
import { readSvg as readSvgRaw } from "./support/svg";

const { model, input, param, named, matmul, tanh, sigmoid, add, mul, scan, layer, block, inits } = nn;

/** The light theme's recurrent-edge colour: the red every recurrence is drawn in. */
const RED = "#d1242f";
/** The SVG read back, each node's texts joined with single spaces (`h = tanh(x W) [B, H]`). */
const readSvg = (svg: string) => {
  const s = readSvgRaw(svg);
  return { ...s, nodeText: Object.fromEntries(Object.entries(s.nodeText).map(([k, v]) => [k, v.replace(/\s+/g, " ").trim()])) };
};
const has = (edges: [string, string][], from: string, to: string) => edges.some(([a, b]) => a === from && b === to);
const redEdges = (svg: string) => readLayout(svg).edges.filter((e) => e.stroke === RED);
/** Whether node `id`'s outline is dashed in the SVG. */
const dashed = (svg: string, id: string) => {
  const title = `<title>${id.replace(/-/g, "&#45;").replace(/>/g, "&gt;")}</title>`;
  const at = svg.indexOf(title);
  assert.ok(at >= 0, `node ${id} in the SVG`);
  const group = svg.slice(at, svg.indexOf("</g>", at));
  return /stroke-dasharray/.test(group);
};

describe("model diagrams: recurrence only where a previous value is read", () => {
  it("ELM (x → frozen W → tanh → trained readout): no recurrent edge; W drawn frozen, the readout trained", async () => {
    const svg = await modelDiagram(elm()).toSvg();
    const s = readSvg(svg);
    assert.deepEqual(redEdges(svg), []);
    assert.ok(dashed(svg, "W") && s.nodeText.W.includes("❄"), "W is dashed and marked ❄");
    assert.ok(!dashed(svg, "Wout") && !s.nodeText.Wout.includes("❄"), "Wout is drawn as trained");
    assert.ok(has(s.edges, "x", "h") && has(s.edges, "W", "h"));
    assert.match(s.nodeText.h, /^h = tanh\(x W\)/);
  });

  it("ESN (a scan with a frozen reservoir scaled by inits.spectral, reading h): exactly one recurrent edge, h → h_prev", async () => {
    const svg = await modelDiagram(esn()).toSvg();
    const red = redEdges(svg);
    assert.equal(red.length, 1);
    assert.deepEqual(red.map((e) => [e.from, e.to]), [["reservoir/h", "reservoir/h_prev"]]);
    const s = readSvg(svg);
    assert.ok(dashed(svg, "W") && dashed(svg, "Win") && !dashed(svg, "Wout"));
    assert.match(s.nodeText["reservoir/h"], /^h = tanh\(x Win \+ h_prev W\)/);
    // The sequence enters the scan's step placeholder, the initial state its state placeholder.
    assert.ok(has(s.edges, "x", "reservoir/x") && has(s.edges, "h0", "reservoir/h_prev"));
  });

  it("a scan whose body never reads its previous state has no recurrent edge", async () => {
    const m = model("NoRead", { In: 2, H: 3 }, () => {
      const xs = input("x", ["B", "T", "In"]);
      const W = param("W", ["In", "H"]);
      const { out } = scan("s", { x: xs }, { h: input("h0", ["B", "H"]) }, ({ x }) => {
        const hn = named("h", tanh(matmul(x, W)));
        return { state: { h: hn }, out: { h: hn } };
      });
      return { y: out.h };
    });
    const svg = await modelDiagram(m).toSvg();
    assert.deepEqual(redEdges(svg), []);
    assert.ok(readSvg(svg).nodes.includes("s/h_prev"), "the placeholder is drawn, with no recurrence into it");
  });
});

describe("model diagrams: a recurrence inside a block", () => {
  it("a folded TimeRNN block carries its state's recurrence as a red loop on its box; expanded, the loop runs h → h_prev inside its scan", async () => {
    const folded = await modelDiagram(timeRnnModel()).toSvg();
    assert.deepEqual(redEdges(folded).map((e) => [e.from, e.to]), [["rnn", "rnn"]]);
    assert.match(readSvg(folded).nodeText.rnn, /^rnn: TimeRNN \[B, T, H\]$/);
    const expanded = await modelDiagram(timeRnnModel(), { expand: ["rnn"] }).toSvg();
    assert.deepEqual(redEdges(expanded).map((e) => [e.from, e.to]), [["rnn/steps/h", "rnn/steps/h_prev"]]);
  });
});

describe("model diagrams of the language's cells and DB-LSTM", () => {
  it("the LSTM as a model of the language (cellModel) draws h = o ⊙ tanh(c), never c ⊙ tanh(o), and recurs on h and c", async () => {
    const svg = await modelDiagram(nn.cellModel(cell(LSTM, { inputSize: 3, hiddenSize: 4 }))).toSvg();
    const s = readSvg(svg);
    assert.match(s.nodeText["LSTM/h"], /^h = o ⊙ tanh_c /);
    assert.match(s.nodeText["LSTM/tanh_c"], /^tanh_c = tanh\(c\) /);
    assert.ok(has(s.edges, "LSTM/o", "LSTM/h") && has(s.edges, "LSTM/tanh_c", "LSTM/h") && has(s.edges, "LSTM/c", "LSTM/tanh_c"));
    assert.ok(!has(s.edges, "LSTM/c", "LSTM/h") && !has(s.edges, "LSTM/o", "LSTM/tanh_c"));
    assert.deepEqual(redEdges(svg).map((e) => [e.from, e.to]).sort(), [["LSTM/c", "LSTM/c_prev"], ["LSTM/h", "LSTM/h_prev"]]);
  });

  it("DB-LSTM with its cell scans folded: one box per layer with one red loop (h, c), the shortcut blocks between them", async () => {
    const db = nn.dbLstmModel(dbLstm({ inputSize: 3, hiddenSize: 4, depth: 3, seed: 1 }));
    const svg = await modelDiagram(db, { fold: ["l0", "l1_reverse", "l2"] }).toSvg();
    const s = readSvg(svg);
    assert.deepEqual(redEdges(svg).map((e) => [e.from, e.to]).sort(), [["l0", "l0"], ["l1_reverse", "l1_reverse"], ["l2", "l2"]]);
    assert.ok(s.text.includes("h, c: t−1") && s.text.includes("h, c: t+1"), "the reversed layer's loop runs to the previous step");
    assert.match(s.nodeText.l1_reverse, /^l1_reverse: .* over T, reversed \[T, B, H\]$/);
    for (const [a, b] of [["l0", "l0_h"], ["l0_h", "m1"], ["x", "m1"], ["m1", "l1_reverse"], ["l1_reverse_h", "m2"], ["m2", "l2"]]) assert.ok(has(s.edges, a, b), `${a} → ${b}`);
    assert.throws(() => modelDiagram(db, { fold: ["l9"] }), (e: unknown) => e instanceof ArchlabError && /Unknown block "l9".*"l1_reverse"/.test(e.message));
  });
});

describe("model diagrams: blocks inside a scan (the zoo's NTM)", () => {
  it("names folded heads relative to their reader (r = read memory), keeps their per-step shapes, and recurs on each state its body reads", async () => {
    const svg = await modelDiagram(zoo.ntm()).toSvg();
    const s = readSvg(svg);
    assert.match(s.nodeText["ntm/r"], /^r = read memory \[B, W\]$/);
    assert.match(s.nodeText["ntm/output"], /^output: Readout \[B, NOutput\]$/);
    assert.ok(has(s.edges, "ntm/read", "ntm/r") && has(s.edges, "ntm/memory", "ntm/r") && has(s.edges, "ntm/output", "ntm_y"));
    assert.deepEqual(redEdges(svg).map((e) => e.to).sort(), ["ntm/M_prev", "ntm/r_prev", "ntm/wr_prev", "ntm/ww_prev"]);
  });

  it("draws the DNC's usage, write head, link matrix and read heads, recurring on each of its seven states", async () => {
    const svg = await modelDiagram(zoo.dnc()).toSvg();
    const s = readSvg(svg);
    assert.match(s.nodeText["dnc/link"], /^link: TemporalLink \[B, N, N\]$/);
    assert.match(s.nodeText["dnc/read"], /^read: ReadHeads \[B, R, W\]$/);
    assert.ok(has(s.edges, "dnc/usage", "dnc/write") && has(s.edges, "dnc/write", "dnc/link") && has(s.edges, "dnc/link", "dnc/read"));
    assert.deepEqual(redEdges(svg).map((e) => e.to).sort(), ["dnc/L_prev", "dnc/M_prev", "dnc/p_prev", "dnc/r_prev", "dnc/u_prev", "dnc/wr_prev", "dnc/ww_prev"]);
  });

  it("draws the Dynamic NTM's addresses as a learned parameter beside the contents, not as a state: only contents, controller and LRU average recur", async () => {
    const svg = await modelDiagram(zoo.dynamicNtm()).toSvg();
    const s = readSvg(svg);
    assert.match(s.nodeText["dynamicNtm/A"], /^A \[N, WAddress\]$/);
    assert.ok(has(s.edges, "dynamicNtm/A", "dynamicNtm/M") && has(s.edges, "dynamicNtm/C_prev", "dynamicNtm/M"));
    assert.deepEqual(redEdges(svg).map((e) => e.to).sort(), ["dynamicNtm/C_prev", "dynamicNtm/h_prev", "dynamicNtm/v_prev"]);
  });
});

describe("model diagrams: parameters", () => {
  it("draws the NLP RNN's tied embedding once, with an edge to the lookup and one to the output head that transposes it", async () => {
    const s = readSvg(await modelDiagram(nlpRnn()).toSvg());
    assert.equal(s.nodes.filter((n) => n === "Emb" || n.endsWith("/Emb")).length, 1);
    const uses = s.edges.filter(([a]) => a === "Emb").map(([, b]) => b);
    assert.deepEqual(uses.sort(), ["e", "softmax"]);
    assert.match(s.nodeText.e, /^e = Emb\[ids\]/);
    assert.match(s.nodeText.softmax, /softmax_V\(rnn_h Embᵀ\)/);
  });
});

describe("model diagrams: blocks fold and expand", () => {
  it("folds each ConvBlock into one box `enc1: ConvBlock` with its output shape", async () => {
    const s = readSvg(await modelDiagram(convAutoEncoder()).toSvg());
    assert.deepEqual(s.nodes.filter((n) => !n.startsWith("output:")), ["x", "enc1", "enc2", "enc3", "dec1", "dec2", "dec3", "tanh"]);
    assert.match(s.nodeText.enc1, /^enc1: ConvBlock \[B, 128, 128, 16\]$/);
    assert.match(s.nodeText.dec1, /^dec1: UpConvBlock \[B, 64, 64, 32\]$/);
    assert.match(s.nodeText.tanh, /^tanh = tanh\(dec3\) /, "a folded block's value is named after its box");
    for (const [a, b] of [["x", "enc1"], ["enc1", "enc2"], ["enc3", "dec1"], ["dec3", "tanh"], ["tanh", "output:y"]]) assert.ok(has(s.edges, a, b), `${a} → ${b}`);
  });

  it("expands a block into its ops and parameters on request; the others stay folded", async () => {
    const svg = await modelDiagram(convAutoEncoder(), { expand: ["enc1"] }).toSvg();
    const s = readSvg(svg);
    assert.ok(!s.nodes.includes("enc1") && s.nodes.includes("enc2"));
    for (const n of ["enc1/conv2d", "enc1/batchNorm", "enc1/pool", "enc1/w", "enc1/b", "enc1/mean"]) assert.ok(s.nodes.includes(n), n);
    assert.match(s.nodeText["enc1/conv2d"], /^conv2d = w ⋆ x/);
    assert.match(s.nodeText["enc1/pool"], /^pool = maxpool2\(relu\(batchNorm\)\)/);
    assert.ok(has(s.edges, "x", "enc1/conv2d") && has(s.edges, "enc1/conv2d", "enc1/batchNorm") && has(s.edges, "enc1/pool", "enc2"));
    assert.ok(dashed(svg, "enc1/mean") && !dashed(svg, "enc1/w"), "batch norm's running statistics are constants, drawn as not learning");
    const all = readSvg(await modelDiagram(convAutoEncoder(), { expand: true }).toSvg());
    assert.ok(!["enc1", "enc2", "enc3", "dec1", "dec2", "dec3"].some((b) => all.nodes.includes(b)));
    assert.ok(all.nodes.includes("dec3/act"));
    assert.match(all.nodeText.tanh, /^tanh = tanh\(dec3\.act\) /, "a path in an equation is dotted: dec3/act would read as a division");
  });

  it("draws a plain name scope (a block without a kind) as a cluster of its ops, not a box", async () => {
    const m = model("Scoped", { In: 2, H: 3 }, () => {
      const x = input("x", ["B", "In"]);
      return { y: block("enc", undefined, () => named("h", tanh(matmul(x, param("W", ["In", "H"]))))) };
    });
    const s = readSvg(await modelDiagram(m).toSvg());
    assert.ok(s.nodes.includes("enc/h") && s.nodes.includes("enc/W") && !s.nodes.includes("enc"));
    assert.ok(s.text.split("\n").includes("enc"), "the cluster is labelled with the scope's name");
  });

  it("names an unknown block or a bad expand value", () => {
    const m = convAutoEncoder();
    assert.throws(() => modelDiagram(m, { expand: ["enc9"] }), (e: unknown) => e instanceof ArchlabError && /Unknown block "enc9".*"enc1"/.test(e.message));
    assert.throws(() => modelDiagram(m, { expand: "enc1" as never }), (e: unknown) => e instanceof ArchlabError && e.code === "bad-option");
    assert.throws(() => modelDiagram(m, { fold: true as never }), (e: unknown) => e instanceof ArchlabError && /fold = true.*block paths/.test(e.message));
    assert.throws(() => modelDiagram(m, { collapse: true } as never), (e: unknown) => e instanceof ArchlabError && /Unknown option "collapse".*"expand", "fold"/.test(e.message));
  });
});

describe("model diagrams: labels cannot lie", () => {
  /** An LSTM-like cell update `c = f ⊙ c_prev + i ⊙ g`, with the product's op chosen by the test. */
  const cellUpdate = (product: typeof mul, names = { f: "f", out: "c" }) =>
    model("Update", { H: 3 }, () => {
      const cPrev = input("c_prev", ["B", "H"]);
      const z = input("z", ["B", "H"]);
      const f = named(names.f, sigmoid(z));
      const keep = named("keep", product(f, cPrev));
      return { c: named(names.out, add(keep, mul(f, tanh(z)))) };
    });

  it("derives each equation from the op: changing the op changes the label", async () => {
    const a = readSvg(await modelDiagram(cellUpdate(mul)).toSvg());
    assert.match(a.nodeText.keep, /^keep = f ⊙ c_prev/);
    assert.match(a.nodeText.c, /^c = keep \+ f ⊙ tanh\(z\)/);
    const b = readSvg(await modelDiagram(cellUpdate(add)).toSvg());
    assert.match(b.nodeText.keep, /^keep = f \+ c_prev/);
  });

  it("a name is only a symbol: it cannot be an equation, and a misleading name changes no other node's equation", async () => {
    assert.throws(() => cellUpdate(mul, { f: "f", out: "c⊙tanh(o)" }), (e: unknown) => e instanceof ArchlabError && e.code === "bad-name");
    const s = readSvg(await modelDiagram(cellUpdate(mul, { f: "o", out: "c" })).toSvg());
    // The gate named o is still the sigmoid of z, and keep still multiplies it with c_prev.
    assert.match(s.nodeText.o, /^o = σ\(z\)/);
    assert.match(s.nodeText.keep, /^keep = o ⊙ c_prev/);
  });
});

describe("model diagrams: escaping and readability", () => {
  const EVIL = `<script>alert(1)</script>"]; x [label="pwn`;
  const hostile = () => {
    const block = layer(EVIL, (x: nn.Tensor) => named("y", tanh(matmul(x, param("W", ["In", "In"], { kind: "frozen", init: inits.uniform(1) })))));
    return model("Hostile", { In: 2 }, () => {
      const xs = input("x", ["B", "T", "In"]);
      const { out } = scan("s", { x: xs }, { h: input("h0", ["B", "In"]) }, ({ x }, { h }) => {
        const hn = named("h", add(block("blk", x), h));
        return { state: { h: hn }, out: { h: hn } };
      }, { kind: `</title><script>alert(2)</script>` });
      return { y: out.h };
    });
  };

  it("escapes a layer's and a scan's kind (free strings) in DOT, SVG, the HTML bundle and the summary table", async () => {
    const m = hostile();
    const d = modelDiagram(m);
    const svg = await d.toSvg();
    assert.doesNotMatch(svg, /<script/i);
    const s = readSvg(svg);
    assert.equal(s.nodeText["s/blk"], `blk: ${EVIL} [B, In]`);
    assert.ok(s.text.includes("s: </title><script>alert(2)</script> over T"), "the scan's kind is shown as text");
    assert.ok(!/<script/i.test(d.toDot().replace(/"(?:[^"\\]|\\.)*"/g, '""')), "no raw <script outside quoted DOT strings");
    const expanded = await modelDiagram(m, { expand: true }).toSvg();
    assert.doesNotMatch(expanded, /<script/i);
    assert.ok(readSvg(expanded).text.includes(`blk: ${EVIL}`), "the expanded block's cluster label is text");
    const bundle = await m[DISPLAY]();
    assert.doesNotMatch(String(bundle["text/html"]), /<script/i);
    const summary = await (m.summary({ B: 1, T: 3 }) as unknown as { [DISPLAY](): Promise<Record<string, string>> })[DISPLAY]();
    assert.doesNotMatch(summary["text/html"], /<script/i);
    assert.ok(summary["text/html"].includes("&lt;/title&gt;&lt;script&gt;alert(2)&lt;/script&gt;"));
  });

  it("bundles a font (regular and bold) holding every glyph the model diagrams draw (❄ ⋆ ᵀ ⊙ σ …)", async () => {
    const svgs = await Promise.all([elm, esn, nlpRnn, convAutoEncoder, timeRnnModel].flatMap((make) => [modelDiagram(make()).toSvg(), modelDiagram(make(), { expand: true }).toSvg()]));
    const glyphs = new Set([...svgs.map((s) => readSvgRaw(s).text).join("")].filter((c) => c.trim() !== ""));
    for (const c of ["❄", "⋆", "ᵀ"]) assert.ok(glyphs.has(c), `the diagrams draw ${c}`);
    for (const file of pngFonts().fontFiles!) {
      const fontHas = charset(file);
      assert.deepEqual([...glyphs].filter((c) => !fontHas(c.codePointAt(0)!)), [], `glyphs missing from ${file}`);
    }
  });

  for (const [name, make, options] of [
    ["ELM", elm, {}],
    ["ESN", esn, {}],
    ["NLP RNN", nlpRnn, {}],
    ["ConvAutoEncoder", convAutoEncoder, {}],
    ["ConvAutoEncoder expanded", convAutoEncoder, { expand: true }],
    ["TimeRNN", timeRnnModel, {}],
  ] as const)
    it(`${name}: every text, drawn by resvg in the bundled font, stays inside its box, and the caption inside the picture`, async () => {
      const layout = readLayout(await modelDiagram(make(), options).toSvg());
      assert.ok(layout.nodes.length > 3);
      for (const node of layout.nodes)
        for (const t of node.texts) assert.ok(t.ink && inside(t.ink, node.box), `"${t.text}" (${JSON.stringify(t.ink)}) inside node ${node.id} (${JSON.stringify(node.box)})`);
      for (const t of layout.texts) assert.ok(t.ink && inside(t.ink, layout.viewBox), `caption line "${t.text}" inside the picture`);
    });
});
