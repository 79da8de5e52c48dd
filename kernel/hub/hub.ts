/**
 * `archlab hub`: JupyterHub for a class. Installs the archlab kernel spec into the hub's folder,
 * then runs Debian's (or any) `jupyterhub` there with kernel/hub/jupyterhub_config.py, which
 * serves every user JupyterLab with that kernel and their own copy of the notebooks.
 *
 * The hub's folder holds what JupyterHub keeps between runs (jupyterhub.sqlite, the cookie secret),
 * share/jupyter/kernels/archlab/ (JUPYTER_PATH) and lab-<hash>/ (archlab's JupyterLab), readable by
 * every user's server.
 */
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { PACKAGE_ROOT } from "../../src/package-root";
import { cliText } from "../messages";
import { ensureLab, isBuilt } from "../notebook/lab";
import { installSpec } from "../spec";

/**
 * archlab's JupyterLab where every user's server can read it: what serving needs (server.py,
 * templates/, build/ — not the 400 MB of node_modules that built it) copied from the builder's
 * cache (installed there first if needed) into the hub's folder, once per lab version.
 */
async function sharedLab(home: string): Promise<string> {
  const { dir: built } = await ensureLab({ log: (line) => console.error(line) });
  const shared = join(home, basename(built));
  if (isBuilt(shared)) return shared;
  const partial = `${shared}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  for (const part of ["server.py", "templates", "build"]) cpSync(join(built, part), join(partial, part), { recursive: true });
  renameSync(partial, shared);
  return shared;
}

/** The JupyterHub configuration `archlab hub` runs with. */
export const HUB_CONFIG = join(PACKAGE_ROOT, "kernel", "hub", "jupyterhub_config.py");

export interface HubOptions {
  /** The hub's folder (database, cookie secret, kernel spec). */
  dir: string;
  /** The notebooks every user gets a copy of. */
  notebooks: string;
}

/** Runs JupyterHub until it exits (Ctrl-C or SIGTERM stop it, and it stops the users' servers); resolves to its exit code. */
export async function runHub({ dir, notebooks }: HubOptions, jupyterhubArgs: string[]): Promise<number> {
  const home = resolve(dir);
  mkdirSync(home, { recursive: true, mode: 0o755 });
  const jupyterPath = join(home, "share", "jupyter");
  console.log(cliText.installed(installSpec({ prefix: home })));
  const lab = await sharedLab(home);
  const env = { ...process.env, ARCHLAB_HUB_JUPYTER_PATH: jupyterPath, ARCHLAB_HUB_NOTEBOOKS: resolve(notebooks), ARCHLAB_HUB_LAB: lab };
  const child = spawn("jupyterhub", ["-f", HUB_CONFIG, ...jupyterhubArgs], { cwd: home, env, stdio: "inherit" });
  // The hub stops the users' servers and its proxy on SIGTERM/SIGINT: pass them on, then wait for it.
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on("SIGINT", forward).on("SIGTERM", forward);
  try {
    return await new Promise<number>((done, fail) => {
      child.once("error", (error: NodeJS.ErrnoException) => fail(new Error(error.code === "ENOENT" ? cliText.noJupyterhub : String(error))));
      child.once("exit", (code, signal) => done(code ?? (signal ? 1 : 0)));
    });
  } finally {
    process.off("SIGINT", forward).off("SIGTERM", forward);
  }
}
