/**
 * archlab's own JupyterLab, for machines without `jupyter lab` (Debian 12 ships none): the
 * kernel/lab package — JupyterLab 4.6.3's npm packages, an esbuild build of them and a
 * jupyterlab_server app (server.py) — copied into a cache folder named by a hash of its files,
 * installed with `npm ci` and built there on first use, and reused as it is afterwards. The
 * system's jupyter-server and jupyterlab-server (Debian's python3-jupyter-server and
 * python3-jupyterlab-server) serve it.
 *
 * @example
 *   const { dir } = await ensureLab();   // ~/.cache/archlab/lab-<hash>: at once when built before
 *   spawn(python, [join(dir, "server.py"), "--ServerApp.port=8888", …]);
 */
import { SingleBar } from "cli-progress";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, relative } from "node:path";
import { PACKAGE_ROOT } from "../../src/package-root";
import { startText } from "../messages";

/** The JupyterLab package inside archlab: what is copied, hashed, installed and built. */
export const LAB_SOURCE = join(PACKAGE_ROOT, "kernel", "lab");

/** Folders of the package that an install or a build writes, not sources. */
const OUTPUTS = new Set(["node_modules", "build", "__pycache__"]);

/**
 * npm's flags for the install: exactly the lockfile, quietly (the progress bar is ours). The
 * JupyterLab 4.6.3 family's peer-dependency ranges need --legacy-peer-deps, which kernel/lab/.npmrc
 * also says for people working in the folder (npm does not publish .npmrc files).
 */
const NPM_CI = ["ci", "--no-audit", "--no-fund", "--legacy-peer-deps", "--loglevel=error", "--progress=false"];

function sourceFiles(dir = LAB_SOURCE): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (OUTPUTS.has(entry.name) ? [] : entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : [join(dir, entry.name)]))
    .sort();
}

/**
 * Where the lab is installed: `$XDG_CACHE_HOME/archlab/lab-<hash>` (`~/.cache/archlab/…` by
 * default). The hash covers every source file, the lockfile included, so a changed archlab gets a
 * fresh build and an unchanged one finds its build again.
 */
export function labDir(env: NodeJS.ProcessEnv = process.env): string {
  const hash = createHash("sha256");
  for (const file of sourceFiles()) hash.update(relative(LAB_SOURCE, file)).update("\0").update(readFileSync(file)).update("\0");
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "archlab", `lab-${hash.digest("hex").slice(0, 16)}`);
}

/** True when `dir` holds a finished lab: a folder gets its final name only once it is installed and built. */
export const isBuilt = (dir: string) => existsSync(join(dir, "build", "static", "bundle.js"));

/**
 * The lab's folder, installed and built: at once when the cache has it. Otherwise installs it
 * (`npm ci`, with a progress bar) and builds it in a sibling `…partial-<pid>` folder and renames that
 * into place, so an interrupted first start leaves no half-built lab that a later start would use.
 */
export async function ensureLab({ env = process.env, log = console.log } = {}): Promise<{ dir: string; installed: boolean }> {
  const dir = labDir(env);
  if (isBuilt(dir)) return { dir, installed: false };
  const started = Date.now();
  mkdirSync(dirname(dir), { recursive: true });
  removeAbandoned(dirname(dir));
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  try {
    for (const file of sourceFiles()) cpSync(file, join(partial, relative(LAB_SOURCE, file)));
    const packages = lockedPackages(partial);
    log(startText.labInstalling(packages.length, dir));
    await npm(NPM_CI, partial, env, packages);
    log(startText.labBuilding);
    await npm(["run", "build", "--silent"], partial, env);
    try {
      renameSync(partial, dir);
    } catch (error) {
      if (!isBuilt(dir)) throw error;
      rmSync(partial, { recursive: true, force: true }); // another start finished the same lab first
    }
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  }
  log(startText.labInstalled((Date.now() - started) / 1000, diskUse(dir), dir));
  return { dir, installed: true };
}

/** Removes `…partial-<pid>` folders whose process is gone (a first start that was interrupted). */
function removeAbandoned(cache: string): void {
  for (const name of readdirSync(cache)) {
    const pid = /^lab-[0-9a-f]+\.partial-(\d+)$/.exec(name)?.[1];
    if (pid && !isRunning(Number(pid))) rmSync(join(cache, name), { recursive: true, force: true });
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The folders `npm ci` creates, from the lockfile: one per package this platform installs. */
function lockedPackages(dir: string): string[] {
  type Locked = { link?: boolean; os?: string[]; cpu?: string[] };
  const { packages } = JSON.parse(readFileSync(join(dir, "package-lock.json"), "utf8")) as { packages: Record<string, Locked> };
  const fits = (allowed: string[] | undefined, value: string) =>
    !allowed || allowed.includes(value) || (allowed.every((a) => a.startsWith("!")) && !allowed.includes(`!${value}`));
  return Object.entries(packages)
    .filter(([path, p]) => path.startsWith("node_modules/") && !p.link && fits(p.os, process.platform) && fits(p.cpu, process.arch))
    .map(([path]) => join(dir, path));
}

/**
 * Runs npm in `cwd`. With `packages`, a progress bar counts those that have arrived in
 * node_modules (npm's own progress output says nothing about how far along it is).
 */
async function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv, packages?: string[]): Promise<void> {
  const child = spawn("npm", args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const bar = packages && new SingleBar({ format: "JupyterLab packages [{bar}] {value}/{total} | {duration_formatted}", stream: process.stderr, noTTYOutput: true, notTTYSchedule: 10_000, hideCursor: true });
  let waiting = packages ?? [];
  bar?.start(waiting.length, 0);
  const poll = setInterval(() => {
    waiting = waiting.filter((path) => !existsSync(join(path, "package.json")));
    bar?.update(packages!.length - waiting.length);
  }, 500);
  const status = await ended(child);
  clearInterval(poll);
  if (status === 0) bar?.update(packages!.length);
  bar?.stop();
  if (status === "ENOENT") throw new Error(startText.noNpm);
  if (status !== 0) throw new Error(startText.labFailed(`npm ${args[0]} ${args[0] === "run" ? args[1] : ""}`.trim(), String(status), output));
}

/** How a child process ended: its exit code, else the signal that ended it, else why it could not start (e.g. ENOENT). */
export function ended(child: ChildProcess): Promise<number | string> {
  return new Promise((done) => {
    child.on("error", (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
    child.on("exit", (code, signal) => done(code ?? signal ?? "?"));
  });
}

/** Disk use of `dir` in MB as `du` counts it, or undefined where there is no du. */
function diskUse(dir: string): number | undefined {
  const du = spawnSync("du", ["-sm", dir], { encoding: "utf8" });
  return du.status === 0 ? Number(du.stdout.split(/\s/)[0]) : undefined;
}
