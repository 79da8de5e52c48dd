/**
 * Lines of chosen units over time, one panel per name, one colour per unit, points and tooltips
 * at the cursor's step. Non-finite values break the line (a gap) and are reported. Past the mark
 * budget each unit becomes its window mean with a min–max band.
 */
import type { NodeRole } from "../cells/define";
import type { Trace } from "../engine/trace";
import { errors } from "../errors";
import { maybeBudget, maybeOverBudget, statsTooltip, windowFor, windowStats, type BudgetOptions } from "./budget";
import { Chart } from "./chart";
import { cursorLayer, cursorParams, maybeCursor, timeX, type CursorOptions } from "./cursor";
import { round6 } from "./heatmap";
import { checkTrace, maybeDomain, mixingNote, nonFiniteNote, readPanel, selectEntries, type Panel, type SelectOptions } from "./select";
import { CHROME, CONFIG, SCHEMA } from "./spec";
import { textOf, titleOf, tooltipTitle } from "./text";
import { CURSOR_PARAM } from "./vega";

/** Options of {@link lines}. */
export interface LinesOptions extends SelectOptions, BudgetOptions, CursorOptions {
  /** Units to draw (default: all when a name has at most 8 units, else units 0…7). */
  units?: readonly number[];
  /** Width of each panel (default 480). */
  width?: number;
  /** Height of each panel (default 120). */
  height?: number;
  /** Chart title (default: the cell's name and title). */
  title?: string;
}

const DEFAULT_UNITS = 8;

function maybeUnits(units: unknown, p: Panel, where: string): number[] {
  if (units === undefined) return Array.from({ length: Math.min(p.n, DEFAULT_UNITS) }, (_, u) => u);
  if (!Array.isArray(units) || units.length === 0) throw errors.badOption(`units of ${where}`, units, `a non-empty list of unit indices 0…${p.n - 1}`);
  for (const u of units) if (!Number.isInteger(u) || u < 0 || u >= p.n) throw errors.outOfRange(`Unit of "${p.entry.name}" in ${where}`, u, 0, p.n - 1);
  return units as number[];
}

/** The fixed y domain of a line panel from its value range (gates [0, 1], tanh [−1, 1]); undefined: from the data. */
export function lineDomain(p: Pick<Panel, "range">): [number, number] | undefined {
  return p.range === "unit" ? [0, 1] : p.range === "signed" ? [-1, 1] : undefined;
}

/** Exact rows of one unit: finite values, each run between non-finite values its own segment. */
function exactRows(p: Panel, u: number): { t: number; unit: number; seg: number; value: number }[] {
  const rows = [];
  let seg = 0;
  for (let t = 0; t < p.T; t++) {
    const v = p.values[t * p.n + u];
    if (Number.isFinite(v)) rows.push({ t, unit: u, seg, value: v });
    else seg++;
  }
  return rows;
}

