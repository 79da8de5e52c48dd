/**
 * Every text the kernel and the `archlab` command show to people, in one place. Tests assert on
 * these functions, not on copies of their wording.
 */
import { inspect } from "node:util";

/** `value` as Node's REPL shows it; never throws (a thrown value may be a Proxy or have throwing getters). */
export function shown(value: unknown): string {
  try {
    return inspect(value, { depth: 2 });
  } catch {
    return "[a value that cannot be inspected]";
  }
}

/** An error's message (or stack), else the value shown; never throws. */
function reason(error: unknown, part: "message" | "stack" = "message"): string {
  try {
    return error instanceof Error ? String(error[part]) : shown(error);
  } catch {
    return shown(error);
  }
}

/** Problems with messages on the wire (written to the kernel log; the message is dropped). */
export const wireErrors = {
  connectionFile: (file: string, problem: string) => `The connection file ${file} is not usable: ${problem}.`,
  scheme: (scheme: string) => `Unsupported signature scheme "${scheme}": expected "hmac-<algorithm>", e.g. "hmac-sha256".`,
  noDelimiter: "no <IDS|MSG> delimiter",
  tooFewParts: (n: number) => `${n} of the 4 JSON parts (header, parent_header, metadata, content)`,
  badSignature: "wrong HMAC signature",
  badHeader: "the header has no msg_type or msg_id",
  notJson: (part: string) => `the ${part} is not valid JSON`,
  notObject: (part: string) => `the ${part} is not a JSON object`,
  dropped: (socket: string, problem: string) => `Dropped a message on ${socket}: ${problem}.`,
  receiveFailed: (socket: string, error: unknown) => `Receiving on ${socket} failed: ${reason(error)}`,
  sendFailed: (msgType: string, error: unknown) => `Sending ${msgType} failed: ${reason(error)}`,
};

/** What a failed cell says. */
export const cellErrors = {
  typeCheckFailed: "The cell failed to type-check.",
  interrupted: "the cell was interrupted.",
  display: (what: string, problem: string) => `Displaying the cell's value (${what}) failed: ${problem}`,
  updateWithoutId: 'display(x, { update: true }) needs the id of the output to replace: display(x, { id: "…", update: true }).',
  startup: (error: string) => `The archlab library could not be put in scope: ${error}`,
  processExit: (status: number) =>
    `process.exit(${status}) was called: the kernel ends (exit status ${status}) and everything defined in it is lost. Restart the kernel to go on.`,
  heapNearLimit: (usedMB: number, limitMB: number) =>
    `The JavaScript heap is nearly full (${usedMB} of ${limitMB} MB): the cell was stopped, because at the limit V8 ends the kernel ` +
    `and everything in it. Free what you keep (e.g. set big arrays to undefined), or restart Jupyter with NODE_OPTIONS=--max-old-space-size=<MB> for a larger heap.`,
  closeNames: (names: string[]) => `Close names in scope: ${names.join(", ")}.`,
};

/** Comms that go wrong (kernel log). */
export const commErrors = {
  noTarget: (target: string) => `No comm target "${target}" is registered (comms.registerTarget): the comm is closed.`,
  unknownComm: (id: string) => `No open comm with id ${id}: message ignored.`,
  sendOnClosed: (id: string) => `Comm ${id} is closed: it cannot send.`,
  noKernel: "Comms work only inside the archlab kernel.",
  handlerFailed: (what: string, error: unknown) => `The comm ${what} handler failed: ${reason(error)}`,
};

/** Kernel log lines. */
export const kernelLog = {
  unknownRequest: (msgType: string, socket: string) => `Ignored ${msgType} on ${socket}: not a request this kernel answers.`,
  handlerFailed: (msgType: string, error: unknown) => `Handling ${msgType} failed: ${reason(error, "stack")}`,
  uncaught: (error: unknown) => `Uncaught ${shown(error)}\n`,
  unhandledRejection: (error: unknown) => `Unhandled promise rejection: ${shown(error)}\n`,
  converterReady: (ms: number) => `TypeScript ready in ${ms} ms.`,
  ready: (ms: number, names: number) => `Ready in ${ms} ms with ${names} names in scope.`,
  clashes: (names: string[]) => `Not put in scope, a global has the name already: ${names.join(", ")}.`,
};

/** What `archlab install` / `uninstall` print, and their failures. */
export const cliText = {
  installed: (dir: string) => `Installed the archlab kernel spec in ${dir}`,
  uninstalled: (dir: string) => `Removed the archlab kernel spec from ${dir}`,
  noneToUninstall: (dirs: string[]) => `No archlab kernel spec found in:\n  ${dirs.join("\n  ")}`,
  notWritable: (dir: string, error: unknown) =>
    `Cannot write ${dir}: ${reason(error)}\nInstall for this user only with \`archlab install --user\`, or choose a folder with --prefix.`,
  noSysPrefix:
    "Cannot tell the Python environment's sys.prefix: no VIRTUAL_ENV or CONDA_PREFIX is set and no `jupyter` command is on PATH. " +
    "Activate the environment, or use --prefix DIR.",
  oneLocation: "Choose one of --user, --sys-prefix and --prefix.",
  onePerFile: "--html and --output name one file: give one notebook, or use --inplace.",
  ran: (path: string, cells: number, seconds: number, failures: number) =>
    `${failures ? "✗" : "✓"} ${path}: ${cells} cell${cells === 1 ? "" : "s"} in ${seconds.toFixed(1)} s${failures ? `, ${failures} failed` : ""}`,
  kernelFailed: (error: unknown) => `The archlab kernel could not start: ${reason(error)}`,
};
