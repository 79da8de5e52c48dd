/**
 * Cell failures as Jupyter `error` content: `ename`, `evalue`, `traceback`.
 *
 * - A type error shows each TypeScript diagnostic with its line and column in the cell, the
 *   source line and a caret, like `tsc --pretty` without colours.
 * - A thrown value shows its name, message and the stack frames that belong to the user's code
 *   (frames of the kernel, tslab and Node internals are left out).
 */
import { inspect } from "node:util";
import type { Diagnostic } from "tslab/dist/converter";
import { cellErrors } from "./messages";

/** The content of an `error` message (and of an `execute_reply` with status "error"). */
export interface ErrorContent {
  ename: string;
  evalue: string;
  traceback: string[];
}

/** Type-checking diagnostics of a cell as one error. */
export function diagnosticsError(diagnostics: readonly Diagnostic[], code: string): ErrorContent {
  const lines = code.split("\n");
  const traceback = diagnostics.flatMap((d) => {
    const where = d.fileName ? `${d.fileName} ${position(d)}` : `cell ${position(d)}`;
    const head = `${where}: error TS${d.code}: ${d.messageText}`;
    if (d.fileName || d.start.line >= lines.length) return [head];
    const lineNo = String(d.start.line + 1);
    const width = d.end.line === d.start.line ? Math.max(1, d.end.character - d.start.character) : 1;
    const gutter = " ".repeat(lineNo.length);
    return [head, `  ${lineNo} | ${lines[d.start.line]}`, `  ${gutter} | ${" ".repeat(d.start.character)}${"^".repeat(width)}`];
  });
  const first = diagnostics[0];
  return {
    ename: "TSError",
    evalue: first ? `${position(first)} TS${first.code}: ${first.messageText}` : cellErrors.typeCheckFailed,
    traceback,
  };
}

function position(d: Diagnostic): string {
  return `${d.start.line + 1}:${d.start.character + 1}`;
}

/** Frames that are the kernel's, tslab's or Node's own, not the user's. */
const INTERNAL_FRAME =
  /\((node:|.*[\\/]node_modules[\\/]tslab[\\/])|[\\/]dist[\\/](kernel[\\/]|src[\\/]display[\\/]protocol)|^\s+at node:|^\s+at new Promise \(<anonymous>\)/;

/** A thrown value (anything can be thrown in JavaScript) as an error. */
export function thrownError(thrown: unknown): ErrorContent {
  if (thrown instanceof Error) {
    const ename = thrown.name || thrown.constructor?.name || "Error";
    const stack = (thrown.stack ?? `${ename}: ${thrown.message}`).split("\n");
    // Node prefixes errors thrown by vm scripts with the failing source line and a caret: drop that.
    const start = Math.max(0, stack.findIndex((line) => line.startsWith(ename)));
    return { ename, evalue: thrown.message, traceback: stack.slice(start).filter((line) => !INTERNAL_FRAME.test(line)) };
  }
  const evalue = inspect(thrown, { depth: 2 });
  return { ename: "Uncaught", evalue, traceback: [`Uncaught ${evalue}`] };
}

/** An interrupted cell (SIGINT or `interrupt_request`). */
export function interruptedError(): ErrorContent {
  return { ename: "Interrupted", evalue: cellErrors.interrupted, traceback: [`Interrupted: ${cellErrors.interrupted}`] };
}

/** A failure while turning a value into a mime bundle (its display method threw or returned junk). */
export function displayError(thrown: unknown, value: unknown): ErrorContent {
  const error = thrownError(thrown);
  const evalue = cellErrors.display(describe(value), error.evalue);
  return { ename: error.ename, evalue, traceback: [`${error.ename}: ${evalue}`, ...error.traceback.slice(1)] };
}

function describe(value: unknown): string {
  const name = (value as { constructor?: { name?: string } } | null)?.constructor?.name;
  return name && name !== "Object" ? `a ${name}` : "an object";
}
