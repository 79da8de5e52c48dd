/**
 * `archlab run`: executes notebooks on the archlab kernel through our own Node Jupyter client (no
 * Python), reports failing cells by notebook and cell, writes executed notebooks and HTML.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { NotebookError, readNotebook } from "../kernel/notebook/format";
import { runNotebook } from "../kernel/notebook/run";

const dir = mkdtempSync(join(tmpdir(), "archlab-runner-"));
const notebook = (cells: [string, string][]) => ({
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {},
  cells: cells.map(([cell_type, source]) => ({ cell_type, source, metadata: {}, ...(cell_type === "code" ? { outputs: [], execution_count: null } : {}) })),
});
const write = (name: string, nb: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof nb === "string" ? nb : JSON.stringify(nb));
  return path;
};

describe("archlab run", () => {
  it("runs every cell, numbers them, names the failing cell, and keeps going after an error", async () => {
    const path = write("errors.ipynb", notebook([
      ["markdown", "# Title <script>alert(1)</script>"],
      ["code", "const lstm = cell(LSTM, { inputSize: 2, hiddenSize: 3 });\nlstm.parameterCount"],
      ["code", "const n: number = 'text';"],
      ["code", "console.log('still running'); lstm.sizes.H"],
    ]));
    const report = await runNotebook(path, { output: join(dir, "errors.out.ipynb"), html: join(dir, "errors.html") });
    assert.equal(report.executed, 3);
    assert.deepEqual(report.failures.map((f) => f.cell), [3]);
    assert.match(report.failures[0].evalue, /not assignable to type 'number'/);
    const out = readNotebook(join(dir, "errors.out.ipynb"));
    const code = out.cells.filter((c) => c.cell_type === "code");
    assert.deepEqual(code.map((c) => c.execution_count), [1, 2, 3]);
    assert.deepEqual((code[0].outputs![0] as any).data["text/plain"], "72"); // 4 gates × (3·2 + 3·3 + 3)
    assert.ok(code[1].outputs!.some((o) => o.output_type === "error"));
    assert.equal((code[2].outputs![0] as any).text, "still running\n");
    const html = readFileSync(join(dir, "errors.html"), "utf8");
    assert.ok(!html.includes("<script>alert(1)"), "markdown HTML is escaped");
    assert.match(html, /still running/);
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//);
  });

  it("applies a later cell's display update to the earlier cell's output, as nbclient does", async () => {
    const path = write("update.ipynb", notebook([
      ["code", "await display({ [Symbol.for('Jupyter.display')]: () => ({ 'text/plain': 'first' }) }, { id: 'shown' });"],
      ["code", "await display({ [Symbol.for('Jupyter.display')]: () => ({ 'text/plain': 'second' }) }, { id: 'shown', update: true });"],
    ]));
    await runNotebook(path, { inplace: true });
    const [first, second] = readNotebook(path).cells;
    assert.deepEqual(first.outputs!.map((o: any) => o.data["text/plain"]), ["second"]);
    assert.deepEqual(second.outputs, []);
  });

  it("stops at the first failure when asked", async () => {
    const path = write("stop.ipynb", notebook([["code", "throw new Error('first')"], ["code", "1 + 1"]]));
    const report = await runNotebook(path, { stopOnError: true });
    assert.equal(report.executed, 1);
    assert.equal(report.failures[0].evalue, "first");
  });

  it("rejects a file that is not a notebook with a clear error", async () => {
    await assert.rejects(runNotebook(write("bad.ipynb", "{ not json")), (e: Error) => e instanceof NotebookError && /is not a notebook: it is not JSON/.test(e.message));
    await assert.rejects(runNotebook(write("v3.ipynb", { nbformat: 3, cells: [] })), /nbformat is 3, expected 4/);
    await assert.rejects(runNotebook(write("cells.ipynb", { nbformat: 4, cells: [{ cell_type: "code" }] })), /cell 1 has no valid cell_type or source/);
  });

  it("the CLI: `archlab run` exits 1 naming the failed cell; `archlab start --headless` writes HTML for every notebook", () => {
    const cli = join(__dirname, "..", "dist", "kernel", "cli.js");
    const failing = write("cli.ipynb", notebook([["code", "1 + 1"], ["code", "throw new RangeError('no')"]]));
    const run = spawnSync(process.execPath, [cli, "run", failing], { encoding: "utf8" });
    assert.equal(run.status, 1);
    assert.match(run.stdout, /cli\.ipynb: 2 cells in [\d.]+ s, 1 failed/);
    assert.match(run.stderr, /cli\.ipynb, cell 2: RangeError: no/);
    const lessons = join(dir, "lessons");
    mkdirSync(lessons);
    copyFileSync(join(__dirname, "..", "notebooks", "01-first-rnn.ipynb"), join(lessons, "01-first-rnn.ipynb"));
    const out = execFileSync(process.execPath, [cli, "start", "--headless", "--dir", lessons], { encoding: "utf8", env: { ...process.env, JUPYTER_DATA_DIR: join(dir, "jupyter") } });
    assert.match(out, /Registered the archlab kernel in .*jupyter.kernels.archlab/);
    assert.ok(existsSync(join(dir, "jupyter", "kernels", "archlab", "kernel.json")));
    assert.match(readFileSync(join(lessons, "html", "01-first-rnn.html"), "utf8"), /<img src="data:image\/svg\+xml;base64,/);
  });
});
