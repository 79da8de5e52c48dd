/**
 * Layout by real Graphviz, in-process: @hpcc-js/wasm-graphviz (Graphviz compiled to WebAssembly),
 * loaded once on first use and cached. The package is ESM-only; this CommonJS build keeps
 * `import()` dynamic, so loading it costs nothing until a diagram is drawn.
 */
import { FONT_FAMILY } from "../display/image";
import { errors } from "../errors";

/** The part of @hpcc-js/wasm-graphviz's `Graphviz` archlab uses (its own type cannot be named from CommonJS declarations). */
export interface GraphvizLayout {
  layout(dot: string, format: "svg", engine: "dot"): string;
  version(): string;
}

let instance: Promise<GraphvizLayout> | undefined;

/** The Graphviz instance (loaded on first call, then cached). */
export function graphviz(): Promise<GraphvizLayout> {
  instance ??= import("@hpcc-js/wasm-graphviz").then((m): Promise<GraphvizLayout> => m.Graphviz.load());
  instance.catch(() => (instance = undefined));
  return instance;
}

/**
 * Lays out DOT with Graphviz's `dot` engine and returns SVG. A graph Graphviz rejects gives an
 * `ArchlabError` ("layout") quoting Graphviz's message, never a broken picture.
 */
export async function dotToSvg(dot: string, what = "diagram"): Promise<string> {
  const gv = await graphviz();
  let svg: string;
  try {
    svg = gv.layout(dot, "svg", "dot");
  } catch (e) {
    throw errors.layout(what, e instanceof Error ? e.message : String(e));
  }
  if (!svg.includes("<svg")) throw errors.layout(what, "Graphviz returned no SVG.");
  return withFallbackFonts(svg);
}

/**
 * Graphviz writes the font name it measured with, alone. A browser without DejaVu Sans would then
 * draw in its default font (often a serif); Verdana has nearly DejaVu Sans's widths, and any other
 * sans-serif is narrower, so the text still fits its box.
 */
function withFallbackFonts(svg: string): string {
  return svg.replaceAll(`font-family="${FONT_FAMILY}"`, `font-family="${FONT_FAMILY},Verdana,sans-serif"`);
}
