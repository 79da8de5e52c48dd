/**
 * Interrupts, start-up and wire hardening of the installed archlab kernel, driven by Jupyter's own
 * client (control.py, jupyter_client) as JupyterLab drives it; and the `archlab kernel` command's
 * refusal to run unauthenticated.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { cellErrors, kernelLog, wireErrors } from "../../kernel/messages";
import { newConnectionInfo } from "../../kernel/wire";
import { CLI, python, requireTools, sandbox } from "./harness";

interface Msg {
  msg_type: string;
  content: Record<string, any>;
  parent?: string;
}
interface Interrupted {
  interrupt_reply?: Record<string, any>;
  reply: Record<string, any>;
  iopub: Msg[];
  next: { reply: Record<string, any>; iopub: Msg[] };
  late: Msg[];
  alive: boolean;
}

/** Code → the status Jupyter's consoles must get (and the indent, for incomplete code). */
const IS_COMPLETE: Record<string, { status: string; indent?: string }> = {
  "const x = 1;": { status: "complete" },
  "let s = `done ${1}`": { status: "complete" },
  "// only a comment": { status: "complete" },
  "const = ;": { status: "invalid" },
  "x = 1)": { status: "invalid" },
  "}": { status: "invalid" },
  "let s = 'open string": { status: "invalid" },
  'let s = "open string': { status: "invalid" },
  "function f() {": { status: "incomplete", indent: "  " },
  "if (x) {\n  f(1,": { status: "incomplete", indent: "    " },
  "let t = `open template": { status: "incomplete", indent: "" },
  "let t = `${": { status: "incomplete", indent: "" },
  "/* open comment": { status: "incomplete", indent: "" },
  "let s = 'continued \\": { status: "incomplete", indent: "" },
  "1 +": { status: "incomplete", indent: "" },
};

let results: Record<string, any>;
let kernelLogText: string;

before(() => {
  requireTools(["jupyter_client", "zmq"]);
  const box = sandbox();
  const out = join(box.root, "results.json");
  const log = join(box.root, "kernel.log");
  const env = { ...box.env, IS_COMPLETE_SAMPLES: JSON.stringify(Object.keys(IS_COMPLETE)) };
  python([join(__dirname, "control.py"), out, log], { cwd: box.workDir, env });
  results = JSON.parse(readFileSync(out, "utf8"));
  kernelLogText = readFileSync(log, "utf8");
});

const streams = (msgs: Msg[]) => msgs.filter((m) => m.msg_type === "stream");

describe("the archlab kernel's control under jupyter_client", () => {
  test("kernel_info is answered before TypeScript loads: wait_for_ready gets one reply, nothing stray follows", () => {
    assert.deepEqual(results.after_ready_shell, [], "no extra kernel_info_reply (jupyter_client resends every second until answered)");
    assert.deepEqual(results.after_ready_iopub, [], "no stray status after wait_for_ready");
    console.log(`wait_for_ready took ${results.ready_seconds.toFixed(2)} s`);
  });

  test("is_complete answers complete, incomplete (with indent) and invalid from TypeScript's parser", () => {
    for (const [code, expected] of Object.entries(IS_COMPLETE)) assert.deepEqual(results.is_complete[code], expected, code);
  });

  const assertStopped = (key: string, { byMessage }: { byMessage: boolean }) => {
    const run: Interrupted = results[key];
    if (byMessage) assert.deepEqual(run.interrupt_reply, { status: "ok" }, key);
    assert.equal(run.reply.status, "error", key);
    assert.equal(run.reply.ename, "Interrupted", key);
    assert.equal(run.reply.evalue, cellErrors.interrupted, key);
    assert.equal(run.next.reply.status, "ok", key);
    assert.deepEqual(streams(run.next.iopub), [], `${key}: no output of the interrupted cell in the next cell`);
    assert.deepEqual(run.next.iopub.find((m) => m.msg_type === "execute_result")?.content.data, { "text/plain": "'next cell'" }, key);
    assert.deepEqual(run.late, [], `${key}: nothing from the interrupted cell after its idle`);
    assert.equal(run.alive, true, key);
  };

  test("an interrupt_request stops an async loop: its timers no longer fire, its output ends", () => {
    assertStopped("async_loop_message", { byMessage: true });
    assert.ok(streams(results.async_loop_message.iopub).length > 0, "the loop did print before the interrupt");
  });

  test("a SIGINT to the process group (Jupyter's interrupt) stops an async loop and an interval", () => {
    assertStopped("async_loop_signal", { byMessage: false });
    assertStopped("interval_signal", { byMessage: false });
  });

  test("a SIGINT stops code that never yields to the event loop (microtask loops, a busy loop after await); the same kernel serves on", () => {
    assertStopped("microtask_loop_signal", { byMessage: false });
    assertStopped("microtask_after_await", { byMessage: false });
    assertStopped("sync_after_await", { byMessage: false });
    assert.equal(results.pid_after, results.pid_before, "not restarted: state kept");
    assert.ok(kernelLogText.includes(kernelLog.stoppingStuckCode), kernelLogText);
  });

  test("a kernel that stays unresponsive after an interrupt is ended with a log line, and its heartbeat goes silent", () => {
    assert.equal(results.blocked_heartbeat_before, true, "the heartbeat answers while a cell runs");
    assert.equal(results.blocked_alive_after, false, "the kernel process was ended");
    assert.equal(results.blocked_heartbeat_after, false, "the heartbeat no longer answers");
    assert.ok(kernelLogText.includes(kernelLog.endingUnresponsive(2)), kernelLogText);
  });

  test("a replayed signed message is dropped: it runs once", () => {
    assert.deepEqual(results.replay_runs.iopub.find((m: Msg) => m.msg_type === "execute_result").content.data, { "text/plain": "1" });
    assert.ok(kernelLogText.includes(wireErrors.replayed), kernelLogText);
  });

  test("a 300 MB frame is dropped by ZeroMQ before the kernel buffers it", () => {
    const grownMb = (results.rss_after_kb - results.rss_before_kb) / 1024;
    assert.ok(grownMb < 100, `peak RSS grew by ${grownMb.toFixed(0)} MB`);
    assert.equal(results.after_big_message.reply.status, "ok");
  });
});

describe("archlab kernel without a key", () => {
  test("refuses to start, saying why and how to allow it", async () => {
    const box = sandbox();
    const file = join(box.root, "nokey.json");
    writeFileSync(file, JSON.stringify({ ...(await newConnectionInfo()), key: "" }));
    const run = spawnSync(process.execPath, [CLI, "kernel", "--connection-file", file], { encoding: "utf8", timeout: 60_000 });
    assert.equal(run.status, 1, run.stderr);
    assert.ok(run.stderr.includes(wireErrors.noKey(file)), run.stderr);
  });

  test("runs with --allow-no-key, warning in its log", async () => {
    const box = sandbox();
    const file = join(box.root, "nokey.json");
    writeFileSync(file, JSON.stringify({ ...(await newConnectionInfo()), key: "" }));
    const run = spawnSync(process.execPath, [CLI, "kernel", "--connection-file", file, "--allow-no-key"], { encoding: "utf8", timeout: 5_000 });
    assert.equal(run.signal, "SIGTERM", "still running when stopped");
    assert.ok(run.stderr.includes(wireErrors.runningWithoutKey(file)), run.stderr);
  });
});
