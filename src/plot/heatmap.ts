/**
 * Heatmaps of traced values: one panel per name (gate, candidate, state), units down, time
 * across, coloured on the value's own range (gates 0…1, tanh −1…1). Past the mark budget a panel
 * is rasterised (a PNG under the axes) or aggregated over time windows, or the request is refused.
 */
import type { Trace } from "../engine/trace";
import { errors } from "../errors";
import { maybeBudget, maybeOverBudget, statsTooltip, windowFor, windowStats, type BudgetOptions } from "./budget";
import { Chart } from "./chart";
import { cursorLayer, cursorParams, maybeCursor, timeX, type CursorOptions } from "./cursor";
import { rasterise } from "./raster";
import { checkTrace, finiteOrNull, maybeDomain, mixingNote, nonFiniteNote, readPanel, selectEntries, type Panel, type SelectOptions } from "./select";
import { CHROME, colorScale, CONFIG, SCHEMA } from "./spec";
import { textOf, titleOf, tooltipTitle } from "./text";

/** Options of {@link heatmap}. */
export interface HeatmapOptions extends SelectOptions, BudgetOptions, CursorOptions {
  /** Width of each panel in pixels (default 480). */
  width?: number;
  /** Height of each unit's row in pixels (default: 8, panels 40…200 px high). */
  rowHeight?: number;
  /** Chart title (default: the cell's name and title). */
  title?: string;
}

const defaults = { width: 480, rowHeight: 8 };

/** Round to 6 significant digits (aggregates and summaries only; exact values stay exact). */
export const round6 = (v: number | null): number | null => (v === null ? null : Number(v.toPrecision(6)));

function unitAxis(n: number): object {
  const centres = n <= 32 ? { values: Array.from({ length: n }, (_, u) => u + 0.5), labelExpr: "floor(datum.value)" } : { tickMinStep: 1, format: "d" };
  return { title: "unit", ...centres, grid: false };
}

/** The encoding of a panel's rects or image: time across (cell t spans t ± 0.5, see {@link timeX}), units down [0, n]. */
function position(p: Panel): object {
  return {
    x: timeX(p.T, "t0"),
    x2: { field: "t1" },
    y: { field: "unit", type: "quantitative", axis: unitAxis(p.n), scale: { domain: [0, p.n], reverse: true, nice: false, zero: false } },
    y2: { field: "unit2" },
  };
}

/**
 * Heatmaps of a trace, one panel per gate / candidate / state: unit × time, tooltips with exact
 * values, a time cursor on a slider. Default: the gates and candidates (states for cells
 * without gates).
 *
 * @example
 * const trace = cell(LSTM, { inputSize: 2, hiddenSize: 8 }).run(xs);
 * await plot.heatmap(trace);                                   // i, f, g, o
 * await plot.heatmap(trace, { names: ["f", "c"], cursor: 10 }); // chosen names, cursor at t = 10
 */
