/**
 * Mark budgets keep long sequences responsive and notebooks small. A chart counts the marks it
 * would draw; past its budget it either aggregates over time windows (mean, min, max per window),
 * rasterises (heatmaps: a PNG under Vega-Lite axes), or refuses with an error that names the budget.
 */
import { errors } from "../errors";
import type { Panel } from "./select";
import { tooltipTitle } from "./text";

/** What a chart does past its mark budget. */
export type OverBudget = "aggregate" | "raster" | "error";

/** Options every trace chart takes about its size. */
export interface BudgetOptions {
  /** Most marks (rects, points) a chart may draw (default 20 000). */
  budget?: number;
  /** What to do past the budget (heatmaps default to "raster", lines to "aggregate"). */
  overBudget?: OverBudget;
}

/** Default mark budget of one chart: a few hundred kB of spec at most. */
export const DEFAULT_BUDGET = 20_000;

/** The checked budget option. */
export function maybeBudget(budget: unknown, where: string): number {
  if (budget === undefined) return DEFAULT_BUDGET;
  if (typeof budget !== "number" || !Number.isInteger(budget) || budget < 1) throw errors.badOption(`budget of ${where}`, budget, "a positive integer number of marks, e.g. 20000");
  return budget;
}

/** The checked over-budget option. */
export function maybeOverBudget(value: unknown, fallback: OverBudget, allowed: readonly OverBudget[], where: string): OverBudget {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as OverBudget)) throw errors.badOption(`overBudget of ${where}`, value, allowed.map((a) => `"${a}"`).join(" or "));
  return value as OverBudget;
}

/**
 * Steps per window so that `series` time series of `T` steps draw at most `budget` marks
 * (1 when they fit), and at most `maxPerSeries` windows each (more than the pixels across is waste). Throws when even one mark per series is over budget: time windows cannot
 * help, fewer units or names can.
 */
export function windowFor(T: number, series: number, budget: number, what: string, maxPerSeries = Infinity): number {
  if (series > budget)
    throw errors.overBudget(what, T * series, budget, `Even one window per series would draw ${series} marks: choose fewer names or units, or raise budget.`);
  const perSeries = Math.min(maxPerSeries, Math.floor(budget / series));
  return T <= perSeries ? 1 : Math.ceil(T / perSeries);
}

/** One unit's values summarised over steps `t…t2−1`: null where every value was non-finite. */
export interface WindowStats {
  t: number;
  t2: number;
  mean: number | null;
  min: number | null;
  max: number | null;
}

/** Tooltip fields of a window's summary: mean (titled with the value's label), min, max. */
export const statsTooltip = (label: string) => [
  { field: "mean", type: "quantitative", title: tooltipTitle(`mean ${label}`) },
  { field: "min", type: "quantitative", title: "min" },
  { field: "max", type: "quantitative", title: "max" },
];

/** Summaries of unit `u` of a panel over windows of `w` steps (non-finite values skipped). */
export function windowStats(p: Panel, u: number, w: number): WindowStats[] {
  const out: WindowStats[] = [];
  for (let t = 0; t < p.T; t += w) {
    const t2 = Math.min(p.T, t + w);
    let sum = 0;
    let count = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (let s = t; s < t2; s++) {
      const v = p.values[s * p.n + u];
      if (!Number.isFinite(v)) continue;
      sum += v;
      count++;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    out.push(count ? { t, t2, mean: sum / count, min: lo, max: hi } : { t, t2, mean: null, min: null, max: null });
  }
  return out;
}

/** Column means of a panel over windows of `w` steps: `[columns][n]`, NaN where a window had no finite value. */
export function windowMeans(p: Panel, w: number): { columns: number; means: Float64Array } {
  const columns = Math.ceil(p.T / w);
  const means = new Float64Array(columns * p.n);
  const counts = new Uint32Array(columns * p.n);
  for (let t = 0; t < p.T; t++) {
    const c = Math.floor(t / w) * p.n;
    const row = t * p.n;
    for (let u = 0; u < p.n; u++) {
      const v = p.values[row + u];
      if (Number.isFinite(v)) {
        means[c + u] += v;
        counts[c + u]++;
      }
    }
  }
  for (let k = 0; k < means.length; k++) means[k] = counts[k] ? means[k] / counts[k] : NaN;
  return { columns, means };
}
