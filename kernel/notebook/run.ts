/**
 * `archlab run NOTEBOOK`: executes a notebook on the archlab kernel (started by our own Node client,
 * so no Python is needed), with a progress bar and a per-cell error report; writes the executed
 * notebook and, if asked, a self-contained HTML page.
 */
import { SingleBar } from "cli-progress";
import { writeFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { KernelClient } from "./client";
import { readNotebook, text, writeNotebook } from "./format";
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
}

/** Runs one notebook. Throws only when the file is not a notebook or the kernel cannot start. */
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
  const client = await KernelClient.start({ cwd: dirname(file) });
  try {
    for (const [index, c] of nb.cells.entries()) {
      if (c.cell_type !== "code") continue;
      if (options.stopOnError && failures.length) {
        c.outputs = [];
        c.execution_count = null;
        continue;
      }
      const r = await client.execute(text(c.source), { stopOnError: false, timeoutSeconds: options.timeout ?? 600 });
      executed++;
      c.outputs = r.outputs;
      c.execution_count = r.executionCount;
      if (r.status !== "ok")
        failures.push({ notebook: file, cell: index + 1, ename: r.error?.ename ?? r.status, evalue: r.error?.evalue ?? "", source: text(c.source) });
      bar.increment();
    }
  } finally {
    bar.stop();
    await client.shutdown();
  }
  nb.metadata.kernelspec = { name: "archlab", display_name: "TypeScript (archlab)", language: "typescript" };
  nb.metadata.language_info ??= { name: "typescript", file_extension: ".ts", mimetype: "text/typescript" };
  if (options.inplace) writeNotebook(file, nb);
  else if (options.output) writeNotebook(resolve(options.output), nb);
  if (options.html) writeFileSync(resolve(options.html), notebookToHtml(nb, basename(file, ".ipynb")));
  return { notebook: file, cells: code.length, executed, failures, seconds: (Date.now() - started) / 1000 };
}

/** The report a person reads: which notebook, which cell, which error. */
export function describeFailures(report: RunReport): string {
  return report.failures
    .map((f) => `${f.notebook}, cell ${f.cell}: ${f.ename}: ${f.evalue}\n    ${f.source.split("\n").slice(0, 3).join("\n    ")}`)
    .join("\n");
}
