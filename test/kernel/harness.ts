/**
 * Shared setup of the kernel tests: the built package, Debian's Jupyter (via /usr/bin/python3),
 * a kernel installed into a fresh temporary JUPYTER_DATA_DIR, and a work folder outside the project.
 * A missing tool fails the test with what to install — never a skip.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** The repository root (the package under test). */
export const ROOT = resolve(__dirname, "..", "..");
/** The built CLI: `npm test` builds first. */
export const CLI = join(ROOT, "dist", "kernel", "cli.js");
/** Debian's Python, which has Jupyter's modules (the python3 first on PATH may not). */
export const PYTHON = "/usr/bin/python3";

const DEBIAN_PACKAGES: Record<string, string> = {
  jupyter_client: "jupyter-client (python3-jupyter-client)",
  nbclient: "python3-nbclient",
  nbconvert: "jupyter-nbconvert (python3-nbconvert)",
  nbformat: "python3-nbformat",
  zmq: "python3-zmq",
};

/** Fails with a clear message unless the build and the Python modules are there. */
export function requireTools(modules: string[]): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm run build).`);
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: apt-get install python3 ${modules.map((m) => DEBIAN_PACKAGES[m]).join(" ")}`);
  for (const module of modules) {
    const probe = spawnSync(PYTHON, ["-c", `import ${module}`], { encoding: "utf8" });
    if (probe.status !== 0) throw new Error(`Python module ${module} is missing: apt-get install ${DEBIAN_PACKAGES[module] ?? module}\n${probe.stderr}`);
  }
}

/** A temporary Jupyter setup: data dir with the kernel installed, a work folder outside the project. */
export interface Sandbox {
  root: string;
  dataDir: string;
  workDir: string;
  env: NodeJS.ProcessEnv;
}

/** Installs the built kernel with `archlab install --user` into a fresh JUPYTER_DATA_DIR. */
export function sandbox(): Sandbox {
  const root = mkdtempSync(join(tmpdir(), "archlab-kernel-"));
  const dataDir = join(root, "jupyter-data");
  const workDir = join(root, "notebooks");
  mkdirSync(workDir);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_DATA_DIR: dataDir,
    JUPYTER_CONFIG_DIR: join(root, "jupyter-config"),
    JUPYTER_RUNTIME_DIR: join(root, "jupyter-runtime"),
    JUPYTER_PATH: "",
    PYDEVD_DISABLE_FILE_VALIDATION: "1",
  };
  execFileSync(process.execPath, [CLI, "install", "--user"], { env, encoding: "utf8" });
  return { root, dataDir, workDir, env };
}

/** Runs Debian's Python; throws with its output when it fails. */
export function python(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): string {
  const run = spawnSync(PYTHON, ["-Xfrozen_modules=off", ...args], {
    cwd: options.cwd,
    env: options.env,
    encoding: "utf8",
    timeout: options.timeoutMs ?? 600_000,
  });
  if (run.status !== 0) {
    throw new Error(`${PYTHON} ${args.join(" ")} failed (${run.signal ?? run.status}):\n${run.stdout}\n${run.stderr}`);
  }
  return run.stdout;
}

/** An nbformat 4.5 notebook on the archlab kernel whose code cells are `sources`, not yet executed. */
export function codeNotebook(sources: readonly string[], idPrefix = "cell"): object {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "archlab", display_name: "TypeScript (archlab)", language: "typescript" } },
    cells: sources.map((source, i) => ({ cell_type: "code", id: `${idPrefix}-${i}`, metadata: {}, execution_count: null, outputs: [], source })),
  };
}
