/**
 * `npm start` / `archlab start`: the main job. Registers the kernel for this user, marks archlab's
 * own notebooks trusted, and serves the teaching notebooks in JupyterLab 4:
 *
 *   `jupyter lab` when it is installed;
 *   otherwise archlab's own JupyterLab build (./lab.ts: installed into a cache on the first start)
 *     on the system's jupyter-server and jupyterlab-server — Debian's packages;
 *   the classic Notebook only with `--classic`;
 *   without any Jupyter server (or with `--headless`), the notebooks run headlessly into HTML.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync } from "node:fs";
import { createServer } from "node:net";
import { basename, join, resolve } from "node:path";
import { PACKAGE_ROOT } from "../../src/package-root";
import { startText } from "../messages";
import { installSpec } from "../spec";
import { ended, ensureLab } from "./lab";
import { describeFailures, runNotebook } from "./run";

/** The notebooks folder of this package. */
export const NOTEBOOKS = join(PACKAGE_ROOT, "notebooks");

const has = (command: string) => spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;

export interface StartOptions {
  /** Run headlessly to HTML even when Jupyter is installed. */
  headless?: boolean;
  /** The classic Notebook instead of JupyterLab. */
  classic?: boolean;
  /** Folder of notebooks (default: this package's notebooks/). */
  dir?: string;
  /** Port on 127.0.0.1 (default: the first free one from 8888). */
  port?: number;
  /** Open a browser (default: true; the URL is printed either way). */
  browser?: boolean;
}

