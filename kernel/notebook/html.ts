/**
 * Exports an executed notebook to one self-contained HTML page: markdown rendered (markdown-it,
 * raw HTML off), code shown, and each output in its best static form — our HTML (diagrams are
 * `<img>` data URIs), else PNG, else SVG (as an `<img>` data URI, so it cannot script), else text.
 * Charts carry a static image fallback, so they show without loading anything. Nothing in the page
 * references the network.
 */
import MarkdownIt from "markdown-it";
import { dataUri, escapeHtml } from "../../src/display/html";
import { text, type Notebook } from "./format";

const markdown = new MarkdownIt({ html: false, linkify: false });

/** Strips ANSI colour codes from tracebacks. */
const plain = (s: string) => s.replace(/\u001b\[[0-9;]*[A-Za-z]/g, "");

function outputHtml(o: Record<string, any>): string {
  switch (o.output_type) {
    case "stream":
      return `<pre class="stream ${escapeHtml(o.name)}">${escapeHtml(text(o.text))}</pre>`;
    case "error":
      return `<pre class="error">${escapeHtml(plain((o.traceback ?? []).join("\n")) || `${o.ename}: ${o.evalue}`)}</pre>`;
    case "display_data":
    case "execute_result": {
      const d = o.data ?? {};
      if (d["text/html"] !== undefined) return `<div class="html">${text(d["text/html"])}</div>`;
      if (d["image/png"] !== undefined) return `<img alt="${escapeHtml(text(d["text/plain"]).slice(0, 200))}" src="data:image/png;base64,${text(d["image/png"]).replace(/\s/g, "")}">`;
      if (d["image/svg+xml"] !== undefined) return `<img alt="" src="${dataUri("image/svg+xml", text(d["image/svg+xml"]))}">`;
      if (d["text/markdown"] !== undefined) return `<div class="md">${markdown.render(text(d["text/markdown"]))}</div>`;
      return `<pre>${escapeHtml(text(d["text/plain"]))}</pre>`;
    }
    default:
      return "";
  }
}

/**
 * The page's style. Tables look as JupyterLab 4 draws them in rendered markdown and HTML outputs
 * (its `.jp-RenderedHTMLCommon` rules with the light theme's values): collapsed, centred, a rule
 * under the header, padded cells, striped rows; HTML outputs' cells right-aligned, as in Lab; and
 * the last block of rendered markdown keeps half a line below it, as there.
 */
const STYLE = `body{font:15px/1.5 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
pre{background:#f6f8fa;padding:.6em;overflow:auto;font:13px/1.4 ui-monospace,monospace}
.code pre{border-left:3px solid #4a7ebb}.out{margin:.3em 0 1.2em}.error{background:#fdecea;color:#8a1c1c}
.prompt{color:#888;font:12px ui-monospace,monospace}img{max-width:100%}
table{border-collapse:collapse;border-spacing:0;border:none;color:rgba(0,0,0,.87);font-size:13px;table-layout:fixed;margin:0 auto 1em}
thead{border-bottom:1px solid #bdbdbd;vertical-align:bottom}
td,th,tr{vertical-align:middle;padding:.5em;line-height:normal;white-space:normal;max-width:none;border:none}
.html td,.html th,.html tr{text-align:right}th{font-weight:bold}
tbody tr:nth-child(odd){background:#fff}tbody tr:nth-child(even){background:#f5f5f5}tbody tr:hover{background:#e1f5fe}
.md>:last-child{margin-bottom:.5em}`;

/** The HTML page of an executed notebook. */
export function notebookToHtml(nb: Notebook, title: string): string {
  const body = nb.cells
    .map((c) => {
      if (c.cell_type === "markdown") return `<section class="md">${markdown.render(text(c.source))}</section>`;
      if (c.cell_type === "raw") return `<pre>${escapeHtml(text(c.source))}</pre>`;
      const count = c.execution_count == null ? " " : String(c.execution_count);
      return `<section class="code"><div class="prompt">In [${count}]:</div><pre><code>${escapeHtml(text(c.source))}</code></pre><div class="out">${(c.outputs ?? []).map(outputHtml).join("\n")}</div></section>`;
    })
    .join("\n");
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>\n<body>\n${body}\n</body></html>\n`;
}
