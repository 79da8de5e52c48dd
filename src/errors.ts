/**
 * Every user-facing error text of archlab lives here, so they stay consistent and tests can assert on
 * them. Each names the tensor (or node, or option), what was expected and what was given, and what
 * to do.
 */

/** The one error class archlab throws for bad input. `code` is stable; `message` is for people. */
export class ArchlabError extends Error {
  override name = "ArchlabError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
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
    new ArchlabError("not-a-number", `${what}${path} is ${JSON.stringify(value) ?? String(value)}, not a number.`),
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
  outOfRange: (what: string, value: number, lo: number, hi: number) =>
    new ArchlabError("out-of-range", `${what} ${value} is outside the sequence: valid steps are ${lo}…${hi}.`),
  emptySequence: (what: string) =>
    new ArchlabError("empty-sequence", `${what} is empty: give at least one timestep, shaped [T, B, In] or [T, In].`),
  badDefinition: (cell: string, problem: string) =>
    new ArchlabError("bad-definition", `Cell definition "${cell}": ${problem}`),
  badOption: (option: string, value: unknown, expected: string) =>
    new ArchlabError("bad-option", `Option ${option} = ${JSON.stringify(value)} is not valid: expected ${expected}.`),
  emptyTrace: (where: string) =>
    new ArchlabError(
      "empty-trace",
      `${where}: the trace has no computed step yet. Run the cell (cell.run(xs)) or move the stepper (stepper.step()) first.`,
    ),
  notATrace: (where: string, value: unknown) =>
    new ArchlabError(
      "not-a-trace",
      `${where} expects a Trace (what cell.run(xs) returns, or a stepper's .trace), got ${describeValue(value)}.`,
    ),
  overBudget: (what: string, marks: number, budget: number, hint: string) =>
    new ArchlabError(
      "over-budget",
      `${what} would draw ${marks.toLocaleString("en-US")} marks, over the mark budget of ${budget.toLocaleString("en-US")} (option budget). ${hint}`,
    ),
  unsupported: (what: string, why: string) => new ArchlabError("unsupported", `${what} is not supported: ${why}`),
  layout: (what: string, detail: string) =>
    new ArchlabError(
      "layout",
      `Graphviz could not lay out the ${what}: ${detail.trim()} This is a bug in the diagram writer if the graph came from a cell definition; please report it with the DOT text (diagram.toDot()).`,
    ),
};
