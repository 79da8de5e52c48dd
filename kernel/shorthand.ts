/**
 * Shorthand properties that name an earlier cell's declaration, written out before tslab converts
 * the cell: `{ washout }` → `{ washout: washout }`.
 *
 * Why: tslab reaches an earlier cell's declarations through `exports` — its emit rewrites each
 * identifier whose symbol is declared in the earlier cells' declarations into `exports.NAME` — but
 * at a shorthand property TypeScript's checker gives the property's symbol, not the variable's, so
 * the name was left alone: `{ washout }` threw "ReferenceError: washout is not defined", and
 * `({ state } = o)` set a stray global instead of the notebook's `state`. Written out, the value is
 * an ordinary identifier, which tslab rewrites (or leaves alone when a local of that name shadows it).
 *
 * tslab's converter has no hook into its emit (its transformers are fixed inside `convert`, and
 * TypeScript's exports cannot be patched), so this works on the source. `{ a: a }` means exactly
 * what `{ a }` means, in literals and in destructuring assignments alike; only names an earlier cell
 * declared as values are written out, so a shorthand naming nothing still gets TypeScript's own
 * error (TS18004). The cell's diagnostics are mapped back to the cell as written.
 */
import * as ts from "@tslab/typescript-for-tslab";
import type { Diagnostic } from "tslab/dist/converter";

/** A cell with its shorthands written out, and the way back to the cell as written. */
export interface Expanded {
  code: string;
  /** The cell's diagnostics at their positions in the cell as written. */
  diagnostics(expanded: readonly Diagnostic[]): Diagnostic[];
}

/** One shorthand written out: its name's start in the cell as written, its line and length. */
interface Expansion {
  start: number;
  line: number;
  length: number;
}

/**
 * `code` with each shorthand property naming a value declared in `prevDecl` (the earlier cells'
 * declarations, as tslab keeps them) written out as `name: name`.
 */
export function expandShorthands(code: string, prevDecl: string): Expanded {
  const unchanged: Expanded = { code, diagnostics: (d) => [...d] };
  const shorthands: ts.ShorthandPropertyAssignment[] = [];
  const cell = ts.createSourceFile("cell.ts", code, ts.ScriptTarget.Latest, true);
  const visit = (node: ts.Node): void => {
    if (ts.isShorthandPropertyAssignment(node) && (!node.objectAssignmentInitializer || isAssignmentTarget(node.parent))) shorthands.push(node);
    ts.forEachChild(node, visit);
  };
  visit(cell);
  if (shorthands.length === 0) return unchanged;
  const earlier = declaredValues(prevDecl);
  const expansions: Expansion[] = shorthands
    .filter((node) => earlier.has(node.name.text))
    .map((node) => {
      const start = node.name.getStart(cell);
      return { start, line: cell.getLineAndCharacterOfPosition(start).line, length: node.name.end - start };
    });
  if (expansions.length === 0) return unchanged;
  let expanded = "";
  let copied = 0;
  for (const { start, length } of expansions) {
    expanded += code.slice(copied, start + length) + ": " + code.slice(start, start + length);
    copied = start + length;
  }
  expanded += code.slice(copied);
  return {
    code: expanded,
    diagnostics: (diagnostics) =>
      diagnostics.map((d) => (d.fileName ? d : { ...d, start: backToCell(d.start, expansions), end: backToCell(d.end, expansions) })),
  };
}

type Position = Diagnostic["start"];

/**
 * A position in the expanded cell, in the cell as written. `name: name` spans `2·length + 2`
 * characters where `name` spanned `length`: a position in either copy of the name falls on the
 * name, one in `: ` at its end. Nothing written out holds a line break, so lines stay.
 */
function backToCell(position: Position, expansions: readonly Expansion[]): Position {
  let offset = 0;
  let character = 0;
  let added = 0;
  for (const { start, line, length } of expansions) {
    const nameEnd = start + added + length;
    const shift = Math.min(Math.max(position.offset - nameEnd, 0), length + 2);
    offset += shift;
    if (line === position.line) character += shift;
    added += length + 2;
  }
  return { offset: position.offset - offset, line: position.line, character: position.character - character };
}

/** The names that earlier cells' declarations (tslab's `prevDecl`, a declaration file) give values. */
function declaredValues(prevDecl: string): Set<string> {
  const names = new Set<string>();
  const add = (name: ts.Node | undefined) => name && ts.isIdentifier(name) && names.add(name.text);
  for (const statement of ts.createSourceFile("__prev__.d.ts", prevDecl, ts.ScriptTarget.Latest).statements) {
    if (ts.isVariableStatement(statement)) statement.declarationList.declarations.forEach((d) => add(d.name));
    else if (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isEnumDeclaration(statement)) add(statement.name);
    else if (ts.isModuleDeclaration(statement) || ts.isImportEqualsDeclaration(statement)) add(statement.name);
    else if (ts.isImportDeclaration(statement) && statement.importClause && !statement.importClause.isTypeOnly) {
      const { name, namedBindings } = statement.importClause;
      add(name);
      if (namedBindings && ts.isNamespaceImport(namedBindings)) add(namedBindings.name);
      else namedBindings?.elements.forEach((element) => element.isTypeOnly || add(element.name));
    }
  }
  return names;
}

/**
 * Whether the object literal is assigned to (`({ a = 1 } = o)`, `for ({ a } of list)`), where a
 * shorthand may carry a default. TypeScript's own test, internal to it but stable (tslab's
 * TypeScript is pinned); elsewhere `{ a = 1 }` is an error the cell must keep.
 */
function isAssignmentTarget(literal: ts.Node): boolean {
  return (ts as unknown as { isAssignmentTarget(node: ts.Node): boolean }).isAssignmentTarget(literal);
}
