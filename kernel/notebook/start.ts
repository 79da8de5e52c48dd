/**
 * `npm start` / `archlab start`: the main job. Registers the kernel for this user, then opens the
 * teaching notebooks in JupyterLab (or classic Notebook) when Jupyter is installed; otherwise runs
 * them headlessly into self-contained HTML and says how to get JupyterLab.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { PACKAGE_ROOT } from "../../src/package-root";
import { installSpec } from "../spec";
import { describeFailures, runNotebook } from "./run";

/** The notebooks folder of this package. */
export const NOTEBOOKS = join(PACKAGE_ROOT, "notebooks");

const has = (command: string) => spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;

export interface StartOptions {
  /** Run headlessly to HTML even when Jupyter is installed. */
  headless?: boolean;
  /** Folder of notebooks (default: this package's notebooks/). */
  dir?: string;
}

/** Runs every notebook of `dir` to `dir/html/`; resolves to the number of failed cells. */
export async function runAllHeadless(dir: string): Promise<number> {
  const out = join(dir, "html");
  mkdirSync(out, { recursive: true });
  let failed = 0;
  for (const name of readdirSync(dir).filter((f) => f.endsWith(".ipynb")).sort()) {
    const html = join(out, basename(name, ".ipynb") + ".html");
    const report = await runNotebook(join(dir, name), { html, progress: true });
    failed += report.failures.length;
    console.log(`${report.failures.length ? "✗" : "✓"} ${name}: ${report.executed} cells in ${report.seconds.toFixed(1)} s → ${html}`);
    if (report.failures.length) console.log(describeFailures(report));
  }
  return failed;
}

export async function start({ headless = false, dir = NOTEBOOKS }: StartOptions = {}): Promise<void> {
  const spec = installSpec({ user: true });
  console.log(`Registered the archlab kernel in ${spec}.`);
  const lab = !headless && has("jupyter-lab");
  const classic = !headless && !lab && has("jupyter-notebook");
  if (lab || classic) {
    console.log(`Opening ${dir} in ${lab ? "JupyterLab" : "Jupyter Notebook"}. Choose the kernel "TypeScript (archlab)" if asked.`);
    if (classic) console.log("Charts are interactive in JupyterLab (`pip install jupyterlab`); classic Notebook shows their static images.");
    // Jupyter refuses to start as root unless told to (containers and CI machines run as root).
    const asRoot = process.getuid?.() === 0 ? ["--allow-root"] : [];
    const child = spawn(lab ? "jupyter-lab" : "jupyter-notebook", [...asRoot, dir], { stdio: "inherit" });
    await new Promise<void>((done) => child.on("exit", () => done()));
    return;
  }
  console.log(headless ? "Running the notebooks headlessly and writing HTML." : "Jupyter is not installed: running the notebooks headlessly and writing HTML.");
  const failed = await runAllHeadless(dir);
  console.log(
    (headless ? "" : "\nTo use the notebooks interactively, install JupyterLab (`pip install jupyterlab`, or your system's packages), then run `npm start` again.") +
      (failed ? `\n${failed} cell(s) failed: see above.` : ""),
  );
  if (failed) process.exitCode = 1;
}