/** The shared implementation of {@link lines} and {@link states}. */
export async function timeLines(trace: Trace, options: LinesOptions, defaultRoles: readonly (NodeRole | "input")[], where: string, kind: string): Promise<Chart> {
  const entries = selectEntries(trace, options, defaultRoles, where);
  const budget = maybeBudget(options.budget, where);
  const overBudget = maybeOverBudget(options.overBudget, "aggregate", ["aggregate", "error"], where);
  const { width = 480, height = 120 } = options;
  const T = trace.length;
  const t = maybeCursor(options.cursor, T, where);
  const panels = entries.map((e) => readPanel(trace, e, options.b));
  const chosen = panels.map((p) => maybeUnits(options.units, p, where));
  const series = chosen.reduce((s, u) => s + u.length, 0);
  const what = `${kind} of ${entries.map((e) => e.name).join(", ")} over ${T} steps`;
  let window = 1;
  if (T * series > budget) {
    if (overBudget === "error") throw errors.overBudget(what, T * series, budget, `Use overBudget: "aggregate", fewer units or names, or a larger budget.`);
    window = windowFor(T, series, budget, what, 2 * width);
  }
  let marks = 0;
  const x = timeX(T);
  const color = { field: "unit", type: "nominal", title: "unit" };
  const vconcat = panels.map((p, i) => {
    const units = chosen[i];
    const notes = [nonFiniteNote(p)].filter(Boolean);
    if (options.units === undefined && p.n > units.length) notes.push(`units 0…${units.length - 1} of ${p.n} (option units)`);
    const domain = maybeDomain(options.domains, p.entry.name, where);
    const y = { type: "quantitative", title: textOf(p.entry.label), scale: domain ? { domain, nice: true, zero: false } : lineDomain(p) ? { domain: lineDomain(p) } : { zero: false } };
    let layers: object[];
    if (window === 1) {
      const values = units.flatMap((u) => exactRows(p, u));
      marks += values.length;
      layers = [
        { mark: { type: "line", strokeWidth: 1.5 }, encoding: { x, y: { ...y, field: "value" }, color, detail: { field: "seg", type: "nominal" } } },
        ...(t === null
          ? []
          : [
              {
                transform: [{ filter: `datum.t == ${CURSOR_PARAM}` }],
                mark: { type: "point", filled: true, size: 40 },
                encoding: {
                  x,
                  y: { ...y, field: "value" },
                  color,
                  tooltip: [
                    { field: "t", type: "quantitative", title: "t" },
                    { field: "unit", type: "nominal", title: "unit" },
                    { field: "value", type: "quantitative", title: tooltipTitle(p.entry.label) },
                  ],
                },
              },
            ]),
        {
          mark: { type: "point", opacity: 0, size: 30 },
          encoding: {
            x,
            y: { ...y, field: "value" },
            tooltip: [
              { field: "t", type: "quantitative", title: "t" },
              { field: "unit", type: "nominal", title: "unit" },
              { field: "value", type: "quantitative", title: tooltipTitle(p.entry.label) },
            ],
          },
        },
      ];
      return panel(p, notes, values, layers);
    }
    const values = units.flatMap((u) =>
      windowStats(p, u, window)
        .filter((w) => w.mean !== null)
        .map((w) => ({ t: round6(w.t + (w.t2 - w.t - 1) / 2), from: w.t, to: w.t2 - 1, unit: u, mean: round6(w.mean), min: round6(w.min), max: round6(w.max) })),
    );
    marks += values.length;
    notes.push(`aggregated: mean of each ${window} steps, band min…max`);
    const tooltip = [
      { field: "from", type: "quantitative", title: "from t" },
      { field: "to", type: "quantitative", title: "to t" },
      { field: "unit", type: "nominal", title: "unit" },
      ...statsTooltip(p.entry.label),
    ];
    layers = [
      { mark: { type: "area", opacity: 0.25 }, encoding: { x, y: { ...y, field: "min" }, y2: { field: "max" }, color } },
      { mark: { type: "line", strokeWidth: 1 }, encoding: { x, y: { ...y, field: "mean" }, color, tooltip } },
      ...(t === null
        ? []
        : [{ transform: [{ filter: `datum.from <= ${CURSOR_PARAM} && ${CURSOR_PARAM} <= datum.to` }], mark: { type: "point", filled: true }, encoding: { x, y: { ...y, field: "mean" }, color, tooltip } }]),
    ];
    return panel(p, notes, values, layers);

    function panel(p: Panel, notes: string[], values: object[], layers: object[]) {
      return {
        title: titleOf(p.title, notes, width + CHROME.left),
        width,
        height,
        data: { values },
        layer: [...layers, ...(t === null ? [] : [cursorLayer(i)])],
      };
    }
  });
  const mixing = panels.some((p) => p.entry.role === "gate" || p.entry.name === trace.def.output) ? mixingNote(trace.def) : undefined;
  const title = options.title ?? `${trace.def.name} — ${trace.def.title}`;
  const spec = {
    $schema: SCHEMA,
    title: titleOf(title, mixing ? [mixing] : [], width + CHROME.left),
    ...(t === null ? {} : { params: cursorParams(t, T) }),
    vconcat,
    resolve: { scale: { x: "shared", y: "independent", color: "shared" } },
    config: CONFIG,
  };
  const notes = [...(mixing ? [mixing] : []), ...panels.map((p) => nonFiniteNote(p) && `${p.entry.name}: ${nonFiniteNote(p)}`).filter(Boolean)];
  return new Chart(spec, {
    summary: `${kind} of ${entries.map((e) => e.label).join(", ")} (${trace.def.name}, ${T} steps, units ${[...new Set(chosen.flat())].join(", ")})`,
    steps: T,
    marks,
    reduction: window === 1 ? { mode: "exact" } : { mode: "aggregate", window },
    notes: window === 1 ? notes : [...notes, `aggregated over windows of ${window} steps (budget ${budget} marks)`],
  });
}

/**
 * Lines of chosen units over time, one panel per name (default: the gates), a time cursor with
 * the values at step t, tooltips with exact values.
 *
 * @example
 * await plot.lines(trace, { names: ["f", "i"], units: [0, 3] });
 */
export async function lines(trace: Trace, options: LinesOptions = {}): Promise<Chart> {
  checkTrace(trace, "plot.lines");
  const hasGate = trace.entries.some((e) => e.role === "gate");
  return timeLines(trace, options, hasGate ? ["gate"] : ["state"], "plot.lines", "Lines");
}
