/**
 * Plot frames: a chart rendered headless once (cursor hidden) to a PNG, plus where its cursor
 * rules go. A frame at step t is a small SVG that holds that PNG and draws the rules at t, so
 * moving the cursor costs a string, not a render. The player's script builds the same SVG in
 * the browser from {@link PlotFrames.template}.
 */
import { dataUri, escapeHtml } from "../display/html";
import { svgToPng } from "../display/image";
import type { Chart } from "../plot/chart";
import { CURSOR_COLOR } from "../plot/spec";
import { renderScene, type CursorGeometry } from "../plot/vega";

/** Options of {@link PlotFrames.render}. */
export interface FrameOptions {
  /** Pixels per CSS pixel of the chart's PNG (default 1: frames go out at every step, keep them small). */
  scale?: number;
}

/** Everything the browser needs to draw a frame: the PNG, the size, the cursors. */
export interface FrameTemplate {
  png: string;
  width: number;
  height: number;
  cursors: CursorGeometry[];
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/** One cursor rule at step t. The player's script writes the same element (see player.ts). */
export function rule(c: CursorGeometry, t: number): string {
  const x = r2(c.x0 + c.perStep * t);
  return `<line x1="${x}" x2="${x}" y1="${r2(c.y1)}" y2="${r2(c.y2)}"/>`;
}

/** One chart's frames. */
export class PlotFrames {
  private constructor(
    readonly chart: Chart,
    readonly template: FrameTemplate,
  ) {}

  /** Renders the chart once, cursor hidden. */
  static async render(chart: Chart, { scale = 1 }: FrameOptions = {}): Promise<PlotFrames> {
    const scene = await renderScene(chart.spec, { cursorAt: null });
    const png = svgToPng(scene.svg, { scale }).toString("base64");
    return new PlotFrames(chart, { png, width: scene.width, height: scene.height, cursors: scene.cursors });
  }

  /** The frame's SVG around its cursor rules: `head + rules + tail` (the player's script joins them too). */
  get parts(): { head: string; tail: string } {
    const { png, width, height } = this.template;
    return {
      head:
        `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
        `<image width="${width}" height="${height}" href="data:image/png;base64,${png}" xlink:href="data:image/png;base64,${png}"/>` +
        `<g stroke="${CURSOR_COLOR}" stroke-width="2">`,
      tail: "</g></svg>",
    };
  }

  /** The frame at step t as SVG markup (no cursor when t is null). */
  svgAt(t: number | null): string {
    const rules = t === null ? "" : this.template.cursors.map((c) => rule(c, t)).join("");
    const { head, tail } = this.parts;
    return head + rules + tail;
  }

  /** The frame at step t as an `<img>` (an SVG data URI: shown in every trust mode). */
  imgAt(t: number | null, attributes = ""): string {
    const alt = escapeHtml(this.chart.info.summary + (t === null ? "" : `, cursor at t = ${t}`));
    return `<img src="${dataUri("image/svg+xml", this.svgAt(t))}" alt="${alt}" title="${alt}" width="${Math.round(this.template.width)}"${attributes} style="max-width:100%;height:auto">`;
  }
}
