/**
 * What every chart spec shares: the Vega-Lite 5 schema (JupyterLab renders only
 * `application/vnd.vegalite.v5+json`; see DESIGN.md "Display"), a quiet common config, and the
 * colour range of each kind of value.
 */
import type { OpKind } from "../cells/ops";
import { errors } from "../errors";

/** A Vega-Lite 5 spec as plain data (vega-lite's `compile()` checks it). */
export interface VegaLiteSpec {
  $schema: string;
  params?: { name: string; value?: unknown; bind?: unknown }[];
  [key: string]: unknown;
}

/** The Vega-Lite major version charts are written for (v6 renders as an empty output in Lab). */
export const SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";
/** The mime type JupyterLab, VS Code and the vega extension render. */
export const VEGALITE_MIME = "application/vnd.vegalite.v5+json";

/** Shared look: the font resvg has (DejaVu Sans) so the static fallback measures text as the browser draws it. */
export const CONFIG = {
  font: "DejaVu Sans, sans-serif",
  view: { stroke: "#ccc" },
  axis: { labelFontSize: 10, titleFontSize: 11 },
  // One width for every y axis (labels and ticks), so the plot areas of charts stacked in the
  // stepper view and the player start at the same x and their time cursors line up.
  axisY: { minExtent: 40, maxExtent: 40 },
  title: { anchor: "start", fontSize: 12, subtitleFontSize: 10, subtitleColor: "#555" },
  legend: { labelFontSize: 10, titleFontSize: 10 },
};

/** Usable width of a notebook output (JupyterLab's default layout): charts are laid out to fit it. */
export const NOTEBOOK_WIDTH = 900;

/**
 * Room a panel takes besides its plot area, as vega lays it out headless (text at 0.8 em per
 * character, wider than browsers draw): the y axis and its title on the left (the axis extent is
 * fixed by CONFIG.axisY), a legend on the right, and the gap to the next panel.
 */
export const CHROME = { left: 60, right: 80, gap: 20, padding: 5 };

/** The checked maxWidth option (default {@link NOTEBOOK_WIDTH}). */
export function maybeMaxWidth(maxWidth: unknown, where: string): number {
  if (maxWidth === undefined) return NOTEBOOK_WIDTH;
  if (!(typeof maxWidth === "number" && Number.isFinite(maxWidth) && maxWidth > 0)) throw errors.badOption(`maxWidth of ${where}`, maxWidth, "a positive number of pixels, e.g. 900");
  return maxWidth;
}

/** Plot width of each of `n` panels side by side within `maxWidth`, each with its y axis (and a legend, when `legend`). */
export function panelWidth(maxWidth: number, n: number, legend: boolean): number {
  return Math.floor((maxWidth - 2 * CHROME.padding - (n - 1) * CHROME.gap) / n) - CHROME.left - (legend ? CHROME.right : 0);
}

/** How a node's values range, from its op: it decides the colour scale. */
export type ValueRange = "unit" | "signed" | "nonnegative" | "free";

/** The range of each op's output (sigmoids in [0, 1], tanh in [−1, 1], sums unbounded). */
export const RANGE: Record<OpKind | "input", ValueRange> = {
  sigmoid: "unit",
  hardSigmoid: "unit",
  hardSigmoid6: "unit",
  oneMinus: "free",
  tanh: "signed",
  relu: "nonnegative",
  identity: "free",
  affine: "free",
  mul: "free",
  add: "free",
  sub: "free",
  div: "free",
  shift: "free",
  concat: "free",
  input: "free",
};

/** Colour scale of a heatmap panel: fixed domains where the op bounds the values, symmetric around 0 otherwise. */
export function colorScale(range: ValueRange, extent: readonly [number, number]): { scheme: string; domain: [number, number]; domainMid?: number } {
  const m = Math.max(Math.abs(extent[0]), Math.abs(extent[1])) || 1;
  switch (range) {
    case "unit":
      return { scheme: "viridis", domain: [0, 1] };
    case "signed":
      return { scheme: "blueorange", domain: [-1, 1], domainMid: 0 };
    case "nonnegative":
      return { scheme: "viridis", domain: [0, extent[1] > 0 ? extent[1] : 1] };
    case "free":
      return { scheme: "blueorange", domain: [-m, m], domainMid: 0 };
  }
}

/** The colour of the time cursor. */
export const CURSOR_COLOR = "#d62728";
