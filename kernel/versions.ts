/**
 * The true versions behind this kernel, read from the installed packages (not hard-coded), and
 * the `kernel_info_reply` built from them.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { versions as tslabVersions } from "tslab";
import { PROTOCOL_VERSION } from "./wire";

/** The root folder of the installed archlab package: the nearest folder above this file with a package.json. */
export const PACKAGE_ROOT = packageRoot(__dirname);

function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`No package.json above ${from}`);
  }
}

/** Versions of archlab and of what runs its cells. */
export interface Versions {
  archlab: string;
  tslab: string;
  /** The TypeScript that type-checks cells: tslab's own build of it. */
  typescript: string;
  node: string;
}

/** The versions, read once. */
export const versions: Versions = {
  archlab: (JSON.parse(readFileSync(resolve(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string }).version,
  tslab: tslabVersions.tslab,
  typescript: tslabVersions.typescript,
  node: process.versions.node,
};

/** The content of `kernel_info_reply`. */
export function kernelInfo(): Record<string, unknown> {
  return {
    status: "ok",
    protocol_version: PROTOCOL_VERSION,
    implementation: "archlab",
    implementation_version: versions.archlab,
    language_info: {
      name: "typescript",
      version: versions.typescript,
      mimetype: "text/typescript",
      file_extension: ".ts",
      pygments_lexer: "typescript",
      nbconvert_exporter: "script",
      // JupyterLab reads `mode`, classic Notebook `name` + `typescript` (as tslab found, its issue 18).
      codemirror_mode: { mode: "typescript", name: "javascript", typescript: true },
    },
    banner:
      `archlab ${versions.archlab} — TypeScript ${versions.typescript} cells on tslab ${versions.tslab}, ` +
      `Node.js ${versions.node}. The archlab library is in scope: try LSTM, display, clearOutput.`,
    debugger: false,
    archlab_versions: versions,
  };
}
