/**
 * Every user-facing error text of archlab lives here, so they stay consistent and tests can assert on
 * them. Each names the tensor (or node, or option), what was expected and what was given, and what
 * to do.
 */

import { inspect } from "node:util";

/** The one error class archlab throws for bad input. `code` is stable; `message` is for people. */
export class ArchlabError extends Error {
  override name = "ArchlabError";
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** What a wrong value is, for messages: its type or class, never a crash (BigInt, null, cyclic objects). */
function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === "function") return `a function (${value.name || "anonymous"})`;
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  if (typeof value !== "object") return `${typeof value} ${String(value)}`;
  const kind = Array.isArray(value) ? "an array" : `an object (${value.constructor?.name ?? "no prototype"})`;
  return `${kind} with keys [${Object.keys(value).slice(0, 5).join(", ")}]`;
}

const shape = (s: readonly (number | string)[]) => `[${s.join(", ")}]`;

/**
 * Any value as a message shows it, never throwing: strings quoted, NaN as NaN (JSON would say
 * null), BigInt with its n (JSON throws), objects shortened; a value whose inspection throws (a
 * hostile Proxy) is described instead.
 */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (typeof value === "bigint") return `${value}n (a BigInt)`;
  if (typeof value === "function") return `a function${value.name ? ` (${value.name})` : ""}`;
  if (value === null || typeof value !== "object") return String(value);
  try {
    return inspect(value, { depth: 1, maxArrayLength: 8, maxStringLength: 80, breakLength: Infinity, compact: true });
  } catch {
    return "an object that cannot be inspected";
  }
}

/** A byte count for people: `17.2 GB` (decimal units, as the limit is given in bytes). */
export const bytes = (n: number) => {
  const units = ["bytes", "kB", "MB", "GB", "TB", "PB"];
  let k = 0;
  while (n >= 1000 && k < units.length - 1) (n /= 1000), k++;
  return `${k === 0 ? n : Number(n.toPrecision(3)).toLocaleString("en-US")} ${units[k]}`;
};

/** Checks an options or weights argument is a plain object (not null, a number, an array…); else the named bad-option error. */
export function requireObject(option: string, value: unknown, expected: string): asserts value is object {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw errors.badOption(option, value, expected);
}

/**
 * `table[key]` when `key` is one of the table's own names — never one inherited from
 * Object.prototype ("toString", "constructor", "__proto__") — else the named bad-option error
 * listing the valid names.
 */
export function choose<T>(option: string, key: unknown, table: Readonly<Record<string, T>>): T {
  if (typeof key === "string" && Object.hasOwn(table, key)) return table[key];
  throw errors.badOption(option, key, Object.keys(table).map((k) => `"${k}"`).join(" | "));
}

