/**
 * Cell failures as Jupyter `error` content: `ename`, `evalue`, `traceback`.
 *
 * - A type error shows each TypeScript diagnostic with its line and column in the cell, the
 *   source line and a caret, like `tsc --pretty` without colours.
 * - A thrown value shows its name, message and the stack frames that belong to the user's code
 *   (frames of the kernel, tslab and Node internals are left out).
 */
import { distance as editDistance } from "fastest-levenshtein";
import type { Diagnostic } from "tslab/dist/converter";
import { cellErrors, shown } from "./messages";

/** The content of an `error` message (and of an `execute_reply` with status "error"). */
export interface ErrorContent {
  ename: string;
  evalue: string;
  traceback: string[];
}

/**
 * Type-checking diagnostics of a cell as one error. An unknown name is followed by the names in
 * `scope` (archlab's) that are close to it — TypeScript suggests at most one, from anywhere.
 */
export function diagnosticsError(diagnostics: readonly Diagnostic[], code: string, scope: readonly string[] = []): ErrorContent {
  const lines = code.split("\n");
  const hint = (d: Diagnostic): string[] => {
    const unknown = UNKNOWN_NAME.has(d.code) ? /'([^']+)'/.exec(d.messageText)?.[1] : undefined;
    const close = unknown ? closeNames(unknown, scope) : [];
    return close.length > 0 ? [cellErrors.closeNames(close)] : [];
  };
  const traceback = diagnostics.flatMap((d) => {
    const where = d.fileName ? `${d.fileName} ${position(d)}` : `cell ${position(d)}`;
    const head = `${where}: error TS${d.code}: ${d.messageText}`;
    if (d.fileName || d.start.line >= lines.length) return [head, ...hint(d)];
    const lineNo = String(d.start.line + 1);
    const width = d.end.line === d.start.line ? Math.max(1, d.end.character - d.start.character) : 1;
    const gutter = " ".repeat(lineNo.length);
    return [head, `  ${lineNo} | ${lines[d.start.line]}`, `  ${gutter} | ${" ".repeat(d.start.character)}${"^".repeat(width)}`, ...hint(d)];
  });
  const first = diagnostics[0];
  return {
    ename: "TSError",
    evalue: first ? [`${position(first)} TS${first.code}: ${first.messageText}`, ...hint(first)].join(" ") : cellErrors.typeCheckFailed,
    traceback,
  };
}

/** TypeScript's "Cannot find name 'X'." (2304) and "… Did you mean 'Y'?" (2552). */
const UNKNOWN_NAME = new Set([2304, 2552]);
const MAX_CLOSE_NAMES = 16;

/**
 * Names in `scope` close to `name`, closest first: the same but for case, those starting with it
 * (`GRU` → `GRU1`, `GRU_RESET_AFTER`…) and those a typo or two away (edit distance, ignoring case).
 */
export function closeNames(name: string, scope: readonly string[]): string[] {
  const wanted = name.toLowerCase();
  const allowed = wanted.length <= 4 ? 1 : 2;
  const ranked = scope
    .map((candidate) => {
      const lower = candidate.toLowerCase();
      const distance = editDistance(wanted, lower);
      const rank = distance === 0 ? 0 : distance <= allowed ? distance : wanted.length >= 2 && lower.startsWith(wanted) ? allowed + 1 : Infinity;
      return { candidate, rank };
    })
    .filter(({ candidate, rank }) => rank < Infinity && candidate !== name);
  ranked.sort((a, b) => a.rank - b.rank || a.candidate.length - b.candidate.length || a.candidate.localeCompare(b.candidate));
  return ranked.slice(0, MAX_CLOSE_NAMES).map(({ candidate }) => candidate);
}

function position(d: Diagnostic): string {
  return `${d.start.line + 1}:${d.start.character + 1}`;
}

/** Frames that are the kernel's, tslab's or Node's own, not the user's. */
const INTERNAL_FRAME =
  /\((node:|.*[\\/]node_modules[\\/]tslab[\\/])|[\\/]dist[\\/](kernel[\\/]|src[\\/]display[\\/]protocol)|^\s+at node:|^\s+at new Promise \(<anonymous>\)/;

/**
 * A thrown value (anything can be thrown in JavaScript) as an error. Never throws itself: the value
 * may be a Proxy whose every trap throws, or an Error whose getters throw; what cannot be read is
 * left out.
 */
export function thrownError(thrown: unknown): ErrorContent {
  if (attempt(() => thrown instanceof Error, false)) {
    const error = thrown as Error;
    const ename = attempt(() => String(error.name || error.constructor?.name || "Error"), "Error");
    const message = attempt(() => String(error.message), "");
    const stack = attempt(() => (typeof error.stack === "string" ? error.stack : undefined), undefined) ?? `${ename}: ${message}`;
    const lines = stack.split("\n");
    // Node prefixes errors thrown by vm scripts with the failing source line and a caret: drop that.
    const start = Math.max(0, lines.findIndex((line) => line.startsWith(ename)));
    return { ename, evalue: message, traceback: lines.slice(start).filter((line) => !INTERNAL_FRAME.test(line)) };
  }
  const evalue = shown(thrown);
  return { ename: "Uncaught", evalue, traceback: [`Uncaught ${evalue}`] };
}

/** The value `read` returns, or `fallback` when it throws (reading a thrown value may run its code). */
export function attempt<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/** An interrupted cell (SIGINT or `interrupt_request`). */
export function interruptedError(): ErrorContent {
  return { ename: "Interrupted", evalue: cellErrors.interrupted, traceback: [`Interrupted: ${cellErrors.interrupted}`] };
}

/** A cell that called `process.exit(status)`: the kernel ends once the cell is answered. */
export function processExitError(status: number): ErrorContent {
  const evalue = cellErrors.processExit(status);
  return { ename: "ProcessExit", evalue, traceback: [`ProcessExit: ${evalue}`] };
}

/** A failure while turning a value into a mime bundle (its display method threw or returned junk). */
export function displayError(thrown: unknown, value: unknown): ErrorContent {
  const error = thrownError(thrown);
  const evalue = cellErrors.display(describe(value), error.evalue);
  return { ename: error.ename, evalue, traceback: [`${error.ename}: ${evalue}`, ...error.traceback.slice(1)] };
}

function describe(value: unknown): string {
  const name = attempt(() => (value as { constructor?: { name?: unknown } } | null)?.constructor?.name, undefined);
  return typeof name === "string" && name && name !== "Object" ? `a ${name}` : "an object";
}
