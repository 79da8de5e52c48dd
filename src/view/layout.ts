/**
 * The layout the stepper view and the player share: the diagram beside the plots only when both fit
 * at a readable size, else the diagram on top, full width, and the plots below it.
 *
 * A diagram scaled to fit half a notebook is unreadable (an LSTM's 9 pt value labels come out ~6 px
 * tall), so the diagram never shrinks below the width at which its smallest text is
 * {@link MIN_TEXT_PX} tall: a narrower notebook scrolls the diagram sideways instead. Plain flexbox
 * with wrapping does the rest, and only with styles JupyterLab's sanitizer keeps in untrusted
 * notebooks (no scripts, no `min()`, no classes with rules), so the layout is the same in every
 * trust mode.
 */
import { dataUri, escapeHtml } from "../display/html";

/** Smallest on-screen text size of a diagram, in CSS pixels. */
export const MIN_TEXT_PX = 11;

/** Widths of a Graphviz SVG in CSS pixels: as laid out, and the narrowest at which its text stays readable. */
export interface DiagramWidths {
  /** The SVG's own width (Graphviz writes points: 1 pt = 4/3 px). */
  natural: number;
  /** The narrowest width at which its smallest text is {@link MIN_TEXT_PX} tall. */
  readable: number;
}

/** Reads a Graphviz SVG's width, viewBox and smallest `font-size`. */
export function diagramWidths(svg: string): DiagramWidths {
  const tag = /<svg\b[^>]*>/.exec(svg)?.[0] ?? "";
  const width = /\bwidth="([\d.]+)(pt|px)?"/.exec(tag);
  const viewBox = /\bviewBox="[-\d.]+ [-\d.]+ ([\d.]+) [\d.]+"/.exec(tag);
  const natural = width ? Number(width[1]) * (width[2] === "px" ? 1 : 4 / 3) : 0;
  const userWidth = viewBox ? Number(viewBox[1]) : natural * 0.75;
  const fonts = [...svg.matchAll(/font-size="([\d.]+)"/g)].map((m) => Number(m[1])).filter((f) => f > 0);
  if (!natural || !userWidth || fonts.length === 0) return { natural: Math.round(natural), readable: Math.round(natural) };
  // On screen, a font of f user units at width w px is f · w / userWidth px tall.
  const readable = (MIN_TEXT_PX * userWidth) / Math.min(...fonts);
  return { natural: Math.round(natural), readable: Math.ceil(readable) };
}

/** The diagram as a figure: an `<img>` (an SVG data URI, shown in every trust mode) and its caption. */
export function diagramFigure(svg: string, caption: string, { imgClass = "", captionClass = "" } = {}): string {
  const { natural, readable } = diagramWidths(svg);
  const widest = Math.max(natural, readable);
  const text = escapeHtml(caption);
  return (
    `<figure style="margin:0;flex:1 1 ${widest}px;max-width:${widest}px;min-width:0;overflow-x:auto">` +
    // data-width: the fitted width, which the player's zoom returns to.
    `<img src="${dataUri("image/svg+xml", svg)}"${imgClass ? ` class="${imgClass}"` : ""} data-width="${widest}" alt="${text}" title="${text}" style="display:block;width:100%;min-width:${readable}px;max-width:${widest}px;height:auto">` +
    `<figcaption${captionClass ? ` class="${captionClass}"` : ""} style="font:12px sans-serif">${text}</figcaption></figure>`
  );
}

/** The diagram figure and the plots (stacked in a column), side by side when both fit, else wrapped. */
export function besidePlots(figure: string, plots: readonly string[]): string {
  return (
    `<div style="display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start">${figure}` +
    `<div style="display:flex;flex-direction:column;gap:6px;flex:0 1 auto;max-width:100%">${plots.join("")}</div></div>`
  );
}
