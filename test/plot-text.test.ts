/**
 * User text in charts: node labels and notes, cell titles and trace names with line breaks,
 * backslashes and U+2028 are display text only — every chart compiles with vega-lite, parses and
 * runs in vega (ARIA on, as browsers render it), and shows the text as given.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cell, defineCell, plot, type Chart } from "../src";
import { wave } from "./support/plot";

const LABELS = ["a\nb", "back\\", "x\u2028y\u2028z", "tab\there", 'q"uote\'s', "p\u2029q\r\ns"];

/** An Elman-like cell whose gate and state carry `label` as label and note. */
function traceWith(label: string) {
  const Def = defineCell({ name: "E", title: `Elman ${label}`, citation: "", inputs: { x: "In" }, states: { h: "H" } }, ({ x, h }, op) => {
    const g = op.sigmoid("g", op.affine("gp", "H", { Wg: x, Ug: h }, "bg"), { label, note: label });
    return { h: op.mul("h", g, op.tanh("c", op.affine("a", "H", { W: x, U: h }, "b")), { label: `h${label}` }) };
  });
  return cell(Def, { inputSize: 2, hiddenSize: 3 }).run(wave(6));
}

interface Item {
  tooltip?: Record<string, unknown>;
  items?: (Item | { items?: Item[] })[];
}
/** Every tooltip object vega computed in a scenegraph. */
function tooltips(node: Item, out: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (node.tooltip && typeof node.tooltip === "object") out.push(node.tooltip);
  for (const child of node.items ?? []) tooltips(child as Item, out);
  return out;
}

/** Runs a chart's spec in vega as a browser would (vega-lite defaults, ARIA on); returns its tooltips and SVG. */
async function runInVega(chart: Chart): Promise<{ tips: Record<string, unknown>[]; svg: string }> {
  const [vega, vl] = await Promise.all([import("vega"), import("vega-lite")]);
  const view = new vega.View(vega.parse(vl.compile(chart.spec as never).spec), { renderer: "none" });
  await view.runAsync();
  const tips = tooltips((view.scenegraph() as unknown as { root: Item }).root);
  const svg = await view.toSVG();
  view.finalize();
  return { tips, svg };
}

/** Vega's SVG text as its lines: each <text> element's tspans (or its content). */
function svgTexts(svg: string): string[] {
  const decode = (s: string) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");
  return [...svg.matchAll(/<text[^>]*>(.*?)<\/text>/gs)].flatMap((m) => (m[1].includes("<tspan") ? [...m[1].matchAll(/<tspan[^>]*>(.*?)<\/tspan>/gs)].map((t) => decode(t[1])) : [decode(m[1])]));
}

describe("labels with line breaks, backslashes and U+2028", () => {
  for (const label of LABELS) {
    it(`${JSON.stringify(label)}: every chart compiles, runs in vega, and shows the label as given`, async () => {
      const trace = traceWith(label);
      const lines = label.split(/\r\n|[\n\r\u2028\u2029]/);
      const charts = {
        heatmap: await plot.heatmap(trace, { names: ["g", "h"] }),
        aggregated: await plot.heatmap(trace, { names: ["g"], budget: 6, overBudget: "aggregate" }),
        lines: await plot.lines(trace, { names: ["g"] }),
        states: await plot.states(trace),
        saturation: await plot.saturation(trace),
        compare: await plot.compare({ [label]: trace, other: trace }, { chart: "lines", names: ["g"] }),
      };
      for (const [kind, chart] of Object.entries(charts)) {
        const { tips, svg } = await runInVega(chart);
        const texts = svgTexts(svg);
        for (const line of lines) assert.ok(texts.includes(line) || texts.some((t) => t.includes(line)), `${kind}: the line ${JSON.stringify(line)} of the label is drawn`);
        if (kind !== "saturation") {
          const keys = new Set(tips.flatMap((t) => Object.keys(t)));
          const expected = kind === "aggregated" ? `mean ${label}` : kind === "states" ? `h${label}` : label;
          assert.ok(keys.has(expected), `${kind}: a tooltip titled ${JSON.stringify(expected)} (keys: ${JSON.stringify([...keys])})`);
        }
        assert.match(await chart.toSVG(), /^<svg/, `${kind}: the static fallback renders`);
      }
      assert.ok(svgTexts((await runInVega(charts.compare)).svg).some((t) => t.includes(lines[0])), "the trace name shows in the comparison");
    });
  }
});
