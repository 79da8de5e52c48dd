/**
 * Raster images for slides and for clients without SVG: an SVG rasterised to PNG by resvg
 * (@resvg/resvg-js, a maintained Rust renderer shipped as a prebuilt Node addon), with the
 * machine's fonts.
 */
import { Resvg } from "@resvg/resvg-js";
import { errors } from "../errors";

/** Options of {@link svgToPng}. */
export interface PngOptions {
  /** Pixels per SVG unit (default 2: sharp on high-density screens and slides). */
  scale?: number;
  /** Background colour behind transparent areas (default white; `null` keeps transparency). */
  background?: string | null;
}

/**
 * Rasterises SVG markup to PNG bytes.
 *
 * @example
 * const png = svgToPng(await diagram(LSTM).toSvg(), { scale: 3 });
 * fs.writeFileSync("lstm.png", png);
 */
export function svgToPng(svg: string, { scale = 2, background = "white" }: PngOptions = {}): Buffer {
  if (!(typeof scale === "number" && scale > 0 && Number.isFinite(scale)))
    throw errors.badOption("scale of svgToPng", scale, "a positive finite number of pixels per SVG unit, e.g. 2");
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    // Liberation Sans has Helvetica's/Arial's metrics, which Graphviz assumes when it sizes boxes.
    font: { loadSystemFonts: true, defaultFontFamily: "Liberation Sans", sansSerifFamily: "Liberation Sans" },
    ...(background ? { background } : {}),
  });
  return resvg.render().asPng();
}
