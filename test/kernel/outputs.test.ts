/**
 * The kernel's outputs under load and faults, through Jupyter's own client (outputs_driver.py,
 * jupyter_client): floods of outputs from one cell and from many quick cells arrive in full and in
 * order, everything a cell causes arrives before its idle, and failures that used to end or
 * confuse the kernel (process.exit, a hostile thrown value) are reported in the cell's output.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { cellErrors } from "../../kernel/messages";
import * as PRELUDE from "../../kernel/prelude";
import { CLI, python, requireTools, sandbox } from "./harness";

interface Msg {
  msg_type: string;
  content: Record<string, any>;
}
interface Exchange {
  reply: Msg | null;
  iopub: Msg[];
}

let results: Record<string, any>;
let box: ReturnType<typeof sandbox>;

/** Runs outputs_driver.py's `scenarios` on a kernel installed in `sandbox`; what it saw. */
function drive(where: ReturnType<typeof sandbox>, scenarios: string[]): Record<string, any> {
  const out = join(where.root, "results.json");
  python([join(__dirname, "outputs_driver.py"), out, join(where.root, "kernel.log"), ...scenarios], { cwd: where.workDir, env: where.env });
  return JSON.parse(readFileSync(out, "utf8"));
}

before(() => {
  requireTools(["jupyter_client", "zmq"]);
  box = sandbox();
  results = drive(box, ["flood", "quick", "late", "proxy", "names", "exit"]);
});

const ofType = (exchange: Exchange, type: string) => exchange.iopub.filter((m) => m.msg_type === type).map((m) => m.content);
const texts = (exchange: Exchange) => ofType(exchange, "display_data").map((c) => c.data["text/plain"]);
const stdout = (exchange: Exchange) => ofType(exchange, "stream").filter((c) => c.name === "stdout").map((c) => c.text).join("");
const stderr = (exchange: Exchange) => ofType(exchange, "stream").filter((c) => c.name === "stderr").map((c) => c.text).join("");

/** busy first, idle last and once: nothing of the cell arrives after its idle. */
function assertWellFormed(exchange: Exchange, name: string): void {
  const states = exchange.iopub.filter((m) => m.msg_type === "status").map((m) => m.content.execution_state);
  assert.deepEqual(states, ["busy", "idle"], `${name}: status messages`);
  assert.equal(exchange.iopub[0].msg_type, "status", `${name}: busy comes first`);
  assert.equal(exchange.iopub.at(-1)!.msg_type, "status", `${name}: idle comes last, got ${exchange.iopub.at(-1)!.msg_type} after it`);
  assert.ok(exchange.reply, `${name}: no execute_reply`);
  assert.equal(typeof exchange.reply.content.execution_count, "number", `${name}: execute_reply without execution_count`);
}

const range = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe("kernel outputs under load (jupyter_client)", () => {
  test("one cell's 3000 displays and 3000 stream writes all arrive, in order, before its idle", () => {
    const flood: Exchange = results.flood;
    assertWellFormed(flood, "flood");
    assert.equal(flood.reply!.content.status, "ok");
    assert.deepEqual(texts(flood), range(3000, "d"));
    assert.equal(stdout(flood), range(3000, "s").join("\n") + "\n");
    // Each line is printed before its display, and the stream never overtakes the display before it.
    const order = flood.iopub.flatMap((m) => (m.msg_type === "display_data" ? [m.content.data["text/plain"]] : m.msg_type === "stream" ? m.content.text.trim().split("\n") : []));
    assert.deepEqual(order, range(3000, "").flatMap((i) => [`s${i}`, `d${i}`]));
    assert.deepEqual(ofType(flood, "execute_result").map((c) => c.data["text/plain"]), ["'flooded'"]);
    assertWellFormed(results.after_flood, "after the flood");
  });

  test("800 cells sent at once are each answered with an execution_count, their output and their idle", () => {
    const quick: Exchange[] = results.quick;
    assert.equal(quick.length, 800);
    const first = quick[0].reply!.content.execution_count;
    quick.forEach((exchange, i) => {
      assertWellFormed(exchange, `quick cell ${i}`);
      assert.equal(exchange.reply!.content.status, "ok");
      assert.equal(exchange.reply!.content.execution_count, first + i);
      assert.deepEqual(
        exchange.iopub.map((m) => m.msg_type),
        ["status", "execute_input", "stream", "execute_result", "status"],
      );
      assert.equal(stdout(exchange), `q${i}\n`);
      assert.equal(ofType(exchange, "execute_result")[0].data["text/plain"], String(i));
    });
  });

  test("`archlab run` executes a 300-cell notebook with every output", () => {
    const cells = Array.from({ length: 300 }, (_, i) => ({
      cell_type: "code",
      metadata: {},
      execution_count: null,
      outputs: [],
      source: `console.log('c${i}'); display({ [Symbol.for('Jupyter.display')]: () => ({ 'text/plain': 'p${i}' }) }); ${i}`,
    }));
    const notebook = { cells, metadata: { kernelspec: { name: "archlab", display_name: "archlab", language: "typescript" } }, nbformat: 4, nbformat_minor: 5 };
    const input = join(box.workDir, "long.ipynb");
    const output = join(box.workDir, "long.out.ipynb");
    writeFileSync(input, JSON.stringify(notebook));
    execFileSync(process.execPath, [CLI, "run", input, "--output", output, "--timeout", "120"], { cwd: box.workDir, env: box.env, timeout: 300_000 });
    const executed = JSON.parse(readFileSync(output, "utf8"));
    executed.cells.forEach((cell: any, i: number) => {
      const kinds = cell.outputs.map((o: any) => o.output_type);
      assert.deepEqual(kinds, ["stream", "display_data", "execute_result"], `cell ${i}`);
      assert.equal([cell.outputs[0].text].flat().join(""), `c${i}\n`);
      assert.equal([cell.outputs[1].data["text/plain"]].flat().join(""), `p${i}`);
      assert.equal(typeof cell.execution_count, "number");
    });
  });
});

