/**
 * Escaping for the two string forms a DOT file has: quoted strings (ids, tooltips, attribute
 * values) and HTML-like labels. Every name and label of a user's definition goes through one of
 * these, so a name such as `"]` or `<script>` cannot break the graph or reach the SVG raw.
 */
import { escapeHtml } from "../display/html";

/**
 * A DOT quoted string: backslashes and quotes escaped, newlines as Graphviz's `\n`.
 *
 * @example
 * dotString('x"]; evil') // '"x\\"]; evil"'
 */
export function dotString(text: string): string {
  return `"${String(text).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\r\n|\r|\n/g, "\\n")}"`;
}

/**
 * Text inside an HTML-like label: HTML-escaped, newlines as `<BR/>`.
 *
 * @example
 * htmlText("a < b\nc") // "a &lt; b<BR/>c"
 */
export function htmlText(text: string): string {
  return String(text)
    .split(/\r\n|\r|\n/)
    .map(escapeHtml)
    .join("<BR/>");
}
