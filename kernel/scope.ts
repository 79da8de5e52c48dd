/**
 * What every notebook has in scope: every export of the prelude module (the archlab library root
 * plus the kernel's `comms`), imported by a startup cell so that later cells get full types and
 * completion, no import needed.
 *
 * The names are computed when the kernel starts, from the module itself: its runtime keys (values)
 * plus the names its declaration files export (interfaces and type aliases have no runtime key),
 * following `export * from` and `export { … } from` through relative modules.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import * as ts from "@tslab/typescript-for-tslab";

/** The module every notebook imports from (built from kernel/prelude.ts). */
export const PRELUDE = resolve(__dirname, "prelude");

/** The startup cell: imports every export of `modulePath` (absolute, without extension). */
export function startupCell(modulePath: string = PRELUDE): string {
  const names = exportedNames(modulePath);
  return `import { ${names.join(", ")} } from ${JSON.stringify(modulePath)};`;
}

/** Sorted names exported by the compiled module at `modulePath` (absolute, without extension). */
export function exportedNames(modulePath: string): string[] {
  const names = new Set(Object.keys(require(modulePath) as object).filter((name) => name !== "__esModule" && name !== "default"));
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
