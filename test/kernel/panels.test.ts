/**
 * The kernel in JupyterLab's other panels, through Jupyter's own client (panels_driver.py,
 * jupyter_client): the inspector/tooltip inside a call's parentheses, completion items with their
 * types (read as JupyterLab's kernel completer reads them), `input()` over the stdin channel, and
 * `user_expressions` — those two compared with ipykernel's replies to the same requests.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import ts from "typescript";
import { stdinErrors } from "../../kernel/messages";
import * as PRELUDE from "../../kernel/prelude";
import { python, requireTools, ROOT, sandbox } from "./harness";

let results: Record<string, any>;

before(() => {
  requireTools(["jupyter_client", "zmq"]);
  const box = sandbox();
  const out = join(box.root, "results.json");
  python([join(__dirname, "panels_driver.py"), out, join(box.root, "kernel.log")], { cwd: box.workDir, env: box.env });
  results = JSON.parse(readFileSync(out, "utf8"));
});

/** The doc comment's first sentence and the parameter names of `Cell.stepper`, read from the library's source with TypeScript. */
function stepperReference(): { doc: string; params: string[] } {
  const file = join(ROOT, "src", "engine", "cell.ts");
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  let found: ts.MethodDeclaration | undefined;
  const visit = (node: ts.Node): void => {
    if (ts.isClassDeclaration(node) && node.name?.text === "Cell") {
      found = node.members.find((m): m is ts.MethodDeclaration => ts.isMethodDeclaration(m) && m.name.getText(source) === "stepper");
    } else ts.forEachChild(node, visit);
  };
  visit(source);
  assert.ok(found, "Cell.stepper in src/engine/cell.ts");
  const comment = ts.getJSDocCommentsAndTags(found).find(ts.isJSDoc)!.comment;
  const text = typeof comment === "string" ? comment : (comment ?? []).map((part) => part.text).join("");
  return { doc: text.split("(")[0].trim(), params: found.parameters.map((p) => p.name.getText(source)) };
}

