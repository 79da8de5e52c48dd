/**
 * Plots of a model's trace chosen by the node's axes (issue 12, item 6):
 *
 *     per-step vector  [B, N] in a scan         → N × time heatmap (units, memory weightings)
 *     per-step vector over a sequence [B, S]    → time × S matrix when `kind: "matrix"` (attention)
 *     a matrix [B, M, N] (outside scans)        → M × N matrix (an attention or similarity matrix)
 *     an image [B, H, W, C]                     → a grid of feature maps, one per channel
 *
 * Colours follow the op's value range from the op table (σ in [0, 1], tanh in [−1, 1]).
 */
import { dataUri } from "../display/html";
import { ArchlabError, errors } from "../errors";
import type { ModelTrace } from "../lang/run";
import { OPS, type OpSpec } from "../lang/ops";
import { Chart } from "./chart";
import { cellsPng } from "./raster";
import { CONFIG, SCHEMA, colorScale, type ValueRange } from "./spec";

/** Options of {@link tensor}. */
export interface TensorPlotOptions {
  /** Batch row to show (default 0). */
  b?: number;
  /** "auto" (default: chosen by axes), "heatmap" (units × time), "matrix" (rows × columns), "maps" (feature-map grid). */
  kind?: "auto" | "heatmap" | "matrix" | "maps";
  /** Feature maps: the channels to show (default the first 16). */
  channels?: number[];
  /** Width of the chart (or of each feature map) in pixels. */
  width?: number;
  title?: string;
}

/** The colour range of an op's values, from the op table. */
function rangeOf(op: string): ValueRange {
  const r = (OPS as Record<string, OpSpec>)[op]?.range;
  if (!r) return "free";
  if (r[0] === 0 && r[1] === 1) return "unit";
  if (r[0] === -1 && r[1] === 1) return "signed";
  if (r[0] === 0) return "nonnegative";
  return "free";
}

function extentOf(values: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) (lo = Math.min(lo, values[i])), (hi = Math.max(hi, values[i]));
  return lo <= hi ? [lo, hi] : [0, 1];
}

/** A rows × columns grid (row-major values) as a PNG data URI, each cell `scale` × `scale` pixels. */
async function image(values: ArrayLike<number>, rows: number, cols: number, color: { scheme: string; domain: readonly [number, number] }, scale = 1): Promise<string> {
  return dataUri("image/png", await cellsPng((r, c) => values[r * cols + c], rows, cols, color, { scaleX: scale, scaleY: scale }));
}

/** The whole-number magnification that makes an image of `n` cells at least `pixels` wide (at most 8). */
const magnify = (n: number, pixels: number) => Math.max(1, Math.min(8, Math.ceil(pixels / n)));

/** One heatmap layer of `rows × cols` values: rects with exact tooltips when small, an image under the axes when large. */
async function grid(values: ArrayLike<number>, rows: number, cols: number, color: ReturnType<typeof colorScale>, axes: { x: string; y: string; value: string }, size: { width: number; height: number }): Promise<object> {
  const scale = { domain: [0, cols], nice: false, zero: false };
  const yscale = { domain: [0, rows], nice: false, zero: false, reverse: true };
  if (rows * cols <= 5000) {
    const data: object[] = [];
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data.push({ r, c, value: Number.isFinite(values[r * cols + c]) ? values[r * cols + c] : null });
    return {
      ...size,
      data: { values: data },
      transform: [
        { calculate: "datum.c + 1", as: "c2" },
        { calculate: "datum.r + 1", as: "r2" },
      ],
      mark: { type: "rect" },
      encoding: {
        x: { field: "c", type: "quantitative", title: axes.x, scale },
        x2: { field: "c2" },
        y: { field: "r", type: "quantitative", title: axes.y, scale: yscale },
        y2: { field: "r2" },
        color: { field: "value", type: "quantitative", title: axes.value, scale: color },
        tooltip: [
          { field: "r", title: axes.y },
          { field: "c", title: axes.x },
          { field: "value", type: "quantitative", title: axes.value },
        ],
      },
    };
  }
  const url = await image(values, rows, cols, color, magnify(cols, size.width));
  return {
    ...size,
    layer: [
      {
        data: { values: [{ url, x: 0, x2: cols, y: 0, y2: rows }] },
        mark: { type: "image", aspect: false },
        encoding: { url: { field: "url", type: "nominal" }, x: { field: "x", type: "quantitative", title: axes.x, scale }, x2: { field: "x2" }, y: { field: "y", type: "quantitative", title: axes.y, scale: yscale }, y2: { field: "y2" } },
      },
      // An invisible layer carries the colour legend.
      { data: { values: [{ v: color.domain[0] }, { v: color.domain[1] }] }, mark: { type: "point", opacity: 0 }, encoding: { color: { field: "v", type: "quantitative", title: axes.value, scale: color } } },
    ],
  };
}

/**
 * A plot of one traced node, chosen by its axes.
 *
 * @example
 * const { trace } = await esn.run({ x });
 * await plot.tensor(trace, "reservoir/h");             // units × time
 * await plot.tensor(trace, "dec/attn", { kind: "matrix" }); // target step × source position
 * await plot.tensor(trace, "enc1/pool");               // feature maps of a ConvBlock
 */
