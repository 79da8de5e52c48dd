/**
 * A long sequence's player and view in a real kernel, executed by Jupyter's own tools (nbconvert →
 * nbclient): rendering them once aborted the kernel (a resvg panic) and lost every variable.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { codeNotebook, python, requireTools, sandbox } from "./harness";

const CELLS = [
  "const c = cell(LSTM, { inputSize: 1, hiddenSize: 4 });\nconst xs = Array.from({ length: 1000 }, () => [0.5]);\nconst s = c.stepper(xs);\ns.seek(999);",
  "await player(c.run(xs))",
  "await view(s).show();",
  "`kernel state intact: ${s.t}`",
];

interface Output {
  output_type: string;
  data?: Record<string, string | string[]>;
  ename?: string;
  evalue?: string;
}

let cells: { outputs: Output[] }[];

before(() => {
  requireTools(["nbconvert", "nbclient", "nbformat"]);
  const box = sandbox();
  const notebook = codeNotebook(CELLS);
  writeFileSync(join(box.workDir, "long.ipynb"), JSON.stringify(notebook));
  python(["-m", "nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.timeout=600", "--output", "executed.ipynb", "long.ipynb"], { cwd: box.workDir, env: box.env });
  cells = JSON.parse(readFileSync(join(box.workDir, "executed.ipynb"), "utf8")).cells;
});

const text = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join("") : (value ?? ""));

describe("a 1 000-step sequence in the kernel", () => {
  test("the player is one HTML output with its plots as PNG frames", () => {
    const [out] = cells[1].outputs;
    assert.equal(out.output_type, "execute_result");
    assert.match(text(out.data!["text/plain"]), /^Player of LSTM over 1000 steps/);
    const html = text(out.data!["text/html"]);
    assert.match(html, /class="archlab-player"/);
    assert.equal(html.match(/data:image\/png;base64,/g)?.length, 2 * 2, "heatmap and states, each a PNG in the script's frame data (href and xlink:href)");
  });

  test("the view shows step 999 and the kernel keeps its state afterwards", () => {
    const [out] = cells[2].outputs;
    assert.equal(out.output_type, "display_data");
    assert.match(text(out.data!["text/plain"]), /step t = 999 of 0…999/);
    assert.equal(text(cells[3].outputs[0].data!["text/plain"]), "'kernel state intact: 999'");
  });
});
