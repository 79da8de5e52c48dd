/**
 * User text in charts (cell titles, node labels and notes, trace names): safe for Vega, and never cut.
 *
 * Vega reads some display text as code. vega-lite writes a tooltip's titles into a Vega expression as
 * object keys, escaping only `"`; vega quotes titles with `stringValue`, which escapes only the first
 * U+2028. So a label with a line break, a trailing `\` or U+2028 broke every chart with an expression
 * parse error. Here titles become lists of lines (Vega-Lite titles, axis and legend titles take
 * arrays), wrapped to the width they have, and tooltip titles are escaped as expression strings.
 */

/** Line breaks a label may hold (JavaScript's line terminators, CR LF, and NEL). */
const LINE_BREAK = /\r\n|[\n\r\u2028\u2029\u0085]/;

/**
 * Width of text as vega lays it out headless (no canvas in the kernel): 0.8 em per UTF-16 unit,
 * vega-scenegraph's estimate. Browsers draw narrower, so text sized by it fits both.
 */
export const textWidth = (text: string, fontSize: number): number => 0.8 * fontSize * text.length;

/**
 * Text as lines: split at its line breaks, each line wrapped at spaces to at most `width` pixels
 * (a word longer than a line is broken, not cut). Nothing is dropped: the lines joined are the text.
 */
export function wrapLines(text: string, width = Infinity, fontSize = 10): string[] {
  const perLine = Math.max(8, Math.floor(width / textWidth("x", fontSize)));
  const out: string[] = [];
  for (const line of String(text).split(LINE_BREAK)) {
    let current = "";
    for (const word of line.split(" ")) {
      const candidate = current ? `${current} ${word}` : word;
      if (candidate.length <= perLine) {
        current = candidate;
        continue;
      }
      if (current) out.push(current);
      current = word;
      while (current.length > perLine) {
        out.push(current.slice(0, perLine));
        current = current.slice(perLine);
      }
    }
    out.push(current);
  }
  return out;
}

/** One line as a string, several as Vega-Lite's list of lines. */
export function textOf(text: string, width?: number, fontSize?: number): string | string[] {
  const lines = wrapLines(text, width, fontSize);
  return lines.length === 1 ? lines[0] : lines;
}

/** Font sizes of titles and subtitles, and of axis titles (CONFIG in spec.ts). */
export const TITLE_FONT = { title: 12, subtitle: 10 };
export const AXIS_TITLE_FONT = 11;

/** A Vega-Lite title with notes as its subtitle, wrapped to `width` pixels. */
export function titleOf(text: string, notes: readonly string[] = [], width?: number): string | string[] | { text: string | string[]; subtitle: string[] } {
  const title = textOf(text, width, TITLE_FONT.title);
  if (notes.length === 0) return title;
  return { text: title, subtitle: notes.flatMap((n) => wrapLines(n, width, TITLE_FONT.subtitle)) };
}

/**
 * A tooltip title: vega-lite pastes it into an expression string (escaping `"` only), so backslashes
 * and control or line-break characters are escaped here, and the tooltip shows the text as given.
 */
export function tooltipTitle(text: string): string {
  return String(text).replace(/[\\\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => (c === "\\" ? "\\\\" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
}
