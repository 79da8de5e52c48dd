/**
 * Shorthand properties (`{ washout }`) naming what an earlier cell declared, in a notebook executed
 * by Jupyter's own tools (nbconvert → nbclient) with the installed kernel. tslab reaches an earlier
 * cell's declarations through `exports` and used to leave shorthand properties alone: `{ washout }`
 * threw "ReferenceError: washout is not defined", and `({ state } = o)` set a stray global instead
 * of the notebook's `state`. Values are printed as JSON and compared with what JavaScript gives
 * for the same code run in one piece.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import * as ts from "@tslab/typescript-for-tslab";
import { codeNotebook, python, requireTools, sandbox } from "./harness";

const DECLARATIONS = [
  "const washout = 10;",
  "let state = 1;",
  "let count = 0;",
  "let last = 0;",
  "function twice(x: number) { return 2 * x; }",
  'import { basename } from "node:path";',
].join("\n");

/** A cell that prints `expression` as JSON. */
const printed = (expression: string) => `console.log(JSON.stringify(${expression}))`;

const CELLS = {
  declarations: DECLARATIONS,
  previous: printed("[{ washout }, { washout, other: 1 }, { twice }.twice(3), { basename }.basename('/a/b.txt')]"),
  sameCell: ["const local = 3;", "function pack(washout: number) { return { washout, local, count }; }", printed("[{ local, washout }, pack(5)]")].join("\n"),
  nested: ["const o = { washout() { return { washout }; }, get rate() { return { rate: { inner: [{ washout }] } }; } };", printed("[{ outer: { inner: [{ washout }] } }, o.washout(), o.rate, [1, 2].map((i) => ({ i, washout }))]")].join("\n"),
  call: ["function total(o: { washout: number; other: number }) { return o.washout + o.other; }", printed("[total({ washout, other: 1 }), Object.keys({ ...{ washout }, state })]")].join("\n"),
  destructuring: ["({ state } = { state: 7 });", "({ count = 4 } = {});", "for ({ last } of [{ last: 5 }, { last: 6 }]);", printed("[state, count, last, ['state', 'count', 'last'].some((name) => name in globalThis)]")].join("\n"),
  afterDestructuring: printed("[state, count, last]"),
  typeErrors: ["const fine = { washout, state };", "const cfg = { washout }; const bad: string = washout;", "const wrong: { washout: string } = { washout };", "({ nowhere });"].join("\n"),
  corrected: ["const fine = { washout, state };", "const cfg = { washout }; const good: number = washout;", printed("[fine, cfg, good]")].join("\n"),
};

/**
 * What JavaScript gives for the same code run in one piece (one scope), compiled on its own by
 * TypeScript: the reference. `cells` run after the declarations; what the last one printed.
 */
const reference = (...cells: string[]): unknown => {
  const lines: string[] = [];
  const { outputText } = ts.transpileModule([DECLARATIONS, ...cells].join("\n"), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  });
  new Function("console", "require", "exports", "globalThis", outputText)({ log: (line: string) => lines.push(line) }, require, {}, {});
  return JSON.parse(lines.at(-1)!);
};

interface Output {
  output_type: string;
  ename?: string;
  evalue?: string;
  traceback?: string[];
  name?: string;
  text?: string | string[];
}

let outputs: Record<keyof typeof CELLS, Output[]>;

before(() => {
  requireTools(["nbconvert", "nbclient", "nbformat"]);
  const box = sandbox();
  writeFileSync(join(box.workDir, "shorthand.ipynb"), JSON.stringify(codeNotebook(Object.values(CELLS))));
  python(["-m", "nbconvert", "--to", "notebook", "--execute", "--allow-errors", "--output", "executed.ipynb", "shorthand.ipynb"], {
    cwd: box.workDir,
    env: box.env,
  });
  const cells: { outputs: Output[] }[] = JSON.parse(readFileSync(join(box.workDir, "executed.ipynb"), "utf8")).cells;
  outputs = Object.fromEntries(Object.keys(CELLS).map((name, i) => [name, cells[i].outputs])) as typeof outputs;
});

/** What the cell printed, parsed; fails with its error output if it has one. */
function value(name: keyof typeof CELLS): unknown {
  const error = outputs[name].find((o) => o.output_type === "error");
  assert.equal(error, undefined, `${name}: ${error?.ename}: ${error?.evalue}`);
  const stream = outputs[name].find((o) => o.output_type === "stream" && o.name === "stdout");
  assert.ok(stream, `${name} printed nothing`);
  return JSON.parse([stream.text].flat().join(""));
}

describe("shorthand properties naming an earlier cell's declarations (nbconvert --execute)", () => {
  test("an earlier cell's const, function and import, alone and with other properties", () => {
    assert.deepEqual(value("previous"), reference(CELLS.previous));
    assert.deepEqual(value("previous"), [{ washout: 10 }, { washout: 10, other: 1 }, 6, "b.txt"]);
  });

  test("next to the cell's own names, and a parameter of the same name is the parameter", () => {
    assert.deepEqual(value("sameCell"), reference(CELLS.sameCell));
  });

  test("nested, in arrow functions, and inside methods and getters (which stay methods and getters)", () => {
    assert.deepEqual(value("nested"), reference(CELLS.nested));
  });

  test("in call arguments and spreads", () => {
    assert.deepEqual(value("call"), reference(CELLS.call));
  });

  test("a destructuring assignment sets the earlier cell's let (with a default, in for…of), and no global", () => {
    assert.deepEqual(value("destructuring"), [7, 4, 6, false]);
    assert.deepEqual(value("destructuring"), reference(CELLS.destructuring));
    assert.deepEqual(value("afterDestructuring"), [7, 4, 6]);
  });

  test("type errors in a cell with shorthands are reported at their line and column in the cell as written", () => {
    const [error] = outputs.typeErrors;
    assert.equal(error.ename, "TSError");
    const lines = CELLS.typeErrors.split("\n");
    // Where each error is in the cell as written (1-based line:column), found in its text.
    const at = (line: number, token: string, from = 0) => `${line + 1}:${lines[line].indexOf(token, from) + 1}`;
    const heads = error.traceback!.filter((l) => l.startsWith("cell "));
    assert.deepEqual(heads, [
      `cell ${at(1, "bad")}: error TS2322: Type 'number' is not assignable to type 'string'.`,
      `cell ${at(2, "washout", lines[2].indexOf("{ washout }"))}: error TS2322: Type 'number' is not assignable to type 'string'.`,
      `cell ${at(3, "nowhere")}: error TS18004: No value exists in scope for the shorthand property 'nowhere'. Either declare one or provide an initializer.`,
    ]);
    // The caret under the source line points at the name.
    const caret = error.traceback![error.traceback!.indexOf(heads[0]) + 2];
    assert.equal(caret.indexOf("^") - caret.indexOf("| ") - 2, lines[1].indexOf("bad"));
    assert.equal(caret.trim().replace(/^\| */, ""), "^".repeat("bad".length));
    // Corrected, the cell runs (after the destructuring cell, which set `state`).
    assert.deepEqual(value("corrected"), reference(CELLS.destructuring, CELLS.corrected));
  });
});
