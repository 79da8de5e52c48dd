/**
 * A notebook executed by Jupyter's own tools (`jupyter nbconvert --execute --allow-errors`, which
 * drives nbclient) with the installed kernel, in a folder outside the project: execution counts,
 * execute_result bundles, error outputs, and every cell after an error still runs.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { codeNotebook, python, requireTools, sandbox } from "./harness";

const CELLS = [
  "const answer = 6 * 7;\nanswer",
  "({ [Symbol.for('Jupyter.display')]: () => ({ 'text/plain': 'a chart', 'text/html': '<p>a chart</p>' }) })",
  "throw new Error('first failure')",
  "answer + 1",
  "let wrong: string = answer;",
  "console.log('printed'); 'after two errors'",
];

interface Output {
  output_type: string;
  execution_count?: number;
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
  traceback?: string[];
  name?: string;
  text?: string | string[];
}

let cells: { execution_count: number | null; outputs: Output[] }[];

before(() => {
  requireTools(["nbconvert", "nbclient", "nbformat"]);
  const box = sandbox();
  const notebook = codeNotebook(CELLS);
  writeFileSync(join(box.workDir, "example.ipynb"), JSON.stringify(notebook));
  python(["-m", "nbconvert", "--to", "notebook", "--execute", "--allow-errors", "--output", "executed.ipynb", "example.ipynb"], {
    cwd: box.workDir,
    env: box.env,
  });
  cells = JSON.parse(readFileSync(join(box.workDir, "executed.ipynb"), "utf8")).cells;
});

const text = (value: string | string[] | unknown) => (Array.isArray(value) ? value.join("") : value);

describe("nbconvert --execute --allow-errors with the archlab kernel", () => {
  test("every cell runs, errors included, and carries its execution count", () => {
    assert.deepEqual(cells.map((c) => c.execution_count), [1, 2, 3, 4, 5, 6]);
  });

  test("values are execute_results with the cell's count; a displayable gives its whole bundle", () => {
    assert.deepEqual(cells[0].outputs, [{ output_type: "execute_result", execution_count: 1, data: { "text/plain": ["42"] }, metadata: {} }]);
    const [rich] = cells[1].outputs;
    assert.equal(rich.output_type, "execute_result");
    assert.deepEqual(Object.fromEntries(Object.entries(rich.data!).map(([k, v]) => [k, text(v)])), {
      "text/plain": "a chart",
      "text/html": "<p>a chart</p>",
    });
  });

  test("errors are error outputs with ename, evalue, traceback — thrown and type errors alike", () => {
    const [thrown] = cells[2].outputs;
    assert.equal(thrown.output_type, "error");
    assert.equal(thrown.ename, "Error");
    assert.equal(thrown.evalue, "first failure");
    const [typeError] = cells[4].outputs;
    assert.equal(typeError.ename, "TSError");
    assert.equal(typeError.evalue, "1:5 TS2322: Type 'number' is not assignable to type 'string'.");
  });

  test("cells after an error see the state from before it", () => {
    assert.equal(text(cells[3].outputs[0].data!["text/plain"]), "43");
    assert.deepEqual(
      cells[5].outputs.map((o) => [o.output_type, text(o.text ?? o.data?.["text/plain"])]),
      [["stream", "printed\n"], ["execute_result", "'after two errors'"]],
    );
  });
});
