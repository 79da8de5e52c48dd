/**
 * `archlab run NOTEBOOK`: executes a notebook on the archlab kernel (started by our own Node client,
 * so no Python is needed), with a progress bar and a per-cell error report; writes the executed
 * notebook and, if asked, a self-contained HTML page.
 *
 * A cell that runs out of time or a kernel that dies stops the run, but loses nothing: the cells
 * that ran keep their outputs, the stopping cell gets an error output saying what happened, and the
 * notebook is written as usual, marked partial in its metadata (`metadata.archlab.partial`).
 */
import { SingleBar } from "cli-progress";
import { basename, dirname, resolve } from "node:path";
import { runText } from "../messages";
import { KernelClient } from "./client";
import { NotebookError, readNotebook, text, writeAtomically, writeNotebook, type Notebook } from "./format";
import { notebookToHtml } from "./html";

export interface RunNotebookOptions {
  /** Write a self-contained HTML page here. */
  html?: string;
  /** Write the executed notebook here (default: nowhere; `inplace` writes it back). */
  output?: string;
  inplace?: boolean;
  /** Stop at the first failing cell (default: run every cell, like `--allow-errors`). */
  stopOnError?: boolean;
  /** Seconds a single cell may take (default 600). */
  timeout?: number;
  /** Show a progress bar on stderr (default: when stderr is a terminal). */
  progress?: boolean;
}

/** A failed cell, as the report names it. */
export interface CellFailure {
  notebook: string;
  /** 1-based index among all cells, as JupyterLab counts. */
  cell: number;
  ename: string;
  evalue: string;
  source: string;
}

export interface RunReport {
  notebook: string;
  cells: number;
  executed: number;
  failures: CellFailure[];
  seconds: number;
  /** Set when a cell ran out of time or the kernel died: the run stopped there (the message names notebook and cell). */
  stopped?: { cell: number; message: string };
}

/** What `metadata.archlab.partial` holds in a notebook whose run stopped early. */
export interface PartialRun {
  /** The cell the run stopped at (1-based among all cells). */
  cell: number;
  reason: string;
}

/**
 * Runs one notebook. Throws only when the file is not a notebook, the kernel cannot start, or the
 * result cannot be written (a {@link NotebookError} naming the file, which is then left as it was).
 */
export async function runNotebook(path: string, options: RunNotebookOptions = {}): Promise<RunReport> {
  const file = resolve(path);
  const nb = readNotebook(file);
  const started = Date.now();
  const code = nb.cells.filter((c) => c.cell_type === "code");
  const bar = new SingleBar({
    format: `${basename(file)} [{bar}] {value}/{total} cells`,
    stream: process.stderr,
    noTTYOutput: false,
    hideCursor: true,
  });
  if (options.progress ?? process.stderr.isTTY) bar.start(code.length, 0);
  const failures: CellFailure[] = [];
  let executed = 0;
  let stopped: RunReport["stopped"];
  const client = await KernelClient.start({ cwd: dirname(file) });
  try {
    for (const [index, c] of nb.cells.entries()) {
      if (c.cell_type !== "code") continue;
      if (stopped || (options.stopOnError && failures.length)) {
        c.outputs = [];
        c.execution_count = null;
        continue;
      }
      const r = await client.execute(text(c.source), { stopOnError: false, timeoutSeconds: options.timeout ?? 600 });
      executed++;
      c.outputs = r.outputs;
      c.execution_count = r.executionCount;
      if (r.status === "timeout" || r.status === "died") {
        const ename = runText.stoppedEname[r.status];
        const evalue = runText.stoppedHere(r.reason ?? r.status);
        const message = `${runText.stoppedAt(file, index + 1, firstLine(text(c.source)))}: ${ename}: ${evalue}`;
        c.outputs.push({ output_type: "error", ename, evalue, traceback: [message] });
        stopped = { cell: index + 1, message };
        failures.push({ notebook: file, cell: index + 1, ename, evalue, source: text(c.source) });
      } else if (r.status !== "ok")
        failures.push({ notebook: file, cell: index + 1, ename: r.error?.ename ?? r.status, evalue: r.error?.evalue ?? "", source: text(c.source) });
      bar.increment();
    }
    // Display updates and outputs that the last cells set off still arrive after their idle.
    if (!stopped) await client.settle();
  } finally {
    bar.stop();
    await client.shutdown();
  }
  nb.metadata.kernelspec = { name: "archlab", display_name: "TypeScript (archlab)", language: "typescript" };
  nb.metadata.language_info ??= { name: "typescript", file_extension: ".ts", mimetype: "text/typescript" };
  markPartial(nb, stopped && { cell: stopped.cell, reason: stopped.message });
  const out = options.inplace ? file : options.output && resolve(options.output);
  if (out) saving(out, (path) => writeNotebook(path, nb));
  if (options.html) saving(resolve(options.html), (path) => writeAtomically(path, notebookToHtml(nb, basename(file, ".ipynb"))));
  return { notebook: file, cells: code.length, executed, failures, seconds: (Date.now() - started) / 1000, ...(stopped ? { stopped } : {}) };
}

/** Writes `path` (atomically), turning a failure into an error that names the file and says it is unchanged. */
function saving(path: string, write: (path: string) => void): void {
  try {
    write(path);
  } catch (error) {
    throw new NotebookError(runText.notSaved(path, error));
  }
}

/** The first non-blank line of a cell's source, shortened, to name the cell in a message. */
function firstLine(source: string): string {
  const line = source.split("\n").find((l) => l.trim()) ?? "";
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}

/** Sets (or, after a complete run, removes) `metadata.archlab.partial`. */
function markPartial(nb: Notebook, partial: PartialRun | undefined): void {
  const { partial: _, ...rest } = nb.metadata.archlab ?? {};
  const archlab = partial ? { ...rest, partial } : rest;
  if (Object.keys(archlab).length) nb.metadata.archlab = archlab;
  else delete nb.metadata.archlab;
}

/** The report a person reads: which notebook, which cell, which error (and where the run stopped). */
export function describeFailures(report: RunReport): string {
  return report.failures
    .filter((f) => f.cell !== report.stopped?.cell)
    .map((f) => `${f.notebook}, cell ${f.cell}: ${f.ename}: ${f.evalue}\n    ${f.source.split("\n").slice(0, 3).join("\n    ")}`)
    .concat(report.stopped ? [report.stopped.message] : [])
    .join("\n");
}
