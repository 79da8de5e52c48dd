/**
 * The TensorFlow.js backend, chosen once and reported: `@tensorflow/tfjs-node` when it loads (it is
 * optional: its install downloads libtensorflow, which not every machine can reach), else
 * `@tensorflow/tfjs-backend-wasm` (its .wasm files read from node_modules, offline), else
 * `@tensorflow/tfjs-backend-cpu`. Nothing fails where tfjs-node is absent; {@link backendInfo} says
 * what was tried and why the winner won.
 */
import * as tf from "@tensorflow/tfjs-core";
import { dirname, join } from "node:path";
import { errors } from "../errors";

/** A backend archlab can use, by tfjs's own name (tfjs-node registers itself as "tensorflow"). */
export type BackendName = "tensorflow" | "wasm" | "cpu";

/** One attempt: which backend, whether it loaded, and if not, why. */
export interface BackendAttempt {
  name: BackendName;
  ok: boolean;
  error?: string;
}

/** The backend in use, why, and every backend tried before it. */
export interface BackendInfo {
  name: BackendName;
  reason: string;
  tried: BackendAttempt[];
}

/** Options of {@link selectBackend}. */
export interface BackendOptions {
  /** Backends to try, in order (default: tensorflow, wasm, cpu). */
  order?: readonly BackendName[];
}

const DEFAULT_ORDER: readonly BackendName[] = ["tensorflow", "wasm", "cpu"];

/** Loading each backend into tfjs-core's registry; each returns without throwing only if `tf.setBackend` may now pick it. */
const LOADERS: Record<BackendName, () => void> = {
  tensorflow() {
    // A plain string through a variable: tsc must not resolve it, and it is not a dependency.
    const name = "@tensorflow/tfjs-node";
    require(name);
    if (!tf.findBackend("tensorflow"))
      throw new Error(`${name} loaded but registered with another copy of @tensorflow/tfjs-core than ${tf.version_core}; install versions that match.`);
  },
  wasm() {
    const wasm = require("@tensorflow/tfjs-backend-wasm") as typeof import("@tensorflow/tfjs-backend-wasm");
    // Emscripten in Node reads these paths with fs: the package's own dist folder, no network.
    const dist = dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm"));
    wasm.setWasmPaths(join(dist, "/"));
  },
  cpu() {
    require("@tensorflow/tfjs-backend-cpu");
  },
};

const REASON: Record<BackendName, string> = {
  tensorflow: "@tensorflow/tfjs-node is installed: native TensorFlow",
  wasm: "@tensorflow/tfjs-node is not available; the WebAssembly backend runs offline from node_modules",
  cpu: "neither @tensorflow/tfjs-node nor the WebAssembly backend could be used; plain JavaScript",
};

let chosen: Promise<BackendInfo> | undefined;
let info: BackendInfo | undefined;

const message = (e: unknown) => (e instanceof Error ? e.message.split("\n")[0] : String(e));

/**
 * Chooses and initialises the TensorFlow.js backend (once; later calls return the same answer).
 *
 * @example
 * const { name, reason } = await selectBackend(); // e.g. "wasm", "@tensorflow/tfjs-node is not available; …"
 */
export function selectBackend(options: BackendOptions = {}): Promise<BackendInfo> {
  return (chosen ??= choose(options.order ?? DEFAULT_ORDER));
}

async function choose(order: readonly BackendName[]): Promise<BackendInfo> {
  const tried: BackendAttempt[] = [];
  for (const name of order) {
    try {
      LOADERS[name]();
      if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend("${name}") could not initialise it`);
      await tf.ready();
      tried.push({ name, ok: true });
      const skipped = tried.filter((t) => !t.ok).map((t) => t.name);
      const reason = skipped.length === 0 && name !== DEFAULT_ORDER[0] ? `first in the requested order (${order.join(", ")})` : REASON[name];
      return (info = { name, reason, tried });
    } catch (e) {
      tried.push({ name, ok: false, error: message(e) });
    }
  }
  chosen = undefined;
  throw errors.unsupported(
    "TensorFlow.js",
    `no backend could be initialised (${tried.map((t) => `${t.name}: ${t.error}`).join("; ")}). Reinstall @tensorflow/tfjs-backend-wasm and @tensorflow/tfjs-backend-cpu.`,
  );
}

/**
 * The backend in use, why it was chosen, and what was tried — after {@link selectBackend} resolved.
 *
 * @example
 * await selectBackend();
 * backendInfo(); // { name: "wasm", reason: "…", tried: [{ name: "tensorflow", ok: false, error: "Cannot find module …" }, { name: "wasm", ok: true }] }
 */
export function backendInfo(): BackendInfo {
  if (!info) throw errors.unsupported("backendInfo() before a backend is chosen", "await selectBackend() first.");
  return info;
}

/** The chosen backend's name, or undefined while none is chosen yet (never waits, never throws). */
export function currentBackend(): BackendName | undefined {
  return info?.name;
}
