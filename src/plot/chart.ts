/**
 * A chart is a display object: its Vega-Lite 5 spec (plain data, sent as a JSON object) plus a
 * static fallback rendered in the kernel (vega headless → SVG → PNG with resvg) for classic
 * Notebook, untrusted notebooks and exported HTML, plus a text description.
 */
import { DISPLAY, type Displayable, type MimeBundle } from "../display/protocol";
import { svgToPng } from "../display/image";
import { errors } from "../errors";
import { CURSOR_PARAM, renderScene, type RenderedScene } from "./vega";
import { VEGALITE_MIME, type VegaLiteSpec } from "./spec";

/** What a chart knows about itself besides its spec. */
export interface ChartInfo {
  /** What it shows, one line (the text/plain view starts with it). */
  summary: string;
  /** Steps on its time axis (null for charts without one). */
  steps: number | null;
  /** Marks in the spec's data (rects, points, pixels of rasters not counted). */
  marks: number;
  /** How the data was reduced to fit the budget: "exact", "aggregate" (steps per window) or "raster". */
  reduction: { mode: "exact" } | { mode: "aggregate" | "raster"; window: number };
  /** Notes shown under the title (conventions, non-finite values, reductions). */
  notes: readonly string[];
}

/** Options of {@link Chart.toPNG} and of the display fallback. */
export interface FallbackOptions {
  /** Pixels per CSS pixel of the PNG fallback (default 1: the image shows at the chart's own size). */
  scale?: number;
}

/**
 * A Vega-Lite chart of a trace. Display it (last value of a cell, or `display(chart)`); read
 * `chart.spec` for the Vega-Lite JSON; `chart.at(t)` moves the time cursor.
 *
 * @example
 * const chart = plot.heatmap(lstm.run(xs), { names: ["i", "f", "o"] });
 * chart.spec.$schema; // "https://vega.github.io/schema/vega-lite/v5.json"
 * await chart.toSVG();  // the static fallback, rendered headless
 */
export class Chart implements Displayable {
  #scene?: Promise<RenderedScene>;

  constructor(
    readonly spec: VegaLiteSpec,
    readonly info: ChartInfo,
  ) {}

  /** The time cursor's step (null when the chart has no time axis). */
  get cursor(): number | null {
    const p = this.spec.params?.find((x) => x.name === CURSOR_PARAM);
    return p ? (p.value as number) : null;
  }

  /** The same chart with its time cursor at step t. */
  at(t: number): Chart {
    const steps = this.info.steps;
    if (steps === null || this.cursor === null) throw errors.unsupported(`Moving the cursor of "${this.info.summary}"`, "this chart has no time axis.");
    if (!Number.isInteger(t) || t < 0 || t >= steps) throw errors.outOfRange("Cursor step t", t, 0, steps - 1);
    const params = this.spec.params!.map((p) => (p.name === CURSOR_PARAM ? { ...p, value: t } : p));
    return new Chart({ ...this.spec, params }, this.info);
  }

  /** Rendered headless once (cursor where the spec has it), with the cursors' pixel geometry. */
  scene(): Promise<RenderedScene> {
    return (this.#scene ??= renderScene(this.spec));
  }

  /** The static fallback as SVG markup. */
  async toSVG(): Promise<string> {
    return (await this.scene()).svg;
  }

  /** The static fallback as PNG bytes. */
  async toPNG({ scale = 1 }: FallbackOptions = {}): Promise<Buffer> {
    return svgToPng((await this.scene()).svg, { scale });
  }

  /** Text view: the summary and notes. */
  toString(): string {
    return [this.info.summary, ...this.info.notes.map((n) => `  ${n}`)].join("\n");
  }

  /** Vega-Lite 5 (a JSON object), a PNG fallback, and text. */
  async [DISPLAY](): Promise<MimeBundle> {
    const png = await this.toPNG();
    return {
      [VEGALITE_MIME]: this.spec,
      "image/png": png.toString("base64"),
      "text/plain": this.toString(),
    };
  }
}
