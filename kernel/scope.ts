/**
 * What every notebook has in scope: every export of the prelude module (the archlab library root
 * plus the kernel's `comms`) as a global — full types and completion, no import needed.
 *
 * The names are computed when the kernel starts, from the module itself: its runtime keys (values)
 * plus the names its declaration files export (interfaces and type aliases have no runtime key),
 * following `export * from` and `export { … } from` through relative modules.
 *
 * Types: a virtual module added to tslab's TypeScript program once, holding
 * `declare global { export import X = prelude.X; … }` — an alias keeps everything about X (value,
 * type, generics, docs). TypeScript 5.0 (pinned through tslab) reports two grammar errors on such
 * aliases — 2667 "Imports are not permitted in module augmentations" and, for type-only exports,
 * 1379 "An import alias cannot reference a declaration that was exported using 'export type'" —
 * but binds them all the same: those two are expected, and the tests guard that the aliases work.
 * Being global and added once, the prelude costs nothing per cell, unlike an import carried in
 * every cell's declarations (tslab's way, +10 ms a cell with archlab's 200 names).
 * Values: the same names are set on `globalThis`, where the cells' code finds them.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import * as ts from "@tslab/typescript-for-tslab";
import type { Diagnostic } from "tslab/dist/converter";

/** The module every notebook has in scope (built from kernel/prelude.ts). */
const PRELUDE = resolve(__dirname, "prelude");

/** TypeScript's grammar errors on the prelude's global aliases, expected (see above). */
const EXPECTED_DIAGNOSTICS: ReadonlySet<number> = new Set([2667, 1379]);

/** What putting the prelude in scope did. */
export interface PreludeReport {
  /** The names in scope. */
  names: string[];
  /** Names left out: a global of that name exists already. */
  clashes: string[];
  /** Unexpected diagnostics of the virtual module, as text. */
  problems: string[];
}

/**
 * Puts every export of the prelude in scope: values on `globalThis`, types through `addModule`
 * (tslab's converter's virtual modules).
 */
export function loadPrelude(addModule: (name: string, source: string) => readonly Diagnostic[]): PreludeReport {
  const clashes = installPreludeValues(require(PRELUDE) as Record<string, unknown>);
  const names = exportedNames(PRELUDE).filter((name) => !clashes.includes(name));
  const problems = addModule("__archlab_prelude__", preludeTypes(names))
    .filter((d) => !EXPECTED_DIAGNOSTICS.has(d.code))
    .map((d) => `${d.start.line + 1}:${d.start.character + 1} TS${d.code}: ${d.messageText}`);
  return { names, clashes, problems };
}

/** The virtual module's source: a global alias for each of `names` exported by the prelude. */
function preludeTypes(names: readonly string[]): string {
  const aliases = names.map((name) => `  export import ${name} = __archlab__.${name};`);
  return `import * as __archlab__ from ${JSON.stringify(PRELUDE)};\ndeclare global {\n${aliases.join("\n")}\n}\n`;
}

/**
 * Sets the prelude's values on `globalThis`; returns the names left out because a global of that
 * name already exists (a Node global wins over a library export).
 */
function installPreludeValues(module: Record<string, unknown>): string[] {
  const clashes: string[] = [];
  for (const [name, value] of Object.entries(module)) {
    if (!isExportName(name)) continue;
    if (name in globalThis) clashes.push(name);
    else Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  }
  return clashes;
}

/** Whether a runtime key of a compiled module is one of its exports (not the CommonJS interop markers). */
const isExportName = (name: string) => name !== "__esModule" && name !== "default";

/** Sorted names exported by the compiled module at `modulePath` (absolute, without extension). */
export function exportedNames(modulePath: string): string[] {
  const names = new Set(Object.keys(require(modulePath) as object).filter(isExportName));
  for (const name of declaredExports(`${modulePath}.d.ts`, new Set())) names.add(name);
  return [...names].sort();
}

/** Names exported by a declaration file, following re-exports of relative modules. */
function declaredExports(file: string, seen: Set<string>): string[] {
  if (seen.has(file) || !existsSync(file)) return [];
  seen.add(file);
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, false);
  const names: string[] = [];
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement)) names.push(...reExports(statement, file, seen));
    else if (isExported(statement)) names.push(...declaredNames(statement));
  }
  return names;
}

function reExports(statement: ts.ExportDeclaration, file: string, seen: Set<string>): string[] {
  const clause = statement.exportClause;
  if (clause && ts.isNamedExports(clause)) return clause.elements.map((element) => element.name.text);
  if (clause && ts.isNamespaceExport(clause)) return [clause.name.text];
  const from = statement.moduleSpecifier;
  if (!from || !ts.isStringLiteral(from) || !from.text.startsWith(".")) return []; // values still come from require()
  const target = resolve(dirname(file), from.text.replace(/\.js$/, ""));
  const candidates = [`${target}.d.ts`, resolve(target, "index.d.ts")];
  return declaredExports(candidates.find((candidate) => existsSync(candidate)) ?? candidates[0], seen);
}

function isExported(statement: ts.Statement): boolean {
  const modifiers = ts.canHaveModifiers(statement) ? ts.getModifiers(statement) : undefined;
  return (
    modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) === true &&
    !modifiers.some((m) => m.kind === ts.SyntaxKind.DefaultKeyword)
  );
}

function declaredNames(statement: ts.Statement): string[] {
  if (ts.isVariableStatement(statement)) {
    return statement.declarationList.declarations.flatMap((d) => (ts.isIdentifier(d.name) ? [d.name.text] : []));
  }
  const name = (statement as { name?: ts.Node }).name;
  return name && ts.isIdentifier(name) ? [name.text] : [];
}