export async function tensor(trace: ModelTrace, path: string, options: TensorPlotOptions = {}): Promise<Chart> {
  const where = "plot.tensor";
  if (!trace || typeof (trace as ModelTrace).get !== "function" || typeof (trace as ModelTrace).paths === "undefined")
    throw errors.badOption(`trace of ${where}`, trace, "a model's trace (the `trace` of `await model.run(…)`)");
  const node = trace.node(path);
  const value = trace.get(path);
  const stepped = trace.inScan(path);
  const b = options.b ?? 0;
  const batchAxis = stepped ? 1 : 0;
  const B = value.shape[batchAxis] ?? 1;
  if (!Number.isInteger(b) || b < 0 || b >= B) throw errors.outOfRange(`batch row b of ${where}`, b, 0, B - 1);
  const rank = value.shape.length - (stepped ? 1 : 0);
  const kind = options.kind && options.kind !== "auto" ? options.kind : rank === 4 ? "maps" : stepped ? "heatmap" : "matrix";
  const range = rangeOf(node.op);
  const title = options.title ?? `${path} = ${node.op}, ${stepped ? `${value.shape[0]} steps of ` : ""}[${node.shape.map((s) => s.key).join(", ")}]`;
  const spec: Record<string, unknown> = { $schema: SCHEMA, config: CONFIG, title };

  if (kind === "heatmap" || (kind === "matrix" && stepped)) {
    if (!stepped || rank !== 2) throw new ArchlabError("unsupported", `${where}: a ${kind} over time needs a node recorded at every step with shape [B, N]; ${path} has shape [${value.shape.join(", ")}]${stepped ? " per step" : ""}.`);
    const [T, , N] = value.shape;
    const rows = new Float64Array(T * N);
    for (let t = 0; t < T; t++) for (let n = 0; n < N; n++) rows[t * N + n] = value.data[(t * B + b) * N + n];
    const color = colorScale(range, extentOf(rows));
    const axisName = node.shape[1].key;
    if (kind === "matrix") {
      Object.assign(spec, await grid(rows, T, N, color, { x: axisName, y: "step t", value: node.name }, { width: options.width ?? Math.min(480, Math.max(120, N * 24)), height: Math.min(480, Math.max(80, T * 24)) }));
    } else {
      const transposed = new Float64Array(N * T);
      for (let t = 0; t < T; t++) for (let n = 0; n < N; n++) transposed[n * T + t] = rows[t * N + n];
      Object.assign(spec, await grid(transposed, N, T, color, { x: "t", y: axisName, value: node.name }, { width: options.width ?? 480, height: Math.min(200, Math.max(40, N * 8)) }));
    }
    return new Chart(spec as never, { summary: `${kind === "matrix" ? "Matrix" : "Heatmap"} of ${path} over ${T} steps`, steps: null, marks: T * N, reduction: { mode: "exact" }, notes: [] });
  }
  if (kind === "matrix") {
    if (rank !== 3) throw new ArchlabError("unsupported", `${where}: a matrix needs shape [B, M, N]; ${path} has shape [${value.shape.join(", ")}].`);
    const [, M, N] = value.shape;
    const rows = value.data.subarray(b * M * N, (b + 1) * M * N);
    const color = colorScale(range, extentOf(rows));
    Object.assign(spec, await grid(rows, M, N, color, { x: node.shape[2].key, y: node.shape[1].key, value: node.name }, { width: options.width ?? Math.min(480, Math.max(120, N * 24)), height: Math.min(480, Math.max(80, M * 24)) }));
    return new Chart(spec as never, { summary: `Matrix ${path} [${M} × ${N}]`, steps: null, marks: M * N, reduction: { mode: "exact" }, notes: [] });
  }
  // Feature maps.
  if (rank !== 4 || stepped) throw new ArchlabError("unsupported", `${where}: feature maps need an image [B, H, W, C]; ${path} has shape [${value.shape.join(", ")}].`);
  const [, H, W, C] = value.shape;
  const channels = options.channels ?? Array.from({ length: Math.min(C, 16) }, (_, c) => c);
  for (const c of channels) if (!Number.isInteger(c) || c < 0 || c >= C) throw errors.outOfRange(`channel of ${where}`, c, 0, C - 1);
  const all = value.data.subarray(b * H * W * C, (b + 1) * H * W * C);
  const color = colorScale(range, extentOf(all));
  const side = options.width ?? Math.max(64, Math.min(160, Math.floor(860 / Math.min(channels.length, 6)) - 20));
  const maps = await Promise.all(
    channels.map(async (c) => {
      const m = new Float64Array(H * W);
      for (let i = 0; i < H * W; i++) m[i] = all[i * C + c];
      const url = await image(m, H, W, color, magnify(W, side));
      return {
        title: { text: `channel ${c}`, fontSize: 10 },
        width: side,
        height: Math.round((side * H) / W),
        data: { values: [{ url, x: 0, x2: W, y: 0, y2: H }] },
        mark: { type: "image", aspect: false },
        encoding: {
          url: { field: "url", type: "nominal" },
          x: { field: "x", type: "quantitative", axis: null, scale: { domain: [0, W], nice: false, zero: false } },
          x2: { field: "x2" },
          y: { field: "y", type: "quantitative", axis: null, scale: { domain: [0, H], nice: false, zero: false, reverse: true } },
          y2: { field: "y2" },
        },
      };
    }),
  );
  const perRow = Math.min(channels.length, 6);
  Object.assign(spec, { vconcat: Array.from({ length: Math.ceil(maps.length / perRow) }, (_, r) => ({ hconcat: maps.slice(r * perRow, (r + 1) * perRow) })) });
  return new Chart(spec as never, {
    summary: `Feature maps of ${path}: ${channels.length} of ${C} channels, ${H}×${W}`,
    steps: null,
    marks: channels.length,
    reduction: { mode: "exact" },
    notes: [`colour domain ${color.domain.map((v) => Number(v.toPrecision(3))).join(" … ")}`],
  });
}