/** A Jupyter server to run: its command line for a port, a folder and whether to open a browser. */
interface Server {
  name: "JupyterLab" | "the classic Jupyter Notebook";
  command: string;
  args: string[];
  /** The page to open, e.g. /lab. */
  page: string;
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

export async function start({ headless = false, classic = false, dir = NOTEBOOKS, port, browser = true }: StartOptions = {}): Promise<void> {
  const started = Date.now();
  console.log(startText.registered(installSpec({ user: true })));
  const where = { dir: resolve(dir), port: port ?? (await freePort(8888)), browser };
  const server = headless ? undefined : classic ? classicNotebook(where) : await jupyterLab(where);
  if (!server) {
    console.log(headless ? startText.headless : startText.noJupyter);
    const failed = await runAllHeadless(dir);
    if (!headless) console.log("\n" + startText.getJupyter);
    if (failed) console.log(startText.failedCells(failed));
    if (failed) process.exitCode = 1;
    return;
  }
  console.log(startText.opening(server.name, where.dir));
  if (classic) console.log(startText.classicNote);
  await serve(server, where.port, started, trustOwnNotebooks());
}

type Where = { dir: string; port: number; browser: boolean };

/**
 * `jupyter lab` when installed, else archlab's own build on the Python that has jupyter-server and
 * jupyterlab-server; undefined when there is neither. Both take the same jupyter_server options
 * (1.x and 2.x alike).
 */
async function jupyterLab(where: Where): Promise<Server | undefined> {
  const args = serverArgs("ServerApp", where);
  if (has("jupyter-lab")) return { name: "JupyterLab", command: "jupyter-lab", args, page: "/lab" };
  const python = pythonWith(["jupyter_server", "jupyterlab_server"]);
  if (!python) return undefined;
  const lab = await ensureLab();
  return { name: "JupyterLab", command: python, args: [join(lab.dir, "server.py"), ...args], page: "/lab" };
}

function classicNotebook(where: Where): Server {
  if (!has("jupyter-notebook")) throw new Error(startText.noClassic);
  return { name: "the classic Jupyter Notebook", command: "jupyter-notebook", args: serverArgs("NotebookApp", where), page: "/tree" };
}

/**
 * Options of jupyter_server's ServerApp (1.x and 2.x alike) or the classic Notebook's NotebookApp:
 * the port (exactly it), 127.0.0.1, the folder, whether to open a browser. Jupyter refuses to start
 * as root unless told to (containers and CI machines run as root).
 */
function serverArgs(app: "ServerApp" | "NotebookApp", { dir, port, browser }: Where): string[] {
  return [
    `--${app}.port=${port}`,
    `--${app}.port_retries=0`,
    `--${app}.ip=127.0.0.1`,
    `--${app}.${app === "ServerApp" ? "root_dir" : "notebook_dir"}=${dir}`,
    `--${app}.open_browser=${browser ? "True" : "False"}`,
    ...(process.getuid?.() === 0 ? [`--${app}.allow_root=True`] : []),
  ];
}

/**
 * The first Python ($ARCHLAB_PYTHON, python3 on PATH, Debian's /usr/bin/python3) that has
 * `modules` (found, not imported: importing jupyter_server takes seconds on a busy machine).
 */
function pythonWith(modules: string[]): string | undefined {
  const candidates = [process.env.ARCHLAB_PYTHON, "python3", "/usr/bin/python3"].filter((p): p is string => !!p);
  const check = "import sys, importlib.util as u; sys.exit(0 if all(u.find_spec(m) for m in sys.argv[1:]) else 1)";
  return candidates.find((python) => spawnSync(python, ["-c", check, ...modules], { stdio: "ignore" }).status === 0);
}

/**
 * Signs the notebooks in archlab's own notebooks/ folder (as shipped, or as the user saved them)
 * in this user's Jupyter signature database (nbformat's notary, in the Jupyter data dir, which
 * every Jupyter server of this user reads), so they open trusted. A signature is of the notebook's
 * content, read as the server reads it, so an identical copy elsewhere is trusted too. Other
 * notebooks (--dir) are left to the user, as Jupyter intends: trusted once run or saved in Jupyter.
 */
async function trustOwnNotebooks(): Promise<void> {
  const python = pythonWith(["nbformat"]);
  if (!python) return console.log(startText.notTrusted("no Python with nbformat"));
  const files = readdirSync(NOTEBOOKS).filter((f) => f.endsWith(".ipynb")).map((f) => join(NOTEBOOKS, f));
  const sign = [
    "import sys, nbformat",
    "from nbformat.sign import NotebookNotary",
    "notary = NotebookNotary()",
    "for path in sys.argv[1:]: notary.sign(nbformat.read(path, as_version=4))",
  ].join("\n");
  const child = spawn(python, ["-c", sign, ...files], { stdio: ["ignore", "ignore", "pipe"] });
  let errors = "";
  child.stderr.on("data", (chunk) => (errors += chunk));
  const status = await ended(child);
  if (status !== 0) console.log(startText.notTrusted(errors.trim() || String(status)));
}

/** The first port from `from` that 127.0.0.1 can listen on. */
async function freePort(from: number): Promise<number> {
  for (let port = from; ; port++) {
    const free = await new Promise<boolean>((done) => {
      const probe = createServer()
        .once("error", () => done(false))
        .listen(port, "127.0.0.1", () => probe.close(() => done(true)));
    });
    if (free) return port;
  }
}

/**
 * Runs the server with a fresh token until it ends, and prints its tokened URL once it answers
 * and `ready` (the notebooks' signing, which runs meanwhile) has finished. A
 * Ctrl-C in the terminal reaches the server too, which asks whether to shut down: this process
 * waits for it; a SIGTERM or SIGHUP sent to this process is passed on.
 */
async function serve(server: Server, port: number, started: number, ready: Promise<void>): Promise<void> {
  const token = randomBytes(24).toString("hex");
  const child = spawn(server.command, server.args, { stdio: "inherit", env: { ...process.env, JUPYTER_TOKEN: token } });
  const exited = ended(child);
  process.on("SIGINT", () => undefined);
  for (const signal of ["SIGTERM", "SIGHUP"] as const) process.on(signal, () => child.kill(signal));
  const base = `http://127.0.0.1:${port}`;
  let status: number | string | undefined;
  void exited.then((s) => (status = s));
  while (status === undefined && !(await answers(`${base}/api/status?token=${token}`))) await new Promise((done) => setTimeout(done, 250));
  if (status !== undefined) throw new Error(startText.serverEnded(server.name, typeof status === "number" ? `exit status ${status}` : status));
  await ready;
  console.log(startText.ready(server.name, `${base}${server.page}?token=${token}`, (Date.now() - started) / 1000));
  if (![0, "SIGTERM", "SIGHUP"].includes(await exited)) process.exitCode = 1;
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false;
  }
}
