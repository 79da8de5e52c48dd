/**
 * The README's tour, run as a reader runs it: every ```ts block becomes one cell of a notebook,
 * executed top to bottom on the installed archlab kernel by Jupyter's own nbclient. Any error
 * output or stderr fails; each block must show what its comments promise. (The ```sh blocks are
 * the install commands, not notebook code.)
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import MarkdownIt from "markdown-it";
import { codeNotebook, python, requireTools, ROOT, sandbox } from "./kernel/harness";

interface Output {
  output_type: string;
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
  name?: string;
  text?: string | string[];
}

const fences = new MarkdownIt().parse(readFileSync(join(ROOT, "README.md"), "utf8"), {}).filter((t) => t.type === "fence");
const blocks = fences.filter((t) => t.info.trim() === "ts").map((t) => t.content);
const text = (value: unknown) => (Array.isArray(value) ? value.join("") : String(value ?? ""));

let cells: { source: string; outputs: Output[] }[];

before(() => {
  requireTools(["nbclient", "nbformat"]);
  const box = sandbox();
  const notebook = codeNotebook(blocks, "readme");
  writeFileSync(join(box.workDir, "readme.ipynb"), JSON.stringify(notebook));
  const script = `
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read("readme.ipynb", as_version=4)
NotebookClient(nb, timeout=600, allow_errors=True, resources={"metadata": {"path": "."}}).execute()
nbformat.write(nb, "executed.ipynb")
`;
  python(["-c", script], { cwd: box.workDir, env: box.env, timeoutMs: 900_000 });
  cells = JSON.parse(readFileSync(join(box.workDir, "executed.ipynb"), "utf8")).cells.map((c: { source: string | string[]; outputs: Output[] }) => ({
    source: text(c.source),
    outputs: c.outputs,
  }));
});

/** The first cell whose source includes `code`, and its outputs. */
const cellWith = (code: string) => {
  const found = cells.find((c) => c.source.includes(code));
  assert.ok(found, `a README block contains ${code}`);
  return found.outputs;
};
const bundles = (outputs: Output[]) => outputs.filter((o) => o.data).map((o) => o.data!);

describe("the README's code blocks, run as a notebook", () => {
  test("the README has its ts blocks (the tour, a definition, PyTorch, the built-in cells) and two sh blocks (the two commands; the class hub's — not run)", () => {
    assert.ok(blocks.length >= 7, `${blocks.length} ts blocks`);
    assert.equal(fences.filter((t) => t.info.trim() === "sh").length, 2);
    assert.equal(cells.length, blocks.length);
  });

  test("every block runs verbatim: no error output and nothing on stderr", () => {
    const problems = cells.flatMap((c, k) =>
      c.outputs
        .filter((o) => o.output_type === "error" || (o.output_type === "stream" && o.name === "stderr"))
        .map((o) => `block ${k + 1}: ${o.ename ?? "stderr"}: ${o.evalue ?? text(o.text)}`),
    );
    assert.deepEqual(problems, []);
  });

  test("each block shows what its comments promise", () => {
    const [forget] = bundles(cellWith('trace.value("f", { t: 2 })'));
    assert.match(text(forget["text/plain"]), /^\[\s*0\.\d+/, "the forget gate's values");
    const [drawn] = bundles(cellWith("diagram(LSTM)"));
    assert.match(text(drawn["text/html"]), /<img src="data:image\/svg\+xml;base64,/);
    const [heat] = bundles(cellWith("await plot.heatmap(trace)"));
    assert.ok(heat["application/vnd.vegalite.v5+json"], "a Vega-Lite chart");
    const [stepped] = bundles(cellWith("s.step(); s.back(); s.seek(10);"));
    // Which frame it keeps depends on updates arriving before idle (issue 11 item 3), not on the README.
    assert.match(text(stepped["text/plain"]), /^LSTM: /, "the stepper view");
    const [played] = bundles(cellWith("await player(trace)"));
    assert.match(text(played["text/html"]), /class="archlab-player"/);
    const [gruDiff] = bundles(cellWith("diff(GRU_RESET_BEFORE, GRU)"));
    assert.match(text(gruDiff["text/plain"]), /^GRU_RESET_BEFORE → GRU_RESET_AFTER/);
  });
});