describe("inspect (Shift+Tab, the inspector) inside a call's parentheses (jupyter_client)", () => {
  const plain = (name: string) => results.inspect[name].data["text/plain"] as string;

  test("after `lstm.stepper(` and between its arguments: the method's signature and doc comment", () => {
    const reference = stepperReference();
    for (const name of ["after_paren", "between_args"]) {
      const reply = results.inspect[name];
      assert.equal(reply.status, "ok");
      assert.equal(reply.found, true, name);
      assert.match(plain(name), new RegExp(`Cell\\.stepper\\(${reference.params.map((p) => `${p}\\??: \\w+`).join(", ")}\\): Stepper`), name);
      assert.ok(plain(name).includes(reference.doc), `${name}: the doc comment "${reference.doc}" in ${plain(name)}`);
      const markdown: string = reply.data["text/markdown"];
      assert.ok(markdown.startsWith("```typescript\n(method) Cell.stepper("), markdown);
      assert.ok(markdown.includes(reference.doc), markdown);
    }
  });

  test("the innermost call holding the cursor wins, as IPython's token_at_cursor does; a callee's @param tags are shown", () => {
    assert.match(plain("on_argument"), /^function addOne\(n: number\): number\n\nAdds one\.\n\n@param n the number$/);
    assert.match(plain("nested"), /^diagram\(source: /, "the inner call, without the prelude's alias noise");
    assert.ok(!plain("nested").includes("import diagram"), plain("nested"));
    assert.match(results.inspect.nested.data["text/markdown"], /\*@example\*\n\n```typescript\ndiagram\(LSTM\);/);
    assert.match(plain("outer_after_inner"), /^function addOne/, "after a closed inner call, the outer one");
    assert.match(plain("new"), /^constructor Box\(v: number\): Box/);
    assert.match(plain("multiline"), /^function addOne/, "a call left open over lines, after an astral character (code points)");
    assert.match(plain("on_name"), /^function addOne/, "outside parentheses, the name at the cursor");
  });

  test("nothing to show: found false, as before", () => {
    for (const name of ["nothing", "callback_block"]) assert.deepEqual(results.inspect[name], { status: "ok", found: false, data: {}, metadata: {} }, name);
  });
});

describe("completion items with their types (jupyter_client)", () => {
  /** What JupyterLab's KernelCompleterProvider builds from a complete_reply: items aligned with matches. */
  const items = (code: string) => {
    const reply = results.complete[code];
    assert.equal(reply.status, "ok");
    const types = reply.metadata._jupyter_types_experimental;
    assert.equal(types.length, reply.matches.length, code);
    return reply.matches.map((label: string, i: number) => {
      assert.equal(types[i].text, label);
      assert.deepEqual([types[i].start, types[i].end], [reply.cursor_start, reply.cursor_end]);
      return { label, type: types[i].type as string };
    }) as { label: string; type: string }[];
  };
  const typeOf = (code: string, label: string) => items(code).find((item) => item.label === label)?.type;

  test("archlab's names are typed by what they are: function, class, variable, type", () => {
    const prelude = PRELUDE as Record<string, unknown>;
    const classes = (name: string) => typeof prelude[name] === "function" && /^class\b/.test(String(prelude[name]));
    assert.equal(typeof prelude.cell, "function");
    assert.equal(typeOf("cel", "cell"), "function");
    assert.ok(classes("Cell") && classes("ArchlabError"));
    assert.equal(typeOf("cel", "Cell"), "class");
    assert.equal(typeOf("ArchlabErr", "ArchlabError"), "class");
    assert.equal(typeof prelude.LSTM, "object");
    const archlab = items("LST").filter((item) => item.label in prelude);
    assert.ok(archlab.length >= 10, JSON.stringify(archlab));
    for (const item of archlab) assert.equal(item.type, classes(item.label) ? "class" : typeof prelude[item.label] === "function" ? "function" : "variable", item.label);
    assert.equal(prelude.CellDef, undefined, "CellDef is a type only");
    assert.equal(typeOf("let d: CellDe", "CellDef"), "type");
  });

  test("a cell's own names and an object's members", () => {
    assert.equal(typeOf("addO", "addOne"), "function");
    assert.equal(typeOf("Bo", "Box"), "class");
    assert.equal(typeOf("Bo", "boolean"), "keyword");
    assert.equal(typeOf("lst", "lstm"), "variable");
    assert.equal(typeOf("lstm.", "stepper"), "method");
    assert.equal(typeOf("lstm.", "def"), "property");
    assert.equal(typeOf("lstm.", "parameterCount"), "property", "a getter");
    assert.ok(items("lstm.").every((item) => item.type === "method" || item.type === "property"), JSON.stringify(items("lstm.")));
  });
});

describe("input() over the stdin channel (jupyter_client)", () => {
  const outcome = (name: string) => results[name].iopub.filter((m: any) => m.msg_type === "execute_result").map((m: any) => m.content.data["text/plain"]);

  test("sends input_request to the frontend that ran the cell, with the cell as parent, and returns the reply", () => {
    assert.deepEqual(results.input_request, { msg_type: "input_request", content: { prompt: "Your name? ", password: false }, parent: results.input_msg_id });
    assert.equal(results.input.reply.status, "ok");
    assert.deepEqual(outcome("input"), ["'hello Ada'"]);
    const types = results.input.iopub.map((m: any) => m.msg_type);
    assert.ok(types.indexOf("stream") < types.indexOf("execute_result"), "what was printed before comes first");
  });

  test("password: true asks the frontend to hide the typing", () => {
    assert.deepEqual(results.password_request.content, { prompt: "Token: ", password: true });
    assert.deepEqual(outcome("password"), ["7"]);
  });

  test("without allow_stdin: StdinNotImplementedError, as ipykernel names it", () => {
    assert.equal(results.ipykernel_no_stdin.reply.ename, "StdinNotImplementedError", "the reference");
    assert.equal(results.no_stdin.reply.status, "error");
    assert.equal(results.no_stdin.reply.ename, "StdinNotImplementedError");
    assert.equal(results.no_stdin.reply.evalue, stdinErrors.notAllowed);
  });

  test("an interrupt ends the wait; a late reply is dropped and the next input() works", () => {
    assert.equal(results.interrupt_request.content.prompt, "waiting? ");
    assert.equal(results.interrupted.reply.status, "error");
    assert.equal(results.interrupted.reply.ename, "Interrupted");
    assert.equal(results.after_interrupt_request.content.prompt, "again? ");
    assert.deepEqual(outcome("after_interrupt"), ["'again'"]);
  });

  test("an input() the cell did not await ends with the cell, reported in the cell's output before its idle", () => {
    const exchange = results.unawaited;
    assert.equal(results.unawaited_request.content.prompt, "later? ");
    assert.equal(exchange.reply.status, "ok");
    const stderr = exchange.iopub.filter((m: any) => m.msg_type === "stream" && m.content.name === "stderr").map((m: any) => m.content.text).join("");
    assert.ok(stderr.includes(stdinErrors.cellEnded), stderr);
    assert.equal(exchange.iopub.at(-1).content.execution_state, "idle");
  });

  test("with two clients, the input_request goes to the one whose cell asks", () => {
    assert.equal(results.second_client_request.content.prompt, "second? ");
    assert.equal(results.first_client_saw, null);
    assert.equal(results.second_client.reply.status, "ok");
  });
});

describe("user_expressions (jupyter_client, ipykernel as the reference)", () => {
  test("each expression's value or error, shaped as ipykernel's", () => {
    const ours = results.user_expressions.reply.user_expressions;
    const reference = results.ipykernel_user_expressions.reply.user_expressions;
    for (const name of ["ok", "text"]) assert.deepEqual(ours[name], reference[name], name);
    assert.deepEqual(Object.keys(ours.raises).sort(), Object.keys(reference.raises).sort());
    assert.equal(ours.raises.status, "error");
    assert.equal(ours.raises.ename, "RangeError");
    assert.equal(ours.raises.evalue, "out of range");
    assert.deepEqual(ours.a, { status: "ok", data: { "text/plain": "42" }, metadata: {} }, "the cell's own names are in scope");
    assert.deepEqual(ours.undef.data, { "text/plain": "undefined" });
    assert.equal(ours.missing.status, "error");
    assert.equal(ours.missing.ename, "TSError");
    assert.match(ours.missing.evalue, /Cannot find name 'nope'/);
    assert.match(ours.diagram.data["image/svg+xml"], /<svg/, "a displayable's whole bundle, as in execute_result");
    assert.equal(typeof ours.diagram.data["text/plain"], "string");
    assert.equal(ours.bad_display.status, "error", "a value whose display fails is an error entry, the reply still ok");
    assert.match(ours.bad_display.evalue, /no bundle/);
  });

  test("after a cell that fails: none evaluated, as ipykernel", () => {
    const reply = results.user_expressions_failed_cell.reply;
    assert.equal(reply.status, "error");
    assert.deepEqual(reply.user_expressions ?? {}, {});
  });
});
