/**
 * Phase 5 — plots: Vega-Lite 5 views of a trace (heatmaps per gate, lines of units, state
 * trajectories, saturation, several cells side by side), each with a time cursor on a slider and
 * a static fallback rendered in the kernel.
 *
 *     trace ─ select (names/roles → panels, non-finite counted) ─ budget (exact | aggregate | raster)
 *           ─ chart kind (heatmap, lines, states, saturation, compare) → Vega-Lite spec
 *           ─ Chart: display bundle = vegalite v5 JSON + PNG fallback (vega headless → resvg) + text
 */
import { compare } from "./compare";
import { heatmap } from "./heatmap";
import { lines } from "./lines";
import { saturation } from "./saturation";
import { states } from "./states";
import { tensor } from "./tensor";

export { Chart } from "./chart";
export type { ChartInfo, FallbackOptions } from "./chart";
export type { HeatmapOptions } from "./heatmap";
export type { LinesOptions } from "./lines";
export type { SaturationOptions, UnitSaturation } from "./saturation";
export type { CompareOptions, CompareKind } from "./compare";
export type { SelectOptions } from "./select";
export type { BudgetOptions, OverBudget } from "./budget";
export type { CursorOptions } from "./cursor";
export type { VegaLiteSpec } from "./spec";
export type { TensorPlotOptions } from "./tensor";
export { DEFAULT_BUDGET } from "./budget";

/**
 * The chart factories, each `(trace, options) → Promise<Chart>`.
 *
 * @example
 * const trace = cell(LSTM, { inputSize: 1, hiddenSize: 8 }).run(xs);
 * await plot.heatmap(trace);                          // gates × time
 * await plot.lines(trace, { names: ["f"], units: [0, 1] });
 * await plot.states(trace);                           // h and c over time
 * await plot.saturation(trace);                       // near 0 / near 1 per unit
 * await plot.compare({ LSTM: trace, GRU: gruTrace }); // side by side, one cursor
 * await plot.tensor(modelTrace, "enc1/pool");        // a model's node, chosen by its axes
 */
export const plot = { heatmap, lines, states, saturation, compare, tensor } as const;