describe("everything a cell causes arrives before its idle (jupyter_client)", () => {
  test("an un-awaited display of something rendered asynchronously", () => {
    const exchange: Exchange = results.async_display;
    assertWellFormed(exchange, "async display");
    assert.deepEqual(texts(exchange), ["late bundle"]);
    assert.equal(ofType(exchange, "execute_result")[0].data["text/plain"], "4");
  });

  test("an un-awaited display(diagram(LSTM)) shows the diagram in its cell", () => {
    const exchange: Exchange = results.diagram;
    assertWellFormed(exchange, "diagram");
    const displays = ofType(exchange, "display_data");
    assert.equal(displays.length, 1);
    assert.match(displays[0].data["image/svg+xml"] ?? displays[0].data["text/html"], /<svg/);
  });

  test("unhandled rejections during the cell are reported in the cell", () => {
    for (const [name, text] of [
      ["rejection", "nobody catches me"],
      ["rejection_timer", "rejected from a timer"],
    ]) {
      const exchange: Exchange = results[name];
      assertWellFormed(exchange, name);
      assert.match(stderr(exchange), new RegExp(`Unhandled promise rejection: Error: ${text}`), name);
    }
    assertWellFormed(results.after_late, "the next cell");
    assert.equal(stderr(results.after_late), "");
  });
});

describe("faults are reported in the cell (jupyter_client)", () => {
  test("a thrown value whose every property access throws is still an error with an execution_count", () => {
    for (const [name, exchange] of Object.entries(results.proxy as Record<string, Exchange>)) {
      assertWellFormed(exchange, name);
      assert.equal(exchange.reply!.content.status, "error", name);
      const errors = ofType(exchange, "error");
      assert.equal(errors.length, 1, `${name}: one error published`);
      assert.equal(typeof errors[0].ename, "string", name);
      assert.equal(typeof errors[0].evalue, "string", name);
      assert.ok(errors[0].traceback.every((line: unknown) => typeof line === "string"), name);
    }
    assert.equal(results.after_proxy.reply.content.status, "ok");
  });

  test("an unknown name close to names in archlab's scope lists them", () => {
    const hintOf = (exchange: Exchange) => {
      const error = ofType(exchange, "error")[0];
      const prefix = cellErrors.closeNames([]).replace(/\.$/, "");
      const line = error.traceback.find((l: string) => l.startsWith(prefix));
      return { error, names: line ? line.slice(prefix.length).replace(/\.$/, "").split(", ") : [] };
    };
    const prefix = hintOf(results.names_prefix);
    assert.match(prefix.error.evalue, /Cannot find name 'GRU_RESET'/);
    for (const name of ["GRU_RESET_AFTER", "GRU_RESET_BEFORE", "GRU_RESET_AFTER_HARD_SIGMOID"]) assert.ok(prefix.names.includes(name), `${name} in ${prefix.names}`);
    assert.ok(prefix.error.evalue.includes("GRU_RESET_AFTER"), "the evalue (what `archlab run` and nbclient report) names them too");
    const typo = hintOf(results.names_typo);
    assert.equal(typo.names[0], "gruResetAfter");
    for (const name of [...prefix.names, ...typo.names]) assert.equal(typeof (PRELUDE as Record<string, unknown>)[name] === "undefined", false, `${name} is in the prelude`);
    assert.deepEqual(hintOf(results.names_far).names, [], "no list for a name close to nothing");
  });

  test("process.exit(3) in a cell: the outputs printed before, an error naming it, then the kernel ends with code 3", () => {
    const exchange: Exchange = results.exit;
    assert.deepEqual(texts(exchange), range(2000, "x"));
    assert.equal(stdout(exchange), "before exit\n");
    const errors = ofType(exchange, "error");
    assert.equal(errors.length, 1);
    assert.equal(errors[0].evalue, cellErrors.processExit(3));
    assertWellFormed(exchange, "exit");
    assert.equal(exchange.reply!.content.status, "error");
    assert.equal(results.exit_alive, false);
    assert.equal(results.exit_code, 3);
  });
});

describe("process.exit called after its cell went idle (jupyter_client)", () => {
  test("says so in that cell's output, then the kernel ends with its status", () => {
    const later = drive(sandbox(), ["exit_later"]);
    const exchange: Exchange = later.exit_later;
    assert.equal(exchange.reply!.content.status, "ok");
    const afterIdle = exchange.iopub.slice(exchange.iopub.findIndex((m) => m.msg_type === "status" && m.content.execution_state === "idle") + 1);
    assert.deepEqual(afterIdle.map((m) => m.content.text), [`${cellErrors.processExit(4)}\n`]);
    assert.equal(later.exit_alive, false);
    assert.equal(later.exit_code, 4);
  });
});

describe("a cell that fills the JavaScript heap (jupyter_client)", () => {
  test("is told in its output and stopped before V8 would end the kernel; what it printed is kept", () => {
    const small = sandbox();
    small.env.NODE_OPTIONS = "--max-old-space-size=1024";
    const exchange: Exchange = drive(small, ["heap"]).heap;
    assertWellFormed(exchange, "heap");
    assert.equal(stdout(exchange), "before the hog\n");
    const warning = cellErrors.heapNearLimit(1, 2);
    assert.ok(stderr(exchange).startsWith(warning.slice(0, warning.indexOf("("))), stderr(exchange));
    assert.deepEqual(ofType(exchange, "error").map((e) => e.ename), ["Interrupted"]);
  });
});
