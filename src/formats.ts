/**
 * The package root's display set-up: fills the one format table (display/registry.ts) with how
 * each value shows itself — a model or a cell (definition) as its diagram, a summary as a table as
 * Keras prints it, a model's trace as its paths and shapes, a cell's trace as a heatmap. Only this module, at the top of the
 * pipeline, joins definitions to their views; src/lang never imports a view.
 */
import { diagram } from "./diagram";
import { modelDiagram } from "./diagram/graph";
import { plot } from "./plot";
import { escapeHtml } from "./display/html";
import { DISPLAY, type MimeBundle } from "./display/protocol";
import { registerFormat } from "./display/registry";
import type { Summary } from "./lang/model";
import type { ModelTrace } from "./lang/run";
import { evalShape, showShape } from "./lang/size";

registerFormat("model", (m) => modelDiagram(m)[DISPLAY]());
// The cells' values: a definition and a cell as their diagram, a trace as a heatmap over time.
registerFormat("cellDef", (d) => diagram(d)[DISPLAY]());
registerFormat("cell", (c) => diagram(c)[DISPLAY]());
registerFormat("cellTrace", async (t) => (await plot.heatmap(t))[DISPLAY]());
registerFormat("traceDiff", async (d) => (await plot.heatmap(d, d.differing.length > 0 ? { names: d.differing } : {}))[DISPLAY]());
registerFormat("summary", ({ name, summary }) => summaryBundle(name, summary));
registerFormat("trace", (t) => ({ "text/plain": traceText(t) }));

const HEAD = ["Layer (type)", "Output Shape", "Param #"] as const;
const number = (n: number) => n.toLocaleString("en-US");

/** The cells of a summary: one row per layer, then the totals. */
function summaryCells(s: Summary) {
  const rows = s.rows.map((r) => [`${r.name} (${r.op})`, `[${r.shape.join(", ")}]`, number(r.params)]);
  const totals = [
    `Total params: ${number(s.totalParams)}`,
    `Trainable params: ${number(s.trainableParams)}`,
    `Non-trainable params: ${number(s.totalParams - s.trainableParams)}`,
    ...(s.constants ? [`Constants (not parameters): ${number(s.constants)}`] : []),
  ];
  return { rows, totals };
}

/** A summary as Keras's `model.summary()` prints it (text/plain) and as an HTML table (every name escaped). */
export function summaryBundle(name: string, s: Summary): MimeBundle {
  const { rows, totals } = summaryCells(s);
  const widths = HEAD.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)) + 2);
  const line = (cells: readonly string[]) => cells.map((c, k) => (k === 2 ? c.padStart(widths[k]) : c.padEnd(widths[k]))).join(" ").trimEnd();
  const rule = (c: string) => c.repeat(widths.reduce((a, b) => a + b + 1, -1));
  const text = [`Model: "${name}"`, rule("_"), line(HEAD), rule("="), ...rows.map(line), rule("="), ...totals, rule("_")].join("\n");
  const cell = (tag: string, c: string, right = false) => `<${tag}${right ? ' style="text-align:right"' : ' style="text-align:left"'}>${escapeHtml(c)}</${tag}>`;
  const html = [
    `<table><caption style="text-align:left">Model: <b>${escapeHtml(name)}</b></caption>`,
    `<thead><tr>${HEAD.map((h, k) => cell("th", h, k === 2)).join("")}</tr></thead>`,
    `<tbody>${rows.map((r) => `<tr>${r.map((c, k) => cell("td", c, k === 2)).join("")}</tr>`).join("")}</tbody>`,
    `<tfoot>${totals.map((t) => `<tr><td colspan="3" style="text-align:left">${escapeHtml(t)}</td></tr>`).join("")}</tfoot></table>`,
  ].join("");
  return { "text/html": html, "text/plain": text };
}

/** A trace as text: each recorded path, its op and its shape in this run (per step inside a scan). */
export function traceText(t: ModelTrace): string {
  const lines = t.paths.map((path) => {
    const node = t.node(path);
    let shape: string;
    try {
      shape = `[${evalShape(node.shape, t.sizes, path).join(", ")}]`;
    } catch {
      shape = showShape(node.shape);
    }
    return [path, node.op, `${shape}${t.inScan(path) ? " per step" : ""}`];
  });
  const widths = [0, 1].map((k) => Math.max(0, ...lines.map((l) => l[k].length)));
  return [`ModelTrace of ${t.graph.name}: ${lines.length} nodes`, ...lines.map((l) => `  ${l[0].padEnd(widths[0])}  ${l[1].padEnd(widths[1])}  ${l[2]}`)].join("\n");
}
