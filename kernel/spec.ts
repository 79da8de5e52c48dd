/**
 * The kernel spec — what tells Jupyter how to start this kernel — and where it is installed.
 *
 * Locations follow `jupyter kernelspec install`:
 *   --user        the user's data dir: $JUPYTER_DATA_DIR, else ~/.local/share/jupyter
 *                 (~/Library/Jupyter on macOS, %APPDATA%\jupyter on Windows)
 *   --sys-prefix  the Python environment's sys.prefix/share/jupyter ($VIRTUAL_ENV, $CONDA_PREFIX,
 *                 else the prefix of the `jupyter` command on PATH)
 *   --prefix DIR  DIR/share/jupyter
 *   (default)     the system dir: /usr/local/share/jupyter (%PROGRAMDATA%\jupyter on Windows)
 * each followed by kernels/archlab/.
 */
import { copyFileSync, existsSync, mkdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { PACKAGE_ROOT } from "../src/package-root";
import { cliText } from "./messages";

/** The kernel's name: its folder under kernels/ and what notebooks record in their metadata. */
export const KERNEL_NAME = "archlab";

/** The logos Jupyter's launcher shows, shipped in the package's kernel/ folder. */
export const LOGOS = ["logo-32x32.png", "logo-64x64.png", "logo-svg.svg"];

/** Where to install: one of the flags of `archlab install`. */
export interface Location {
  user?: boolean;
  sysPrefix?: boolean;
  prefix?: string;
}

/**
 * The content of kernel.json. `interrupt_mode` is "signal": a synchronous cell (a long loop)
 * blocks Node's event loop, so an `interrupt_request` message could only be read after the cell
 * ends; SIGINT stops it at once (tslab runs cells with `breakOnSigint`). The kernel still answers
 * `interrupt_request` on the control channel, which stops asynchronous cells.
 */
/** How Jupyter starts the kernel: `{connection_file}` is replaced with the connection file's path. */
export const KERNEL_ARGV: readonly string[] = [process.execPath, resolve(PACKAGE_ROOT, "dist", "kernel", "cli.js"), "kernel", "--connection-file", "{connection_file}"];

export function kernelSpec(): Record<string, unknown> {
  return {
    argv: [...KERNEL_ARGV],
    display_name: "TypeScript (archlab)",
    language: "typescript",
    interrupt_mode: "signal",
    env: {},
    metadata: { debugger: false, archlab: { package: PACKAGE_ROOT } },
  };
}

/** The `kernels` folder of a location. */
export function kernelsDir(location: Location, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = [location.user, location.sysPrefix, location.prefix !== undefined].filter(Boolean).length;
  if (chosen > 1) throw new Error(cliText.oneLocation);
  if (location.user) return join(userDataDir(env), "kernels");
  if (location.sysPrefix) return join(sysPrefix(env), "share", "jupyter", "kernels");
  if (location.prefix !== undefined) return join(resolve(location.prefix), "share", "jupyter", "kernels");
  return join(systemDataDir(env), "kernels");
}

/** jupyter_core's `jupyter_data_dir()`. */
export function userDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.JUPYTER_DATA_DIR) return resolve(env.JUPYTER_DATA_DIR);
  if (process.platform === "darwin") return join(homedir(), "Library", "Jupyter");
  if (process.platform === "win32") return join(env.APPDATA ?? join(homedir(), "AppData", "Roaming"), "jupyter");
  return join(env.XDG_DATA_HOME || join(homedir(), ".local", "share"), "jupyter");
}

/** The first of jupyter_core's system data dirs (where `jupyter kernelspec install` writes by default). */
export function systemDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (process.platform === "win32") return join(env.PROGRAMDATA ?? "C:\\ProgramData", "jupyter");
  return "/usr/local/share/jupyter";
}

/** The active Python environment's sys.prefix, found without running Python. */
function sysPrefix(env: NodeJS.ProcessEnv): string {
  const active = env.VIRTUAL_ENV || env.CONDA_PREFIX;
  if (active) return resolve(active);
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    const jupyter = join(dir, process.platform === "win32" ? "jupyter.exe" : "jupyter");
    // bin/jupyter (Scripts\jupyter.exe on Windows) sits in sys.prefix.
    if (dir && existsSync(jupyter)) return dirname(dirname(realpathSync(jupyter)));
  }
  throw new Error(cliText.noSysPrefix);
}

/** Writes kernel.json and the logos into `<kernels dir>/archlab/`; returns that folder. */
export function installSpec(location: Location, env: NodeJS.ProcessEnv = process.env): string {
  const dir = join(kernelsDir(location, env), KERNEL_NAME);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "kernel.json"), JSON.stringify(kernelSpec(), null, 2) + "\n");
    for (const logo of LOGOS) copyFileSync(join(PACKAGE_ROOT, "kernel", logo), join(dir, logo));
  } catch (error) {
    throw new Error(cliText.notWritable(dir, error));
  }
  return dir;
}

/**
 * Removes the archlab spec from `location`, or — with no flag — from every standard location
 * that has one. Returns the folders removed.
 */
export function uninstallSpec(location: Location, env: NodeJS.ProcessEnv = process.env): string[] {
  const explicit = location.user || location.sysPrefix || location.prefix !== undefined;
  const candidates = explicit ? [kernelsDir(location, env)] : standardKernelsDirs(env);
  const found = candidates.map((dir) => join(dir, KERNEL_NAME)).filter((dir) => existsSync(join(dir, "kernel.json")));
  if (found.length === 0) throw new Error(cliText.noneToUninstall(candidates));
  for (const dir of found) rmSync(dir, { recursive: true, force: true });
  return found;
}

/** Where Jupyter looks for kernels: $JUPYTER_PATH entries, the user dir, sys.prefix, the system dir. */
function standardKernelsDirs(env: NodeJS.ProcessEnv): string[] {
  const extra = (env.JUPYTER_PATH ?? "").split(delimiter).filter(Boolean).map((dir) => join(resolve(dir), "kernels"));
  const dirs = [...extra, kernelsDir({ user: true }, env), kernelsDir({}, env)];
  try {
    dirs.splice(dirs.length - 1, 0, kernelsDir({ sysPrefix: true }, env));
  } catch {
    // no Python environment to look in
  }
  return [...new Set(dirs)];
}