export async function heatmap(trace: Trace, options: HeatmapOptions = {}): Promise<Chart> {
  const where = "plot.heatmap";
  checkTrace(trace, where);
  const hasGate = trace.entries.some((e) => e.role === "gate");
  const entries = selectEntries(trace, options, hasGate ? ["gate", "candidate"] : ["state"], where);
  const budget = maybeBudget(options.budget, where);
  const overBudget = maybeOverBudget(options.overBudget, "raster", ["raster", "aggregate", "error"], where);
  const { width = defaults.width, rowHeight = defaults.rowHeight } = options;
  if (!(width > 0)) throw errors.badOption(`width of ${where}`, width, "a positive number of pixels");
  const T = trace.length;
  const t = maybeCursor(options.cursor, T, where);
  const panels = entries.map((e) => readPanel(trace, e, options.b));
  const units = panels.reduce((s, p) => s + p.n, 0);
  const cells = T * units;
  const what = `A heatmap of ${entries.map((e) => e.name).join(", ")} over ${T} steps`;
  let mode: "exact" | "aggregate" | "raster" = "exact";
  let window = 1;
  if (cells > budget) {
    if (overBudget === "error")
      throw errors.overBudget(what, cells, budget, `Use overBudget: "raster" or "aggregate", fewer names, or a larger budget.`);
    mode = overBudget;
    window = mode === "aggregate" ? windowFor(T, units, budget, what, 2 * width) : Math.ceil(T / Math.min(T, Math.max(width * 2, 1000)));
  }
  let marks = 0;
  const layers = await Promise.all(
    panels.map(async (p, i) => {
      const height = Math.min(200, Math.max(40, p.n * rowHeight));
      // Each rect reaches about a pixel into its right and lower neighbours, which are drawn after it
      // and cover the overlap: no anti-aliasing seams between cells (the mark is clipped to the plot).
      const [dx, dy] = [Math.min(0.5, T / width), Math.min(0.5, p.n / height)];
      const domain = maybeDomain(options.domains, p.entry.name, where);
      const color = { ...colorScale(p.range, p.extent), ...(domain ? { domain } : {}) };
      const legend = { field: "value", type: "quantitative", title: textOf(p.entry.label), scale: color };
      const notes = [nonFiniteNote(p)].filter(Boolean);
      let layer: object;
      if (mode === "exact") {
        const values: object[] = [];
        for (let s = 0; s < T; s++) for (let u = 0; u < p.n; u++) values.push({ t: s, unit: u, value: finiteOrNull(p.values[s * p.n + u]) });
        marks += values.length;
        layer = {
          data: { values },
          transform: [
            { calculate: "datum.t - 0.5", as: "t0" },
            { calculate: `datum.t + ${0.5 + dx}`, as: "t1" },
            { calculate: `datum.unit + ${1 + dy}`, as: "unit2" },
          ],
          mark: { type: "rect", clip: true },
          encoding: {
            ...position(p),
            color: legend,
            tooltip: [
              { field: "t", type: "quantitative", title: "t" },
              { field: "unit", type: "quantitative", title: "unit" },
              { field: "value", type: "quantitative", title: tooltipTitle(p.entry.label) },
            ],
          },
        };
      } else if (mode === "aggregate") {
        const values: object[] = [];
        for (let u = 0; u < p.n; u++)
          for (const w of windowStats(p, u, window)) values.push({ t: w.t, t2: w.t2, unit: u, mean: round6(w.mean), min: round6(w.min), max: round6(w.max) });
        marks += values.length;
        notes.push(`aggregated: each cell is the mean of ${window} steps (tooltip: mean, min, max)`);
        layer = {
          data: { values },
          transform: [
            { calculate: "datum.t - 0.5", as: "t0" },
            { calculate: `datum.t2 - ${0.5 - dx}`, as: "t1" },
            { calculate: `datum.unit + ${1 + dy}`, as: "unit2" },
          ],
          mark: { type: "rect", clip: true },
          encoding: {
            ...position(p),
            color: { ...legend, field: "mean" },
            tooltip: [
              { field: "t", type: "quantitative", title: "from t" },
              { field: "t2", type: "quantitative", title: "to t (excl.)" },
              { field: "unit", type: "quantitative", title: "unit" },
              ...statsTooltip(p.entry.label),
            ],
          },
        };
      } else {
        const raster = await rasterise(p, color, { maxColumns: Math.ceil(T / window), rowHeight: Math.max(1, Math.floor(height / p.n)) });
        notes.push(`rasterised: ${raster.columns} columns, each the mean of ${raster.window} steps`);
        marks += 1;
        layer = {
          layer: [
            {
              data: { values: [{ t0: -0.5, t1: T - 0.5, unit: 0, unit2: p.n, url: raster.url }] },
              mark: { type: "image", aspect: false },
              encoding: { ...position(p), url: { field: "url", type: "nominal" } },
            },
            // An invisible layer carries the colour legend of the raster.
            { data: { values: [{ value: color.domain[0] }, { value: color.domain[1] }] }, mark: { type: "rect", opacity: 0 }, encoding: { color: legend } },
          ],
        };
      }
      return {
        title: titleOf(p.title, notes, width + CHROME.left),
        width,
        height,
        layer: [layer, ...(t === null ? [] : [cursorLayer(i)])],
      };
    }),
  );
  const mixing = panels.some((p) => p.entry.role === "gate") ? mixingNote(trace.def) : undefined;
  const title = options.title ?? `${trace.def.name} — ${trace.def.title}`;
  const spec = {
    $schema: SCHEMA,
    title: titleOf(title, mixing ? [mixing] : [], width + CHROME.left),
    params: cursorParams(t, T),
    vconcat: layers,
    resolve: { scale: { color: "independent", x: "shared" } },
    config: CONFIG,
  };
  if (t === null) delete (spec as { params?: unknown }).params;
  const notes = [...(mixing ? [mixing] : []), ...panels.map((p) => nonFiniteNote(p) && `${p.entry.name}: ${nonFiniteNote(p)}`).filter(Boolean)];
  return new Chart(spec, {
    summary: `Heatmap of ${entries.map((e) => e.label).join(", ")} (${trace.def.name}, ${T} steps${trace.batch > 1 ? `, batch element ${options.b ?? 0}` : ""})`,
    steps: T,
    marks,
    reduction: mode === "exact" ? { mode } : { mode, window },
    notes: mode === "exact" ? notes : [...notes, `${mode === "raster" ? "rasterised" : "aggregated"} over windows of ${window} steps (budget ${budget} marks)`],
  });
}
