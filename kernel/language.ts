/**
 * What TypeScript knows at the cursor, in the shapes JupyterLab reads: the inspector and tooltip
 * (Shift+Tab) and the kinds of completion items.
 *
 * Inspection follows IPython (`token_at_cursor`): inside a call's parentheses — after `(`, between
 * arguments, on an argument — it shows the function being called, its signature and doc comment;
 * elsewhere, the name at the cursor. The text comes from TypeScript's quick info (tslab's converter),
 * asked at the callee's name.
 */
import * as ts from "@tslab/typescript-for-tslab";
import type { CompletionInfo } from "tslab/dist/converter";
import { attempt } from "./errors";

/**
 * Where to ask TypeScript about `code` at `cursor` (UTF-16 offsets), best first: the callee of the
 * innermost call whose argument list holds the cursor (not looking past a function body: inside a
 * callback's block, the calls around it are not what the cursor is in), then the cursor itself.
 */
export function inspectPositions(code: string, cursor: number): number[] {
  const source = ts.createSourceFile("cell.ts", code, ts.ScriptTarget.Latest, true);
  // A node reaches over the blanks after it: in `f(1, ` (the `)` not typed yet) the cursor at the end is in f's call.
  const reach = (node: ts.Node) => node.end + /^\s*/.exec(code.slice(node.end))![0].length;
  let callee: number | undefined;
  const visit = (node: ts.Node): void => {
    if (cursor < node.getStart(source) || cursor > reach(node)) return;
    if (ts.isBlock(node) || ts.isClassLike(node)) callee = undefined;
    if ((ts.isCallExpression(node) || ts.isNewExpression(node)) && node.arguments && insideArguments(node, node.arguments, cursor, code, reach(node))) {
      callee = calleeName(node.expression).getStart(source);
    }
    ts.forEachChild(node, visit);
  };
  ts.forEachChild(source, visit);
  return callee === undefined ? [cursor] : [callee, cursor];
}

/** Between the call's `(` and its `)` (or the end of the code, when the `)` is not typed yet). */
function insideArguments(call: ts.Node, args: ts.NodeArray<ts.Expression>, cursor: number, code: string, reach: number): boolean {
  const close = code[call.end - 1] === ")" ? call.end - 1 : reach;
  return args.pos <= cursor && cursor <= close && code[args.pos - 1] === "(";
}

/** The name TypeScript describes the call by: `stepper` in `lstm.stepper`, the expression itself otherwise. */
function calleeName(expression: ts.Expression): ts.Node {
  return ts.isPropertyAccessExpression(expression) ? expression.name : expression;
}

/**
 * An `inspect_reply`'s content for TypeScript's quick info: the signature, the doc comment and its
 * tags, as plain text and as Markdown (the signature and examples in TypeScript code blocks).
 */
export function inspectReply(info: ts.QuickInfo | undefined): Record<string, unknown> {
  if (!info) return { status: "ok", found: false, data: {}, metadata: {} };
  const signature = signatureText(info);
  const doc = docText(info.documentation);
  const tags = (info.tags ?? []).map((tag) => ({ name: tag.name, text: docText(tag.text) }));
  const plain = [signature, doc, ...tags.map((tag) => `@${tag.name} ${tag.text}`.trim())];
  const markdown = [
    codeBlock(signature),
    doc,
    ...tags.map((tag) => (tag.name === "example" ? `*@example*\n\n${codeBlock(tag.text)}` : `*@${tag.name}* ${tag.text}`.trim())),
  ];
  const join = (parts: string[]) => parts.filter((part) => part).join("\n\n");
  return { status: "ok", found: true, data: { "text/plain": join(plain), "text/markdown": join(markdown) }, metadata: {} };
}

/**
 * The signature TypeScript shows, without the `(alias) … import X = X` that the prelude's global
 * aliases add to every archlab name (scope.ts): `diagram(source…)`, as if imported.
 */
function signatureText(info: ts.QuickInfo): string {
  const text = ts.displayPartsToString(info.displayParts);
  const prelude = /\nimport ([\w$]+) = \1$/;
  return prelude.test(text) ? text.replace(prelude, "").replace(/^\(alias\) /, "") : text;
}

