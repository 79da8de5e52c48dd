/**
 * Raster images for slides and for clients without SVG: an SVG rasterised to PNG by resvg
 * (@resvg/resvg-js, a maintained Rust renderer shipped as a prebuilt Node addon), with a bundled
 * font rather than whatever fonts the machine has.
 *
 * resvg can abort the whole process instead of failing: the resvg inside @resvg/resvg-js 2.6.2
 * (0.34) panics, uncatchably, when a group it draws on a layer of its own (semi-transparent,
 * clipped, masked, filtered) or a mask's or pattern's content lies entirely outside the picture
 * (fixed upstream in resvg 0.35, "Panic when an element is completely outside the viewbox"), and
 * when the pixmap cannot be allocated. In a kernel that loses every variable of the session. So
 * {@link svgToPng} checks what it can before rendering: the SVG parses, the PNG's size is within
 * {@link MAX_PNG_PIXELS}; and it renders in this process only SVGs that cannot reach the panic
 * (everything drawn lies near the picture; no masks, patterns, filters or nested SVG images).
 * Any other SVG is rendered in a child process, where a crash becomes a named error.
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { Resvg, type ResvgRenderOptions } from "@resvg/resvg-js";
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

/** Most pixels of one PNG (8192 × 8192, 256 MB while drawn): beyond it svgToPng asks for a lower scale. */
export const MAX_PNG_PIXELS = 2 ** 26;

/**
 * Rasterises SVG markup to PNG bytes. Throws an ArchlabError (never aborts the process) for an SVG
 * resvg cannot read, a PNG with no pixels or over {@link MAX_PNG_PIXELS}, or an SVG resvg crashes on.
 *
 * @example
 * const png = svgToPng(await diagram(LSTM).toSvg(), { scale: 3 });
 * fs.writeFileSync("lstm.png", png);
 */
export function svgToPng(svg: string, { scale = 2, background = "white" }: PngOptions = {}): Buffer {
  if (!(typeof scale === "number" && scale > 0 && Number.isFinite(scale)))
    throw errors.badOption("scale of svgToPng", scale, "a positive finite number of pixels per SVG unit, e.g. 2");
  if (typeof svg !== "string") throw errors.badSvg(`is a ${svg === null ? "null" : typeof svg}, not SVG markup (a string).`);
  const options: ResvgRenderOptions = {
    fitTo: { mode: "zoom", value: scale },
    font: pngFonts(),
    ...(background ? { background } : {}),
  };
  const resvg = attempt(() => new Resvg(svg, options));
  // resvg reports its size rounded: half a unit more on each side bounds the PNG it would draw.
  const [width, height] = [resvg.width, resvg.height].map((n) => Math.round(n * scale));
  if (!((resvg.width + 0.5) * (resvg.height + 0.5) * scale * scale <= MAX_PNG_PIXELS))
    throw errors.badSvg(
      `would be a PNG of ${width} × ${height} pixels at scale ${scale}, over the limit of ${MAX_PNG_PIXELS.toLocaleString("en-US")} pixels (8192 × 8192). Lower the scale, or give the SVG a smaller width and height.`,
    );
  if (drawsNearItself(resvg)) return attempt(() => resvg.render().asPng());
  return renderApart(svg, options);
}

/** Runs a resvg call, turning its errors (unreadable markup, a zero-sized PNG, a bad colour) into a named one. */
function attempt<T>(call: () => T): T {
  try {
    return call();
  } catch (e) {
    throw refused((e as Error).message);
  }
}

const refused = (reason: string) =>
  errors.badSvg(`cannot be rendered: ${reason}. Give SVG markup whose width and height are at least one pixel at the chosen scale (e.g. from diagram(…).toSvg()).`);

/** Elements resvg renders with a pixmap of their own, outside the checks below (see the module doc). */
const OWN_PIXMAP = /<(?:mask|pattern|filter)\b|data:image\/svg\+xml|preserveAspectRatio="[^"]*slice/;

/**
 * True when nothing in the SVG can reach resvg's panic: everything drawn lies within one picture
 * size of the picture (resvg lays a group out within two), and nothing has its own pixmap. Read
 * from resvg's own parsed tree (its normalised markup and bounding box), not from the raw text.
 */
function drawsNearItself(resvg: Resvg): boolean {
  const tree = resvg.toString();
  if (OWN_PIXMAP.test(tree)) return false;
  const viewBox = /^<svg\b[^>]*\bviewBox="([^"]*)"/.exec(tree)?.[1].trim().split(/[\s,]+/).map(Number);
  if (!viewBox || viewBox.length !== 4 || !viewBox.every(Number.isFinite)) return false;
  const [x, y, w, h] = viewBox;
  const box = resvg.getBBox();
  if (!box) return true; // nothing is drawn
  return box.x >= x - w && box.y >= y - h && box.x + box.width <= x + 2 * w && box.y + box.height <= y + 2 * h;
}

// The child's whole program: read the SVG from stdin, write the PNG to stdout.
const CHILD = `const { Resvg } = require(process.argv[1]);
const chunks = [];
process.stdin.on("data", (c) => chunks.push(c)).on("end", () => {
  process.stdout.write(new Resvg(Buffer.concat(chunks), JSON.parse(process.argv[2])).render().asPng());
});`;

/** Renders in a child process: if resvg aborts there, this process lives and says so. */
function renderApart(svg: string, options: ResvgRenderOptions): Buffer {
  const child = spawnSync(process.execPath, ["-e", CHILD, require.resolve("@resvg/resvg-js"), JSON.stringify(options)], {
    input: svg,
    maxBuffer: MAX_PNG_PIXELS * 5,
    timeout: 300_000,
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  if (child.status === 0) return child.stdout;
  const stderr = child.stderr?.toString() ?? "";
  // A JavaScript error (a zero-sized PNG, a bad colour) is resvg refusing, as it would here.
  const refusal = /^\w*Error: (.*)$/m.exec(stderr)?.[1];
  if (child.status !== null && refusal) throw refused(refusal);
  const reason = /panicked at[^\n]*\n([^\n]*)/.exec(stderr)?.[1] ?? String(child.error?.message ?? child.signal ?? `exit status ${child.status}`);
  throw errors.renderFailed(
    `resvg, the rasteriser, crashed${child.signal ? ` (${child.signal})` : ""}: ${reason.trim()}`,
    "It does so when a masked, filtered, clipped or semi-transparent group lies entirely outside the picture: move that content into the picture or remove it.",
  );
}
