/**
 * Gate saturation, as Karpathy, Johnson & Fei-Fei (2016, "Visualizing and understanding recurrent
 * networks", Fig. 3) plot it: for every unit of a gate, the fraction of steps it is near 0
 * (left-saturated, ≤ low) against the fraction near 1 (right-saturated, ≥ high). Units in the
 * corners are switches; units near the origin are never saturated.
 */
import type { Trace } from "../engine/trace";
import { errors } from "../errors";
import { Chart } from "./chart";
import { checkTrace, mixingNote, nonFiniteNote, readPanel, selectEntries, type SelectOptions } from "./select";
import { CHROME, CONFIG, maybeMaxWidth, panelWidth, SCHEMA } from "./spec";
import { AXIS_TITLE_FONT, textOf, titleOf } from "./text";

/** Options of {@link saturation}. */
export interface SaturationOptions extends SelectOptions {
  /** A value at or below this is "near 0" (default 0.1). */
  low?: number;
  /** A value at or above this is "near 1" (default 0.9). */
  high?: number;
  /** Size of each panel (default 200, less when the row of panels would not fit maxWidth). */
  size?: number;
  /** Width the chart (or a comparison) fits in, pixels (default 900, a notebook's): panels are sized and wrapped from it. */
  maxWidth?: number;
  /** Chart title. */
  title?: string;
}

/** Smallest default panel: below it the axis titles would need more lines than the panel is wide. */
const MIN_SIZE = 140;

/** Per unit: fraction of finite values ≤ low and ≥ high. */
export interface UnitSaturation {
  unit: number;
  near0: number;
  near1: number;
  steps: number;
}

/** The saturation numbers a chart draws, for reading and testing. */
export function saturationOf(values: ArrayLike<number>, T: number, n: number, low: number, high: number): UnitSaturation[] {
  return Array.from({ length: n }, (_, u) => {
    let lo = 0;
    let hi = 0;
    let steps = 0;
    for (let t = 0; t < T; t++) {
      const v = values[t * n + u];
      if (!Number.isFinite(v)) continue;
      steps++;
      if (v <= low) lo++;
      if (v >= high) hi++;
    }
    return { unit: u, near0: steps ? lo / steps : 0, near1: steps ? hi / steps : 0, steps };
  });
}

/**
 * Saturation summary of the gates: one panel per gate, one point per unit at (fraction near 1,
 * fraction near 0). Thresholds are options.
 *
 * @example
 * await plot.saturation(trace, { low: 0.05, high: 0.95 });
 */
export async function saturation(trace: Trace, options: SaturationOptions = {}): Promise<Chart> {
  const where = "plot.saturation";
  checkTrace(trace, where);
  const { low = 0.1, high = 0.9 } = options;
  const maxWidth = maybeMaxWidth(options.maxWidth, where);
  if (!(typeof low === "number" && typeof high === "number" && low < high)) throw errors.badOption(`low/high of ${where}`, { low, high }, "two numbers with low < high, e.g. { low: 0.1, high: 0.9 }");
  const entries = selectEntries(trace, options, ["gate"], where);
  const panels = entries.map((e) => readPanel(trace, e, options.b));
  // Panels of 140…200 px in as many columns as fit maxWidth; more panels wrap into rows.
  const size = options.size ?? Math.max(MIN_SIZE, Math.min(200, panelWidth(maxWidth, panels.length, false)));
  let columns = panels.length;
  while (columns > 1 && panelWidth(maxWidth, columns, false) < size) columns--;
  let marks = 0;
  const hconcat = panels.map((p) => {
    const values = saturationOf(p.values, p.T, p.n, low, high).map((s) => ({ ...s, label: p.entry.label }));
    marks += values.length;
    const notes = [nonFiniteNote(p)].filter(Boolean);
    if (p.range !== "unit") notes.push(`${p.entry.label} is not bounded to [0, 1]`);
    const tooltip = [
      { field: "unit", type: "quantitative", title: "unit" },
      { field: "near0", type: "quantitative", title: `fraction ≤ ${low}`, format: ".1%" },
      { field: "near1", type: "quantitative", title: `fraction ≥ ${high}`, format: ".1%" },
      { field: "steps", type: "quantitative", title: "finite steps" },
    ];
    return {
      title: titleOf(p.title, notes, size + CHROME.left),
      width: size,
      height: size,
      data: { values },
      layer: [
        { data: { values: [{ a: 0, b: 1 }, { a: 1, b: 0 }] }, mark: { type: "line", color: "#bbb", strokeDash: [4, 4] }, encoding: { x: { field: "a", type: "quantitative" }, y: { field: "b", type: "quantitative" } } },
        {
          mark: { type: "point", filled: true, opacity: 0.8 },
          encoding: {
            x: { field: "near1", type: "quantitative", title: textOf(`right-saturated ≥ ${high}`, size, AXIS_TITLE_FONT), scale: { domain: [0, 1] } },
            y: { field: "near0", type: "quantitative", title: `left-saturated ≤ ${low}`, scale: { domain: [0, 1] } },
            tooltip,
          },
        },
      ],
    };
  });
  const mixing = mixingNote(trace.def);
  const title = options.title ?? `${trace.def.name} — gate saturation over ${trace.length} steps`;
  const spec = {
    $schema: SCHEMA,
    title: titleOf(title, mixing ? [mixing] : [], columns * (size + CHROME.left + CHROME.gap)),
    ...(columns === panels.length ? { hconcat } : { concat: hconcat, columns }),
    config: CONFIG,
  };
  return new Chart(spec, {
    summary: `Saturation of ${entries.map((e) => e.label).join(", ")} (${trace.def.name}, ${trace.length} steps; near 0: ≤ ${low}, near 1: ≥ ${high})`,
    steps: null,
    marks,
    reduction: { mode: "exact" },
    notes: [...(mixing ? [mixing] : []), ...panels.map((p) => nonFiniteNote(p) && `${p.entry.name}: ${nonFiniteNote(p)}`).filter(Boolean)],
  });
}
