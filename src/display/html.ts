/**
 * Small HTML helpers shared by every presentational object (diagrams, chart fallbacks).
 *
 * An `<img src="data:image/svg+xml;base64,…">` inside `text/html` is the one image form that
 * JupyterLab and classic Notebook show in every trust mode (an untrusted notebook drops
 * `image/svg+xml` and strips inline `<svg>`; see DESIGN.md, "Display"). {@link imageBundle} builds
 * that bundle once, so every displayable sends the same three views of itself.
 */
import escape from "escape-html";
import type { MimeBundle } from "./protocol";

/**
 * Escapes text for HTML element content and attribute values (`& < > " '`), using the
 * maintained `escape-html` package.
 *
 * @example
 * escapeHtml(`<script>"x" & y</script>`) // "&lt;script&gt;&quot;x&quot; &amp; y&lt;/script&gt;"
 */
export function escapeHtml(text: string): string {
  return escape(String(text));
}

/** A `data:` URI of bytes or text, base64-encoded. */
export function dataUri(mime: string, content: string | Uint8Array): string {
  const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : Buffer.from(content);
  return `data:${mime};base64,${bytes.toString("base64")}`;
}

/** What {@link imageBundle} needs: the SVG, its text description and an optional title (alt text). */
export interface ImageBundleInput {
  /** The image as SVG markup. */
  svg: string;
  /** The `text/plain` view: what a terminal or a screen reader gets. */
  text: string;
  /** Alt text and tooltip of the `<img>` (default: the first line of `text`). */
  title?: string;
  /** Display width in CSS pixels (default: the SVG's own width). */
  width?: number;
}

/**
 * The mime bundle of a static image: `text/html` with an `<img>` holding the SVG as a base64 data
 * URI (shown even in untrusted notebooks), `image/svg+xml`, and `text/plain`.
 *
 * @example
 * const bundle = imageBundle({ svg: "<svg xmlns='http://www.w3.org/2000/svg'/>", text: "an empty picture" });
 * bundle["text/html"]; // '<img src="data:image/svg+xml;base64,…" alt="an empty picture" …>'
 */
export function imageBundle({ svg, text, title, width }: ImageBundleInput): MimeBundle {
  const alt = escapeHtml(title ?? text.split("\n", 1)[0]);
  const size = width === undefined ? "" : ` width="${Math.round(width)}"`;
  return {
    "text/html": `<img src="${dataUri("image/svg+xml", svg)}" alt="${alt}" title="${alt}"${size} style="max-width:100%;height:auto">`,
    "image/svg+xml": svg,
    "text/plain": text,
  };
}
