/**
 * Models, summaries and traces of the definition language display through the one format table
 * the package root fills (src/formats.ts): a model as its diagram (the `<img>` bundle every diagram
 * sends), a summary as a Keras-style table, a trace as its paths and shapes. Read back with the
 * kernel's own `format` and an HTML parser; src/lang imports no view.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseFragment } from "parse5";
import { cell, diagram, format, GRU, LSTM, LSTM_HARD_SIGMOID, modelDiagram, withGateActivation } from "../src";
import { registerFormat } from "../src/display/registry";
import { convAutoEncoder, esn } from "./support/lang-models";

const VEGALITE = "application/vnd.vegalite.v5+json";

type Node = { nodeName: string; childNodes?: Node[]; value?: string };
const all = (n: Node, name: string): Node[] => [...(n.nodeName === name ? [n] : []), ...(n.childNodes ?? []).flatMap((c) => all(c, name))];
const textOf = (n: Node): string => (n.nodeName === "#text" ? n.value! : (n.childNodes ?? []).map(textOf).join(""));

describe("display through one format table", () => {
  it("a model displays as its diagram: <img> HTML holding the SVG, the SVG, and its text", async () => {
    const m = esn();
    const bundle = await format(m);
    assert.deepEqual(Object.keys(bundle).sort(), ["image/svg+xml", "text/html", "text/plain"]);
    const svg = await modelDiagram(m).toSvg();
    assert.equal(bundle["image/svg+xml"], svg);
    const html = bundle["text/html"] as string;
    assert.equal(Buffer.from(html.match(/^<img src="data:image\/svg\+xml;base64,([^"]+)"/)![1], "base64").toString("utf8"), svg);
    assert.match(bundle["text/plain"], /^ESN: 2,650 parameters \(2,600 frozen\)/);
    assert.match(bundle["text/plain"], /recurrence: reservoir\/h → reservoir\/h_prev/);
  });

  it("goes through the table: the formatter registered for models is the one used", async () => {
    const previous = registerFormat("model", (m) => ({ "text/plain": `custom ${m.name}` }));
    try {
      assert.deepEqual(await format(esn()), { "text/plain": "custom ESN" });
    } finally {
      registerFormat("model", previous!);
    }
    assert.ok("text/html" in (await format(esn())));
  });

  it("a summary displays as a Keras-style table (text and HTML) and stays plain data", async () => {
    const s = convAutoEncoder().summary({ B: 1 });
    assert.deepEqual(JSON.parse(JSON.stringify(s)), s, "no display method among its enumerable keys");
    const bundle = await format(s);
    const text = bundle["text/plain"];
    assert.match(text, /^Model: "ConvAutoEncoder"\n_+\nLayer \(type\) +Output Shape +Param #\n=+\n/);
    // Parameter counts as PyTorch counts the reference's ConvBlock(3, 16): 3·3·3·16 + 16 + BN's 16 + 16.
    assert.match(text, /\nenc1 \(ConvBlock\) +\[1, 128, 128, 16\] +480\n/);
    assert.match(text, /\nTotal params: 28,905\nTrainable params: 28,905\nNon-trainable params: 0\n/);
    const table = all(parseFragment(bundle["text/html"] as string) as unknown as Node, "tbody")[0];
    const rows = all(table, "tr").map((tr) => all(tr, "td").map(textOf));
    assert.deepEqual(rows, s.rows.map((r) => [`${r.name} (${r.op})`, `[${r.shape.join(", ")}]`, r.params.toLocaleString("en-US")]));
  });

  it("a trace displays as every recorded path with its op and its shape in the run", async () => {
    const m = esn();
    const { trace } = await m.run({ x: [[[1, 0], [0, 1], [1, 1]]], h0: [Array(50).fill(0)] }, { backend: "reference" });
    const lines = (await format(trace))["text/plain"].split("\n");
    assert.equal(lines[0], `ModelTrace of ESN: ${trace.paths.length} nodes`);
    for (const path of trace.paths) {
      const value = trace.get(path).shape;
      const shape = trace.inScan(path) ? `[${value.slice(1).join(", ")}] per step` : `[${value.join(", ")}]`;
      assert.ok(lines.some((l) => new RegExp(`^  ${path.replace(/[/]/g, "\\/")} +${trace.node(path).op} +${shape.replace(/[[\]]/g, "\\$&")}$`).test(l)), `${path} ${shape}`);
    }
  });

  it("definitions (derived ones too), cells and cell traces display through the table: diagrams and heatmaps", async () => {
    for (const def of [LSTM, LSTM_HARD_SIGMOID, withGateActivation(GRU, "hardSigmoid6")]) {
      const bundle = await format(def);
      assert.deepEqual(Object.keys(bundle).sort(), ["image/svg+xml", "text/html", "text/plain"], def.name);
      assert.equal(bundle["image/svg+xml"], await diagram(def).toSvg(), def.name);
    }
    const c = cell(LSTM_HARD_SIGMOID, { inputSize: 1, hiddenSize: 2 });
    assert.equal((await format(c))["image/svg+xml"], await diagram(c).toSvg());
    const trace = c.run([[1], [0], [-1]]);
    assert.ok(VEGALITE in (await format(trace)), "a trace displays as a chart");
    const changed = c.run([[1], [2], [-1]]).diff(trace);
    const spec = (await format(changed))[VEGALITE] as { vconcat?: unknown[]; hconcat?: unknown[] };
    assert.ok(spec, "a difference displays as a chart");
  });

  it("src/lang, src/cells, src/engine and src/models import no view (diagram, plot, view) and require none lazily; the model diagram dispatches on no class", () => {
    for (const folder of ["lang", "cells", "cells/builtins", "engine", "models"]) {
      const dir = join(__dirname, "../src", folder);
      for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))) {
        const source = readFileSync(join(dir, file), "utf8");
        assert.doesNotMatch(source, /from "(\.\.\/)+(diagram|plot|view)\b|require\("(\.\.\/)+(diagram|plot|view)\b/, `${folder}/${file} imports a view`);
      }
      if (folder === "lang") for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) assert.doesNotMatch(readFileSync(join(dir, file), "utf8"), /require\(/, `lang/${file} requires lazily`);
    }
    assert.doesNotMatch(readFileSync(join(__dirname, "../src/diagram/graph.ts"), "utf8"), /instanceof/);
  });
});
