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
  replayed: "a replay: this signature was seen before (jupyter_client rejects duplicates the same way)",
  badHeader: "the header has no msg_type or msg_id",
  notJson: (part: string) => `the ${part} is not valid JSON`,
  notObject: (part: string) => `the ${part} is not a JSON object`,
  noKey: (file: string) =>
    `REFUSING TO START: the connection file ${file} has no "key", so messages would not be signed and anyone who can reach ` +
    "its ports could run code as you. Jupyter always writes a key; if you really mean to run without authentication, " +
    "start the kernel with `archlab kernel --allow-no-key`.",
  runningWithoutKey: (file: string) =>
    `WARNING: the connection file ${file} has no "key" and --allow-no-key was given: messages are not authenticated; ` +
    "anyone who can reach the kernel's ports can run code as you.",
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

/** What `archlab run` says when a run cannot finish; the notebook's cells are counted from 1, as JupyterLab does. */
export const runText = {
  timedOut: (seconds: number) => `it ran longer than ${seconds} s (raise the limit with --timeout <seconds>)`,
  died: (how: string, log: string) => `the kernel ended (${how}) while it ran${log.trim() ? `; its last words:\n${log.trim()}` : ""}`,
  kernelEndedAtStart: (how: string, log: string) => `The kernel ended (${how}) before it was ready.\n${log}`,
  kernelSilent: (seconds: number, log: string) => `The kernel did not answer within ${seconds} s.\n${log}`,
  /** Why the run stopped at a cell, and what was kept. */
  stoppedHere: (reason: string) =>
    `the run stopped here: ${reason}. The cells before it keep their outputs; the cells after it were not run; ` +
    "the notebook is marked partial (metadata.archlab.partial).",
  /** Names the cell the run stopped at: notebook, cell number and first line. */
  stoppedAt: (notebook: string, cell: number, firstLine: string) => `${notebook}, cell ${cell} (${firstLine})`,
  notSaved: (path: string, error: unknown) => `Could not write ${path}: ${reason(error)}. The file is as it was before the run.`,
  /** The error output put in the cell where the run stopped. */
  stoppedEname: { timeout: "CellTimeoutError", died: "DeadKernelError" } as const,
};

/** Comms that go wrong (kernel log). */
export const commErrors = {
  noTarget: (target: string) => `No comm target "${target}" is registered (comms.registerTarget): the comm is closed.`,
  unknownComm: (id: string) => `No open comm with id ${id}: message ignored.`,
  sendOnClosed: (id: string) => `Comm ${id} is closed: it cannot send.`,
  noKernel: "Comms work only inside the archlab kernel.",
  handlerFailed: (what: string, error: unknown) => `The comm ${what} handler failed: ${reason(error)}`,
};

/** Why `input()` cannot read from the notebook (the message of a StdinNotImplementedError). */
export const stdinErrors = {
  notAllowed:
    "input() was called, but the frontend that ran this cell does not accept input requests (it sent allow_stdin: false, " +
    "as `archlab run`, nbconvert and nbclient do). Put the value in the code instead, or run the cell in JupyterLab or Notebook.",
  noCell: "input() was called while no cell is running (from a timer or callback after its cell ended): only a running cell can ask for input.",
  cellEnded: "input() was still waiting for an answer when its cell ended: await it (`const answer = await input(\"…\")`) so the cell waits too.",
  noKernel: "input() works only inside the archlab kernel.",
  interrupted: "input() was interrupted before an answer came.",
};

