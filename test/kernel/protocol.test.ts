/**
 * The installed archlab kernel, driven by Jupyter's own client (driver.py, jupyter_client) from a
 * folder outside the project: every message of the protocol the kernel answers.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { cellErrors } from "../../kernel/messages";
import { python, requireTools, ROOT, sandbox } from "./harness";

interface Msg {
  msg_type: string;
  content: Record<string, any>;
  metadata?: Record<string, any>;
}
interface Exchange {
  reply?: Msg;
  iopub: Msg[];
}

let results: Record<string, any>;
let kernelLog: string;
let workDir: string;

before(() => {
  requireTools(["jupyter_client", "zmq"]);
  const box = sandbox();
  workDir = box.workDir;
  const out = join(box.root, "results.json");
  const log = join(box.root, "kernel.log");
  python([join(__dirname, "driver.py"), out, log], { cwd: box.workDir, env: box.env });
  results = JSON.parse(readFileSync(out, "utf8"));
  kernelLog = readFileSync(log, "utf8");
});

const cell = (name: string): Exchange => results.cells[name];
const outputs = (exchange: Exchange, type: string) => exchange.iopub.filter((m) => m.msg_type === type).map((m) => m.content);
const exchanges = (): [string, Exchange][] => [
  ...Object.entries(results.cells as Record<string, Exchange>),
  ...Object.entries(results).filter(([, v]) => v && Array.isArray((v as Exchange).iopub)),
] as [string, Exchange][];

describe("the archlab kernel under jupyter_client", () => {
  test("runs in the folder it was started from, outside the project", () => {
    assert.equal(results.cwd, workDir);
    assert.ok(!workDir.startsWith(ROOT));
  });

  test("kernel_info reports the true versions, on shell and control", () => {
    const pkg = (name: string) => JSON.parse(readFileSync(require.resolve(`${name}/package.json`, { paths: [ROOT] }), "utf8")).version;
    for (const exchange of [results.kernel_info, results.kernel_info_control] as Exchange[]) {
      const info = exchange.reply!.content;
      assert.equal(exchange.reply!.msg_type, "kernel_info_reply");
      assert.equal(info.implementation, "archlab");
      assert.equal(info.implementation_version, JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
      assert.equal(info.language_info.name, "typescript");
      assert.equal(info.language_info.version, pkg("@tslab/typescript-for-tslab"));
      assert.deepEqual(info.archlab_versions, {
        archlab: info.implementation_version,
        tslab: pkg("tslab"),
        typescript: pkg("@tslab/typescript-for-tslab"),
        node: process.versions.node,
      });
    }
  });

  test("every request is framed by busy … idle with itself as parent", () => {
    for (const [name, exchange] of exchanges()) {
      const states = exchange.iopub.filter((m) => m.msg_type === "status").map((m) => m.content.execution_state);
      assert.deepEqual(states, ["busy", "idle"], name);
      assert.equal(exchange.iopub[0].msg_type, "status", name);
      assert.equal(exchange.iopub.at(-1)!.msg_type, "status", name);
    }
  });

  test("a cell's value is an execute_result with the execution count, after execute_input", () => {
    const value = cell("value");
    assert.deepEqual(value.reply!.content.status, "ok");
    const count = value.reply!.content.execution_count;
    assert.deepEqual(outputs(value, "execute_input"), [{ code: "1 + 1", execution_count: count }]);
    assert.deepEqual(outputs(value, "execute_result"), [{ execution_count: count, data: { "text/plain": "2" }, metadata: {} }]);
    assert.deepEqual(outputs(value, "stream"), [], "the value is not printed to stdout");
    assert.deepEqual(outputs(cell("string"), "execute_result")[0].data, { "text/plain": "'text'" });
    assert.deepEqual(outputs(cell("undefined"), "execute_result"), [], "no result for a declaration");
  });

  test("execution counts go up by one per stored cell; silent cells neither count nor publish", () => {
    const counts = Object.values(results.cells as Record<string, Exchange>).map((c) => c.reply!.content.execution_count);
    assert.deepEqual(counts, counts.map((_, i) => i + 1));
    const silent: Exchange = results.silent;
    assert.equal(silent.reply!.content.execution_count, counts.at(-1));
    assert.deepEqual(silent.iopub.map((m) => m.msg_type), ["status", "status"]);
  });

  test("stdout and stderr are streams; the value still comes last as the result", () => {
    const c = cell("stdout");
    assert.deepEqual(outputs(c, "stream"), [{ name: "stdout", text: "hello\n" }, { name: "stderr", text: "oops\n" }]);
    assert.equal(c.iopub.at(-2)!.msg_type, "execute_result");
  });

  test("the library and the kernel's helpers are in scope, with types, no import needed", () => {
    assert.equal(outputs(cell("scope"), "execute_result")[0].data["text/plain"], "[ 'function', 'function', 'function', 'object', 'object' ]");
    assert.equal(outputs(cell("typed_scope"), "execute_result")[0].data["text/plain"], "'typed'");
    assert.equal(outputs(cell("node_types"), "execute_result")[0].data["text/plain"], "true");
    assert.ok(!kernelLog.includes(cellErrors.startup("")), kernelLog);
  });

  test("a displayable last value is published as its whole bundle, sync or async", () => {
    assert.deepEqual(outputs(cell("rich"), "execute_result")[0].data, { "text/plain": "plain", "text/html": "<b>rich</b>" });
    assert.deepEqual(outputs(cell("rich_async"), "execute_result")[0].data, { "text/plain": "later", "text/markdown": "*later*" });
  });

  test("display sends one multi-mime message, updates by display id, and clears output", () => {
    const c = cell("display");
    const kinds = c.iopub.map((m) => m.msg_type).filter((t) => t !== "status" && t !== "execute_input");
    assert.deepEqual(kinds, ["display_data", "update_display_data", "clear_output"]);
    assert.deepEqual(outputs(c, "display_data")[0], {
      data: { "text/plain": "one", "text/html": "<i>one</i>", "image/svg+xml": "<svg/>" },
      metadata: {},
      transient: { display_id: "slot" },
    });
    assert.deepEqual(outputs(c, "update_display_data")[0], { data: { "text/plain": "two" }, metadata: {}, transient: { display_id: "slot" } });
    assert.deepEqual(outputs(c, "clear_output")[0], { wait: true });
    const last = cell("display_last");
    assert.deepEqual(outputs(last, "display_data")[0].data, { "text/plain": "shown" });
    assert.deepEqual(outputs(last, "execute_result"), [], "display(x) as the last line shows x once, no Promise");
  });

  test("a thrown error is an error message with ename, evalue and traceback, and in the reply", () => {
    const c = cell("throws");
    const [error] = outputs(c, "error");
    assert.equal(error.ename, "RangeError");
    assert.equal(error.evalue, "out of range");
    assert.equal(error.traceback[0], "RangeError: out of range");
    assert.ok(!error.traceback.join("\n").includes("tslab"), "no kernel frames");
    assert.deepEqual({ ...c.reply!.content, execution_count: undefined }, { status: "error", execution_count: undefined, ...error });
    assert.deepEqual(outputs(cell("throws_value"), "error")[0], { ename: "Uncaught", evalue: "42", traceback: ["Uncaught 42"] });
  });

  test("a type error shows the TypeScript diagnostic with line and column in the cell", () => {
    const [error] = outputs(cell("type_error"), "error");
    assert.equal(error.ename, "TSError");
    assert.equal(error.evalue, "2:7 TS2322: Type 'string' is not assignable to type 'number'.");
    assert.deepEqual(error.traceback, [
      "cell 2:7: error TS2322: Type 'string' is not assignable to type 'number'.",
      "  2 | const n: number = 'not a number';",
      "    |       ^",
    ]);
    assert.deepEqual(outputs(cell("type_error"), "stream"), [], "the diagnostic is not printed twice");
  });

  test("a display method that throws or returns no bundle is an error naming the problem; the kernel lives on", () => {
    const [throws] = outputs(cell("display_throws"), "error");
    assert.equal(throws.evalue, cellErrors.display("an object", "broken display"));
    const [junk] = outputs(cell("display_junk"), "error");
    assert.equal(junk.ename, "TypeError");
    assert.match(junk.evalue, /returned number, not a mime bundle/);
    assert.equal(outputs(cell("alive"), "execute_result")[0].data["text/plain"], "'still alive'");
    assert.equal(outputs(cell("persist_2"), "execute_result")[0].data["text/plain"], "42", "state survives errors");
  });

  test("history_request answers tail, range (with outputs) and search", () => {
    const count = cell("persist_2").reply!.content.execution_count;
    assert.deepEqual(results.history_tail.reply.content.history, [
      [1, count - 1, "let carried = 41"],
      [1, count, "carried + 1"],
    ]);
    assert.deepEqual(results.history_range.reply.content.history, [
      [1, 1, ["1 + 1", "2"]],
      [1, 2, ["'text'", "'text'"]],
    ]);
    assert.deepEqual(results.history_search.reply.content.history, [[1, 4, "console.log('hello'); console.error('oops'); 7"]]);
  });

  test("complete, inspect and is_complete come from tslab's type-aware services", () => {
    const complete = results.complete.reply.content;
    assert.equal(complete.status, "ok");
    assert.ok(complete.matches.includes("LSTM"), complete.matches.join());
    assert.deepEqual([complete.cursor_start, complete.cursor_end], [0, 3]);
    assert.match(results.inspect.reply.content.data["text/plain"], /function display\(value: unknown/);
    assert.deepEqual(results.is_complete.reply.content, { status: "incomplete", indent: "  " });
  });

  test("comms: a target registered in a cell gets the frontend's comm, messages both ways, close", () => {
    const opened = outputs(results.comm_open, "comm_msg")[0];
    assert.deepEqual(opened.data, { opened: { hello: 1 } });
    assert.equal(results.comm_info.reply.msg_type, "comm_info_reply");
    assert.deepEqual(Object.values(results.comm_info.reply.content.comms), [{ target_name: "echo" }]);
    assert.deepEqual(outputs(results.comm_msg, "comm_msg")[0].data, { echo: { ping: 2 } });
    assert.deepEqual(outputs(results.comm_close, "stream")[0], { name: "stdout", text: "closed\n" });
    assert.deepEqual(results.comm_info_after.reply.content.comms, {});
    assert.equal(outputs(results.comm_unknown_target, "comm_close").length, 1, "a comm for an unknown target is closed");
    const fromKernel = results.comm_from_kernel.iopub.map((m: Msg) => m.msg_type).filter((t: string) => t.startsWith("comm_"));
    assert.deepEqual(fromKernel, ["comm_open", "comm_msg", "comm_close"]);
    const sent = results.comm_from_kernel.iopub.find((m: Msg) => m.msg_type === "comm_msg");
    assert.deepEqual(sent.metadata, { version: "2.1.0" }, "comm metadata is the message's metadata, as ipykernel sends it");
    assert.deepEqual(sent.content.data, { y: 2 });
    assert.ok(!("metadata" in sent.content));
  });

  test("stop_on_error aborts only the requests already queued; a later request runs", () => {
    for (const key of ["stop_on_error_async", "stop_on_error_sync"]) {
      const { replies, later } = results[key];
      assert.deepEqual(replies.map((r: any) => r.status), ["error", "aborted", "aborted"], key);
      assert.equal(later.status, "ok", key);
    }
    const { replies } = results.stop_on_error_false;
    assert.deepEqual(replies.map((r: any) => r.status), ["error", "ok", "ok"]);
  });

  test("interrupt_request on control stops an awaiting cell; SIGINT stops a busy loop; the kernel lives on", () => {
    assert.deepEqual(results.interrupt_message.reply, { msg_type: "interrupt_reply", content: { status: "ok" } });
    for (const key of ["interrupted_async", "interrupted_sync"]) {
      assert.equal(results[key].status, "error", key);
      assert.equal(results[key].ename, "Interrupted", key);
    }
    assert.ok(results.interrupt_async_seconds < 5 && results.interrupt_sync_seconds < 5);
    assert.equal(results.after_interrupts.reply.content.status, "ok");
  });

  test("the heartbeat answers while a cell keeps the event loop busy, and after an interrupt of the process group", () => {
    for (const key of ["heartbeat_while_busy", "heartbeat_after_interrupts"]) {
      assert.equal(results[key].echoed, results[key].sent, key);
    }
  });

  test("malformed and wrongly signed messages are dropped and logged, never run", () => {
    assert.equal(outputs(results.after_bad_messages, "execute_result")[0].data["text/plain"], "'undefined'");
    for (const problem of ["wrong HMAC signature", "the header is not valid JSON", "1 of the 4 JSON parts", "no <IDS|MSG> delimiter"]) {
      assert.ok(kernelLog.includes(problem), `log mentions ${problem}:\n${kernelLog}`);
    }
  });

  test("shutdown with restart: the reply says restart, the process ends, a fresh kernel starts", () => {
    assert.deepEqual(results.shutdown_reply, { msg_type: "shutdown_reply", content: { status: "ok", restart: true } });
    assert.equal(results.exited_after_shutdown, true);
    const fresh = results.after_restart.reply.content;
    assert.equal(fresh.execution_count, 1);
    assert.match(fresh.evalue, /Cannot find name 'carried'/);
    assert.ok(!kernelLog.includes("terminate called"), kernelLog);
  });
});
