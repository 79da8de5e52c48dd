/**
 * Raster images for slides and for clients without SVG: an SVG rasterised to PNG by resvg
 * (@resvg/resvg-js, a maintained Rust renderer shipped as a prebuilt Node addon), with a bundled
 * font rather than whatever fonts the machine has.
 */
import { Resvg, type ResvgRenderOptions } from "@resvg/resvg-js";
import { dirname, join } from "node:path";
import { errors } from "../errors";

/** The family every archlab SVG names: diagrams (theme `fontname`) and charts (plot `CONFIG.font`). */
export const FONT_FAMILY = "DejaVu Sans";

/**
 * The fonts PNGs are drawn with: DejaVu Sans, regular and bold, from the `dejavu-fonts-ttf` package
 * (Bitstream Vera licence). It covers the math glyphs of the labels (⊙ ⊕ ∘ σ ᵀ ₀ ‖ − and combining
 * marks such as h̃), and Graphviz holds its metrics, so boxes are sized for the very glyphs drawn in
 * them. System fonts are not loaded: a PNG looks the same on every machine (a glyph DejaVu Sans lacks
 * is drawn as its empty box rather than in some other font's metrics).
 */
export function pngFonts(): NonNullable<ResvgRenderOptions["font"]> {
  if (!fonts) {
    const dir = join(dirname(require.resolve("dejavu-fonts-ttf/package.json")), "ttf");
    const fontFiles = [join(dir, "DejaVuSans.ttf"), join(dir, "DejaVuSans-Bold.ttf")];
    fonts = { loadSystemFonts: false, fontFiles, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY };
  }
  return fonts;
}
let fonts: ReturnType<typeof pngFonts> | undefined;

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
    font: pngFonts(),
    ...(background ? { background } : {}),
  });
  return resvg.render().asPng();
}