/** Kernel log lines. */
export const kernelLog = {
  unexpectedStdin: (msgType: string) => `Ignored ${msgType} on stdin: no input() is waiting for a reply.`,
  unknownRequest: (msgType: string, socket: string) => `Ignored ${msgType} on ${socket}: not a request this kernel answers.`,
  handlerFailed: (msgType: string, error: unknown) => `Handling ${msgType} failed: ${reason(error, "stack")}`,
  uncaught: (error: unknown) => `Uncaught ${shown(error)}\n`,
  unhandledRejection: (error: unknown) => `Unhandled promise rejection: ${shown(error)}\n`,
  converterReady: (ms: number) => `TypeScript ready in ${ms} ms.`,
  ready: (ms: number, names: number) => `Ready in ${ms} ms with ${names} names in scope.`,
  stoppingStuckCode:
    "An interrupt was not answered within 1 s: the running code never yields to the event loop (e.g. `while (true) await null;`). Stopping it.",
  endingUnresponsive: (seconds: number) =>
    `The kernel did not answer an interrupt within ${seconds} s even after its running code was stopped: ending the kernel ` +
    "so that Jupyter shows it dead and restarts it (variables are lost). Raise the limit with `archlab kernel --interrupt-timeout <s>`.",
  orphaned: "Jupyter, which started this kernel, is gone and the kernel did not end on its own (its code never yields): ending it.",
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
  notPositive: (text: string) => `expected a positive number, got "${text}".`,
  kernelFailed: (error: unknown) => `The archlab kernel could not start: ${reason(error)}`,
  noJupyterhub:
    "JupyterHub is not installed (no `jupyterhub` command on PATH): on Debian/Ubuntu `apt-get install jupyterhub`, elsewhere `pip install jupyterhub`.",
};

/**
 * What `archlab start` says. The install's size and time are measured (Debian 12, 2 cores shared
 * and busy, a fast connection: 227 s, 423 MB): keep them true when kernel/lab/package.json changes.
 */
export const startText = {
  registered: (spec: string) => `Registered the archlab kernel in ${spec}.`,
  labInstalling: (packages: number, dir: string) =>
    `First start without \`jupyter lab\`: installing archlab's own JupyterLab 4.6.3 (${packages} npm packages, about 430 MB) into ${dir}. ` +
    "This happens once, and took 4 minutes on a busy 2-core machine with a fast connection (longer on a slow one); later starts reuse it.",
  labBuilding: "Building JupyterLab (esbuild)…",
  labInstalled: (seconds: number, megabytes: number | undefined, dir: string) =>
    `JupyterLab installed and built in ${seconds.toFixed(0)} s${megabytes === undefined ? "" : ` (${megabytes} MB)`}: ${dir}`,
  labFailed: (step: string, status: string, output: string) =>
    `Installing archlab's JupyterLab failed: \`${step}\` ended with ${status}.\n${output.trim().split("\n").slice(-20).join("\n")}\n` +
    "Nothing half-installed was kept: `npm start` tries again. Meanwhile `npm start -- --classic` opens the classic Notebook " +
    "(static charts), and `npm start -- --headless` runs the notebooks to HTML.",
  noNpm: "Installing archlab's JupyterLab needs npm (it comes with Node.js), and there is no `npm` command on PATH.",
  opening: (what: string, dir: string) => `Opening ${dir} in ${what}.`,
  ready: (what: string, url: string, seconds: number) => `${what} is ready (${seconds.toFixed(1)} s after start) at:\n\n    ${url}\n\nStop it with Ctrl-C.`,
  classicNote: "The classic Notebook shows charts as static images; in JupyterLab (`npm start` without --classic) they are interactive.",
  noClassic: "The classic Notebook is not installed: `sudo apt install jupyter-notebook` (Debian/Ubuntu), or leave out --classic for JupyterLab.",
  notTrusted: (problem: string) => `Could not mark archlab's notebooks as trusted, so Jupyter shows them "Not Trusted" (run them to trust their outputs): ${problem}`,
  serverEnded: (what: string, status: string) => `${what} ended (${status}) before it answered: see its messages above.`,
  noJupyter: "Jupyter's server is not installed: running the notebooks headlessly and writing HTML.",
  headless: "Running the notebooks headlessly and writing HTML.",
  getJupyter:
    "To use the notebooks interactively in JupyterLab, install Debian's Jupyter server (`sudo apt install python3-jupyter-server python3-jupyterlab-server`, " +
    "or `sudo bash scripts/setup-system.sh`), then run `npm start` again.",
  failedCells: (n: number) => `${n} cell(s) failed: see above.`,
  notPort: (text: string) => `expected a port number (1 to 65535), got "${text}".`,
};