/** `code` in a fenced TypeScript block whose fence is longer than any run of backticks inside. */
function codeBlock(code: string): string {
  const fence = "`".repeat(Math.max(2, ...(code.match(/`+/g) ?? []).map((ticks) => ticks.length)) + 1);
  return `${fence}typescript\n${code}\n${fence}`;
}

/** Doc comment parts as Markdown: `{@link X}` becomes `X` in code. */
function docText(parts: readonly ts.SymbolDisplayPart[] | undefined): string {
  return (parts ?? [])
    .map((part) => (part.kind === "link" ? "" : part.kind === "linkName" || part.kind === "linkText" ? `\`${part.text}\`` : part.text))
    .join("");
}

/** TypeScript's kinds of completion entries, as the item types JupyterLab shows. */
const ITEM_TYPES: Record<string, string> = {
  [ts.ScriptElementKind.keyword]: "keyword",
  [ts.ScriptElementKind.primitiveType]: "keyword",
  [ts.ScriptElementKind.moduleElement]: "module",
  [ts.ScriptElementKind.externalModuleName]: "module",
  [ts.ScriptElementKind.classElement]: "class",
  [ts.ScriptElementKind.localClassElement]: "class",
  [ts.ScriptElementKind.interfaceElement]: "interface",
  [ts.ScriptElementKind.typeElement]: "type",
  [ts.ScriptElementKind.enumElement]: "enum",
  [ts.ScriptElementKind.enumMemberElement]: "enum member",
  [ts.ScriptElementKind.variableElement]: "variable",
  [ts.ScriptElementKind.localVariableElement]: "variable",
  [ts.ScriptElementKind.constElement]: "variable",
  [ts.ScriptElementKind.letElement]: "variable",
  [ts.ScriptElementKind.functionElement]: "function",
  [ts.ScriptElementKind.localFunctionElement]: "function",
  [ts.ScriptElementKind.memberFunctionElement]: "method",
  [ts.ScriptElementKind.memberGetAccessorElement]: "property",
  [ts.ScriptElementKind.memberSetAccessorElement]: "property",
  [ts.ScriptElementKind.memberVariableElement]: "property",
  [ts.ScriptElementKind.memberAccessorVariableElement]: "property",
  [ts.ScriptElementKind.constructorImplementationElement]: "constructor",
  [ts.ScriptElementKind.callSignatureElement]: "method",
  [ts.ScriptElementKind.indexSignatureElement]: "property",
  [ts.ScriptElementKind.constructSignatureElement]: "constructor",
  [ts.ScriptElementKind.parameterElement]: "parameter",
  [ts.ScriptElementKind.typeParameterElement]: "type parameter",
};

/** One item of `_jupyter_types_experimental`, as JupyterLab's kernel completer reads it (aligned with `matches`). */
export interface CompletionItemType {
  start: number;
  end: number;
  text: string;
  type: string;
}

/**
 * The type of each candidate. TypeScript calls a name "alias" when it stands for another — every
 * archlab name (the prelude's global aliases, scope.ts) and a cell's imports: those are typed by
 * their value (`values`: the cells' locals, then `globalThis`), or "type" for a prelude name
 * without one (an interface or type alias).
 */
export function completionTypes(info: CompletionInfo, span: { start: number; end: number }, prelude: ReadonlySet<string>, values: object): CompletionItemType[] {
  const kinds = new Map<string, string>();
  for (const entry of info.original?.entries ?? []) if (!kinds.has(entry.name)) kinds.set(entry.name, entry.kind);
  return info.candidates.map((name) => {
    const kind = kinds.get(name) ?? "";
    const type = kind === ts.ScriptElementKind.alias ? aliasType(name, prelude, values) : ITEM_TYPES[kind] ?? kind;
    return { ...span, text: name, type };
  });
}

function aliasType(name: string, prelude: ReadonlySet<string>, values: object): string {
  if (Object.hasOwn(values, name)) return valueType((values as Record<string, unknown>)[name]);
  if (prelude.has(name)) return name in globalThis ? valueType((globalThis as Record<string, unknown>)[name]) : "type";
  return "alias";
}

/** "class" for a class, "function" for another function, "variable" for any other value. */
function valueType(value: unknown): string {
  if (typeof value !== "function") return "variable";
  return attempt(() => /^class\b/.test(Function.prototype.toString.call(value)), false) ? "class" : "function";
}
