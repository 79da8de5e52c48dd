/**
 * `is_complete_request`: whether a console should run the code now, wait for more lines, or run it
 * to show its syntax error — answered from TypeScript's own parser (tslab's build of it, already
 * loaded for the cells), not from a guess at brackets.
 *
 *     complete    the code parses
 *     incomplete  every parse error is at the end of the input: an open bracket, a template
 *                 literal or block comment still open, a trailing operator or `\` (more lines can fix it)
 *     invalid     a parse error before the end (`const = ;`, `x = 1)`), or a quoted string that is
 *                 still open at the end of a line (`'abc`): no further line can make it valid
 *
 * As tslab does, code ending with a blank line is "complete" unless invalid, so a console user
 * can force an incomplete cell to run and see its error.
 */
import type * as TypeScript from "@tslab/typescript-for-tslab";

/** The content of an `is_complete_reply`. */
export type IsCompleteReply = { status: "complete" | "invalid" } | { status: "incomplete"; indent: string };

/** TS1002 "Unterminated string literal.": '…' and "…" end at the line, unlike template literals. */
const UNTERMINATED_STRING = 1002;

let ts: typeof TypeScript | undefined;

/** Classifies `code` for `is_complete_reply`. */
export function isComplete(code: string): IsCompleteReply {
  ts ??= require("@tslab/typescript-for-tslab") as typeof TypeScript;
  const source = ts.createSourceFile("cell.ts", code, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  // parseDiagnostics is internal to TypeScript but stable (tslab reads it the same way).
  const diagnostics = (source as unknown as { parseDiagnostics: readonly TypeScript.DiagnosticWithLocation[] }).parseDiagnostics;
  if (diagnostics.length === 0) return { status: "complete" };
  const end = code.trimEnd().length;
  const atEnd = (d: TypeScript.DiagnosticWithLocation) => d.start >= end && d.code !== UNTERMINATED_STRING;
  if (!diagnostics.every(atEnd)) return { status: "invalid" };
  if (/(^|\n)[ \t]*\n\s*$/.test(code)) return { status: "complete" };
  return { status: "incomplete", indent: indentAfter(code) };
}

/** The indent of the next line: the last line's, one step deeper when that line leaves a bracket open. */
function indentAfter(code: string): string {
  const last = /[^\n]*$/.exec(code)![0];
  const current = /^[ \t]*/.exec(last)![0];
  const { SyntaxKind } = ts!;
  const scanner = ts!.createScanner(ts!.ScriptTarget.Latest, true, ts!.LanguageVariant.Standard, last);
  let open = 0;
  for (let token = scanner.scan(); token !== SyntaxKind.EndOfFileToken; token = scanner.scan()) {
    if (token === SyntaxKind.OpenBraceToken || token === SyntaxKind.OpenParenToken || token === SyntaxKind.OpenBracketToken) open++;
    else if (token === SyntaxKind.CloseBraceToken || token === SyntaxKind.CloseParenToken || token === SyntaxKind.CloseBracketToken) open--;
  }
  return open > 0 ? `${current}  ` : current;
}
