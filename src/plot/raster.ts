/**
 * Rasterised heatmaps for long sequences: a panel's values, averaged over time windows, coloured
 * with the same Vega scheme and domain as the chart's legend, encoded as a PNG (pngjs) that a
 * Vega-Lite image mark stretches under the chart's axes. Non-finite windows stay transparent.
 */
import { PNG } from "pngjs";
import { dataUri } from "../display/html";
import { windowMeans } from "./budget";
import type { Panel } from "./select";
import { loadVega } from "./vega-modules";

/** A colour lookup of 256 entries for a Vega scheme. */
export async function lut(scheme: string): Promise<Uint8Array> {
  const { vega } = await loadVega();
  const interpolate = vega.scheme(scheme) as unknown as (x: number) => string;
  const out = new Uint8Array(256 * 3);
  for (let k = 0; k < 256; k++) {
    // Vega's scheme interpolators (d3-interpolate) return "rgb(r, g, b)".
    const rgb = /^rgb\((\d+), (\d+), (\d+)\)$/.exec(interpolate(k / 255));
    if (!rgb) throw new Error(`Unexpected colour ${interpolate(k / 255)} from Vega scheme "${scheme}".`);
    out.set([Number(rgb[1]), Number(rgb[2]), Number(rgb[3])], k * 3);
  }
  return out;
}

/** What {@link rasterise} returns: the PNG as a data URI and how many steps each column averages. */
export interface Raster {
  url: string;
  columns: number;
  window: number;
  bytes: number;
}

/**
 * A PNG of `rows` × `cols` cells coloured in the scale (cells whose value is not finite stay
 * transparent), each cell `scaleY` × `scaleX` pixels so that viewers stretching the image keep cells
 * sharp. `value(r, c)` reads the cell at row r, column c, whatever the caller's layout.
 */
export async function cellsPng(value: (r: number, c: number) => number, rows: number, cols: number, color: { scheme: string; domain: readonly [number, number] }, { scaleX = 1, scaleY = 1 } = {}): Promise<Buffer> {
  const colours = await lut(color.scheme);
  const [lo, hi] = color.domain;
  const span = hi - lo || 1;
  const width = cols * scaleX;
  const png = new PNG({ width, height: rows * scaleY, colorType: 6 });
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const v = value(r, c);
      if (!Number.isFinite(v)) continue; // pngjs starts with every pixel transparent
      const k = Math.round(Math.min(1, Math.max(0, (v - lo) / span)) * 255) * 3;
      for (let y = r * scaleY; y < (r + 1) * scaleY; y++)
        for (let x = c * scaleX; x < (c + 1) * scaleX; x++) {
          const o = (y * width + x) * 4;
          png.data[o] = colours[k];
          png.data[o + 1] = colours[k + 1];
          png.data[o + 2] = colours[k + 2];
          png.data[o + 3] = 255;
        }
    }
  return PNG.sync.write(png);
}

/**
 * Rasterises a panel: at most `maxColumns` columns (each the mean of `window` steps), one row per
 * unit, each row repeated `rowHeight` times so browsers do not blur units into each other.
 */
export async function rasterise(p: Panel, color: { scheme: string; domain: readonly [number, number] }, { maxColumns, rowHeight }: { maxColumns: number; rowHeight: number }): Promise<Raster> {
  const window = Math.ceil(p.T / Math.max(1, maxColumns));
  const { columns, means } = windowMeans(p, window);
  const bytes = await cellsPng((u, c) => means[c * p.n + u], p.n, columns, color, { scaleY: Math.max(1, Math.floor(rowHeight)) });
  return { url: dataUri("image/png", bytes), columns, window, bytes: bytes.length };
}