/** The message builders, one per situation. */
export const errors = {
  shape: (what: string, expected: readonly (number | string)[], actual: readonly (number | string)[], hint = "") =>
    new ArchlabError("shape", `${what}: expected shape ${shape(expected)}, got ${shape(actual)}.${hint ? " " + hint : ""}`),
  ragged: (what: string, path: string, expected: number, actual: number) =>
    new ArchlabError(
      "ragged",
      `${what} is ragged: ${path} has length ${actual}, but its siblings have length ${expected}. Every row must have the same length.`,
    ),
  notNumber: (what: string, path: string, value: unknown) =>
    new ArchlabError("not-a-number", `${what}${path} is ${show(value)}, not a number.`),
  nonFinite: (what: string, path: string, value: number) =>
    new ArchlabError(
      "non-finite",
      `${what}${path} is ${value}. Inputs and weights must be finite numbers: check the data for NaN or Infinity (e.g. a division by zero or a missing value).`,
    ),
  unknownName: (kind: string, name: string, known: readonly string[], where: string) =>
    new ArchlabError(
      "unknown-name",
      `Unknown ${kind} "${name}" in ${where}. Known ${kind}s: ${known.map((k) => `"${k}"`).join(", ")}.`,
    ),
  missingWeight: (name: string, where: string, expectedShape: readonly number[]) =>
    new ArchlabError("missing-weight", `Missing weight "${name}" ${shape(expectedShape)} for ${where}.`),
  extraWeight: (names: readonly string[], where: string, known: readonly string[]) =>
    new ArchlabError(
      "extra-weight",
      `Unexpected weight${names.length > 1 ? "s" : ""} ${names.map((n) => `"${n}"`).join(", ")} for ${where}. Expected exactly: ${known.map((n) => `"${n}"`).join(", ")}.`,
    ),
  missingKey: (kind: string, key: string, where: string, expected: readonly string[]) =>
    new ArchlabError("missing-weight", `Missing ${kind} "${key}" in the weights of ${where}. Expected exactly: ${expected.map((n) => `"${n}"`).join(", ")}.`),
  /** `range` names what lo…hi count: steps (the default, "outside the sequence"), units, batch elements, layers. */
  outOfRange: (what: string, value: unknown, lo: number, hi: number, range: "steps" | "units" | "batch elements" | "layers" | "positions" = "steps") =>
    new ArchlabError(
      "out-of-range",
      `${what} ${show(value)} is ${range === "steps" || range === "positions" ? "outside the sequence" : "out of range"}: valid ${range} are ${lo}…${hi}.`,
    ),
  emptySequence: (what: string) =>
    new ArchlabError("empty-sequence", `${what} is empty: give at least one timestep, shaped [T, B, In] or [T, In].`),
  badDefinition: (cell: string, problem: string) =>
    new ArchlabError("bad-definition", `Cell definition "${cell}": ${problem}`),
  badOption: (option: string, value: unknown, expected: string) =>
    new ArchlabError("bad-option", `Option ${option} = ${show(value)} is not valid: expected ${expected}.`),
  emptyTrace: (where: string) =>
    new ArchlabError(
      "empty-trace",
      `${where}: the trace has no computed step yet. Run the cell (cell.run(xs)) or move the stepper (stepper.step()) first.`,
    ),
  notATrace: (where: string, value: unknown) =>
    new ArchlabError(
      "not-a-trace",
      `${where} expects a Trace (what cell.run(xs) returns, or a stepper's .trace), got ${describeValue(value)}.` +
        // A model's trace (of values or of gradients) has its own plot, which picks units × time, matrices or feature maps by the node's axes.
        ((value as object | null)?.constructor?.name === "ModelTrace" ? " A model's trace (model.run(…).trace, or model.backward(…).trace for gradients) is drawn by plot.tensor(trace, path)." : ""),
    ),
  overBudget: (what: string, marks: number, budget: number, hint: string) =>
    new ArchlabError(
      "over-budget",
      `${what} would draw ${marks.toLocaleString("en-US")} marks, over the mark budget of ${budget.toLocaleString("en-US")} (option budget). ${hint}`,
    ),
  incompatibleTraces: (where: string, problem: string) =>
    new ArchlabError(
      "incompatible-traces",
      `${where}: the traces cannot be compared value by value: ${problem}. Compare two runs of the same cell (or of cells of one definition and the same sizes) on the same batch size.`,
    ),
  unsupported: (what: string, why: string) => new ArchlabError("unsupported", `${what} is not supported: ${why}`),
  notADefinition: (where: string, value: unknown, known: readonly string[]) =>
    new ArchlabError(
      "not-a-definition",
      `${where} needs a cell definition, got ${show(value)}. ` +
        (typeof value === "string" && known.includes(value)
          ? `Pass the definition itself, not its name: ${value} (import { ${value} } from "archlab"), or BUILTIN_CELLS["${value}"].`
          : value === undefined || typeof value === "string"
            ? `Use a built-in (LSTM, GRU_RESET_AFTER, … — BUILTIN_CELLS["name"] has only these names: ${known.join(", ")}) or your own from defineCell(…).`
            : `A definition is what defineCell(…) returns, or a built-in such as LSTM.`),
    ),
  /** Over the memory limit (option maxBytes, env ARCHLAB_MAX_BYTES): what needs how much, and for which sizes. */
  tooLarge: (what: string, need: number, limit: number, sizes: string) =>
    new ArchlabError(
      "too-large",
      `${what} would need ${bytes(need)} (${need.toLocaleString("en-US")} bytes), over archlab's memory limit of ${bytes(limit)} (${limit.toLocaleString("en-US")} bytes). Sizes: ${sizes}. ` +
        `Use smaller sizes or a shorter sequence, or raise the limit with the option maxBytes (cell(…, { maxBytes }), sequence(…, { maxBytes })) or the environment variable ARCHLAB_MAX_BYTES.`,
    ),
  outOfMemory: (need: number, detail: string) =>
    new ArchlabError(
      "out-of-memory",
      `Could not allocate ${bytes(need)} (${need.toLocaleString("en-US")} bytes): ${detail}. Use smaller sizes or a shorter sequence (or free memory: other traces kept alive in variables).`,
    ),
  computedNonFinite: (cell: string, node: { name: string; inputs: readonly string[] }, at: { t: number; b: number; unit: number; value: number }, after: string) =>
    new ArchlabError(
      "computed-non-finite",
      `Node "${node.name}" of cell "${cell}" at step ${at.t} computed ${at.value} (batch element ${at.b}, unit ${at.unit}): the first value that is not finite (option checkFinite). ` +
        `Its operands ${node.inputs.map((n) => `"${n}"`).join(", ")} were finite at that step; usual causes are weights or inputs so large that a product overflows, or a division by zero in a custom cell. ${after}`,
    ),
  listener: (t: number, cause: unknown) => {
    const where = t < 0 ? "before the first step (reset)" : `at step ${t}`;
    return new ArchlabError(
      "listener",
      `A stepper listener (onChange) threw: ${cause instanceof Error ? cause.message : show(cause)}. The move still happened — the stepper is ${where} and every other listener was told — so fix the listener, or remove it with the function onChange returned.`,
      { cause },
    );
  },
  layout: (what: string, detail: string) =>
    new ArchlabError(
      "layout",
      `Graphviz could not lay out the ${what}: ${detail.trim()} This is a bug in the diagram writer if the graph came from a cell definition; please report it with the DOT text (diagram.toDot()).`,
    ),
  needsKernel: (what: string) =>
    new ArchlabError(
      "needs-kernel",
      `${what} needs the archlab kernel: a widget talks to its notebook over the kernel's comms, and this code runs without one (plain Node, a script). ` +
        `Run it in a notebook on the archlab kernel in JupyterLab (which needs @jupyter-widgets/jupyterlab-manager), or show a stepper with player(stepper): one self-contained output that plays in any browser, offline.`,
    ),
  badSvg: (problem: string) => new ArchlabError("bad-svg", `svgToPng: the SVG ${problem}`),
  renderFailed: (what: string, hint: string) => new ArchlabError("render-failed", `svgToPng: ${what}. ${hint}`),
};
