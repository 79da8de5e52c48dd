/**
 * `archlab run`: executes notebooks on the archlab kernel through our own Node Jupyter client (no
 * Python), reports failing cells by notebook and cell, writes executed notebooks and HTML.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { cliText, runText } from "../kernel/messages";
import { NotebookError, readNotebook } from "../kernel/notebook/format";
import { runNotebook } from "../kernel/notebook/run";
import { python, requireTools, sandbox } from "./kernel/harness";

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
const cli = join(__dirname, "..", "dist", "kernel", "cli.js");
/** Checks a written notebook against the nbformat schema with Jupyter's own validator (its warnings, such as a missing cell id, fail too). */
const validate = (path: string) =>
  execFileSync("/usr/bin/python3", ["-W", "error", "-c", "import sys, nbformat; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))", path], { encoding: "utf8" });
/** The one error output of a cell (a stopped run puts it last). */
const errorOf = (cell: { outputs?: Record<string, unknown>[] }) => cell.outputs!.find((o) => o.output_type === "error") as Record<string, any>;

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

  it("a display update sent after the cell's idle still reaches the saved notebook (the runner waits for it)", async () => {
    const path = write("late-update.ipynb", notebook([
      ["code", "await display({ [Symbol.for('Jupyter.display')]: () => ({ 'text/plain': 'first' }) }, { id: 'late' });"],
      ["code", "setTimeout(() => display({ [Symbol.for('Jupyter.display')]: () => ({ 'text/plain': 'last' }) }, { id: 'late', update: true }), 400);\n'scheduled'"],
    ]));
    await runNotebook(path, { inplace: true });
    const [first] = readNotebook(path).cells;
    assert.deepEqual(first.outputs!.map((o: any) => o.data["text/plain"]), ["last"]);
  });

  it("a saved stepper view is the kernel's last update for its display id, as jupyter_client receives it", async () => {
    requireTools(["jupyter_client"]);
    // seek(3): a step the view has not prepared ahead (it prefetches the next ones), so its frame
    // renders after the cell's idle, as notebook 02's `steps.seek(3)` did.
    const cells = [
      "const s = cell(LSTM, { inputSize: 2, hiddenSize: 3, seed: 1 }).stepper([[1, 0], [0, 1], [1, 1], [0, 0]]);\nawait view(s).show();",
      "s.step(); s.seek(3);\ns.t",
    ];
    const path = write("stepper.ipynb", notebook(cells.map((c) => ["code", c])));
    await runNotebook(path, { inplace: true });
    const saved = readNotebook(path).cells[0].outputs as { output_type: string; data: Record<string, string> }[];
    assert.equal(saved.length, 1);
    // The reference: the same cells through Jupyter's own client, collecting every IOPub message —
    // also those that come after a cell's idle — until the kernel has been quiet for 5 s.
    const box = sandbox();
    const script = `
import json, sys, queue
from jupyter_client.manager import start_new_kernel
km, kc = start_new_kernel(kernel_name="archlab")
displays, updates = {}, {}
for code in json.loads(sys.argv[1]):
    msg_id = kc.execute(code)
    kc.get_shell_msg(timeout=600)
    while True:
        m = kc.get_iopub_msg(timeout=600)
        c = m["content"]
        if m["msg_type"] == "display_data": displays[c["transient"]["display_id"]] = c["data"]
        if m["msg_type"] == "update_display_data": updates[c["transient"]["display_id"]] = c["data"]
        if m["msg_type"] == "status" and c["execution_state"] == "idle" and m["parent_header"].get("msg_id") == msg_id: break
while True:
    try: m = kc.get_iopub_msg(timeout=5)
    except queue.Empty: break
    if m["msg_type"] == "update_display_data": updates[m["content"]["transient"]["display_id"]] = m["content"]["data"]
kc.stop_channels(); km.shutdown_kernel(now=True)
with open(sys.argv[2], "w") as f: json.dump({"displays": displays, "updates": updates}, f)
`;
    const seen = join(box.workDir, "seen.json");
    python(["-c", script, JSON.stringify(cells), seen], { cwd: box.workDir, env: box.env });
    const reference = JSON.parse(readFileSync(seen, "utf8"));
    const [id] = Object.keys(reference.displays);
    assert.ok(reference.updates[id], "the kernel updated the view");
    assert.match(reference.updates[id]["text/plain"], /step t = 3 of 0…3/);
    assert.deepEqual(saved[0].data, reference.updates[id]);
  });

  it("a cell that runs out of time stops the run, names notebook, cell and first line, and saves what ran marked partial", async () => {
    const path = write("timeout.ipynb", notebook([
      ["code", "console.log('kept'); 1 + 1"],
      ["markdown", "A cell that never ends:"],
      ["code", "console.log('started');\nawait new Promise(() => {});"],
      ["code", "'never run'"],
    ]));
    const out = join(dir, "timeout.out.ipynb");
    const html = join(dir, "timeout.html");
    const report = await runNotebook(path, { output: out, html, timeout: 15 });
    assert.equal(report.stopped?.cell, 3);
    assert.equal(report.executed, 2);
    assert.ok(report.stopped!.message.startsWith(`${runText.stoppedAt(path, 3, "console.log('started');")}: CellTimeoutError: `), report.stopped!.message);
    assert.ok(report.stopped!.message.includes(runText.stoppedHere(runText.timedOut(15))));
    validate(out);
    const saved = readNotebook(out);
    const [kept, , stopped, never] = saved.cells;
    assert.equal(kept.execution_count, 1);
    assert.equal((kept.outputs![0] as any).text, "kept\n");
    assert.equal((stopped.outputs![0] as any).text, "started\n", "what the stopping cell printed is kept");
    assert.equal(errorOf(stopped).ename, "CellTimeoutError");
    assert.deepEqual([never.outputs, never.execution_count], [[], null]);
    assert.deepEqual(saved.metadata.archlab.partial, { cell: 3, reason: report.stopped!.message });
    assert.match(readFileSync(html, "utf8"), /kept[\s\S]*CellTimeoutError/);
  });

  it("a kernel that dies stops the run, says how it ended, and keeps the outputs of the cells before", async () => {
    const path = write("dies.ipynb", notebook([["code", "'still here'"], ["code", "process.kill(process.pid, 'SIGKILL');"], ["code", "'never run'"]]));
    const report = await runNotebook(path, { inplace: true });
    assert.equal(report.stopped?.cell, 2);
    assert.match(report.stopped!.message, /cell 2 \(process\.kill\(process\.pid, 'SIGKILL'\);\): DeadKernelError: the run stopped here: the kernel ended \(signal SIGKILL\)/);
    validate(path);
    const [first, died, never] = readNotebook(path).cells;
    assert.equal((first.outputs![0] as any).data["text/plain"], "'still here'");
    assert.equal(errorOf(died).ename, "DeadKernelError");
    assert.equal(never.execution_count, null);
    assert.equal(readNotebook(path).metadata.archlab.partial.cell, 2);
  });

  it("a complete run removes an earlier run's partial mark", async () => {
    const nb = { ...notebook([["code", "1"]]), metadata: { archlab: { partial: { cell: 1, reason: "earlier" } } } };
    const path = write("complete.ipynb", nb);
    await runNotebook(path, { inplace: true });
    assert.equal(readNotebook(path).metadata.archlab, undefined);
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

  it("the CLI rejects a --timeout that is not a positive number before running anything", () => {
    const path = write("timeout-option.ipynb", notebook([["code", "1"]]));
    for (const bad of ["abc", "0", "-5", ""]) {
      const run = spawnSync(process.execPath, [cli, "run", path, "--timeout", bad], { encoding: "utf8" });
      assert.notEqual(run.status, 0);
      assert.equal(run.stderr.trim(), `error: option '--timeout <seconds>' argument '${bad}' is invalid. ${cliText.notPositive(bad)}`);
    }
  });

  it("the CLI runs a long notebook without leaking a listener per cell (no MaxListenersExceededWarning)", () => {
    const path = write("long.ipynb", notebook(Array.from({ length: 14 }, (_, i) => ["code", `${i} * 2`])));
    const run = spawnSync(process.execPath, [cli, "run", path], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /long\.ipynb: 14 cells/);
    assert.doesNotMatch(run.stderr, /MaxListenersExceededWarning|Warning/);
  });

  it("--inplace never leaves a truncated notebook: a write that fails leaves the file as it was", () => {
    // The executed notebook (~300 kB of output) is larger than the file size limit (100 kB) of the run.
    const path = write("atomic.ipynb", notebook([["code", "console.log('x'.repeat(300_000))"]]));
    const before = readFileSync(path);
    const run = spawnSync("bash", ["-c", 'ulimit -f 100 && exec "$0" "$@"', process.execPath, cli, "run", "--inplace", path], { encoding: "utf8" });
    assert.notEqual(run.status, 0);
    assert.ok(run.stderr.includes(`Could not write ${path}: EFBIG`), run.stderr);
    assert.deepEqual(readFileSync(path), before);
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes("atomic.ipynb") && f !== "atomic.ipynb"), [], "no temporary file is left");
    // Without the limit the same run writes the whole notebook.
    execFileSync(process.execPath, [cli, "run", "--inplace", path]);
    validate(path);
    assert.equal((readNotebook(path).cells[0].outputs![0] as any).text, "x".repeat(300_000) + "\n");
  });

  it("the CLI: `archlab run` exits 1 naming the failed cell; `archlab start --headless` writes HTML for every notebook", () => {
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
