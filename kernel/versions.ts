/**
 * The true versions behind this kernel, read from the installed packages (not hard-coded), and
 * the `kernel_info_reply` built from them.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { PACKAGE_ROOT } from "../src/package-root";
import { PROTOCOL_VERSION } from "./wire";

/** Versions of archlab and of what runs its cells. */
export interface Versions {
  archlab: string;
  tslab: string;
  /** The TypeScript that type-checks cells: tslab's own build of it. */
  typescript: string;
  node: string;
}

const packageVersion = (name: string): string => (require(`${name}/package.json`) as { version: string }).version;

/** The versions, read once. */
export const versions: Versions = {
  archlab: (JSON.parse(readFileSync(resolve(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string }).version,
  // From the packages' own package.json: loading tslab itself would load TypeScript (~200 ms) into every archlab command.
  tslab: packageVersion("tslab"),
  typescript: packageVersion("@tslab/typescript-for-tslab"),
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
