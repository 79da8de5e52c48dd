"""Interrupts, start-up and wire hardening of the installed archlab kernel, through Jupyter's own
client (jupyter_client), recorded as JSON for test/kernel/control.test.ts to assert on.

Usage: control.py OUT.json KERNEL_STDERR.log   (run with JUPYTER_DATA_DIR pointing at the install)
"""
import json
import os
import socket
import sys
import time
import uuid
from queue import Empty

import zmq
from jupyter_client.manager import KernelManager

out_path, log_path = sys.argv[1], sys.argv[2]
TIMEOUT = 120
BASE = {"silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False}


def drain(get, seconds, limit=10):
    """Every message arriving until `seconds` pass without one (or `limit` seconds in all)."""
    msgs = []
    deadline = time.time() + limit
    while time.time() < deadline:
        try:
            msgs.append(get(timeout=seconds))
        except Empty:
            break
    return msgs


def summary(msg):
    return {"msg_type": msg["msg_type"], "content": msg["content"], "parent": msg["parent_header"].get("msg_id")}


def heartbeat_answers(km, timeout_ms=2000):
    req = zmq.Context.instance().socket(zmq.REQ)
    req.linger = 0
    req.connect(f"{km.transport}://{km.ip}:{km.hb_port}")
    req.send(b"ping")
    answered = bool(req.poll(timeout_ms))
    req.close()
    return answered


def wait_for_port(km, port, timeout=TIMEOUT):
    """Waits until the kernel has bound `port` (a busy machine may take seconds to start a process)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection((km.ip, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"the kernel did not bind port {port}")


class Session:
    def __init__(self, log):
        self.km = KernelManager(kernel_name="archlab")
        self.km.start_kernel(stderr=log)
        # Ask kernel_info once the kernel listens: a kernel process that takes more than a second to
        # start gets jupyter_client's repeated requests all at once, whatever the kernel does.
        wait_for_port(self.km, self.km.shell_port)
        self.kc = self.km.blocking_client()
        self.kc.start_channels()
        started = time.time()
        self.kc.wait_for_ready(timeout=TIMEOUT)
        self.ready_seconds = time.time() - started
        self.iopub = []

    def send(self, channel, msg_type, content):
        msg = self.kc.session.msg(msg_type, content)
        getattr(self.kc, channel + "_channel").send(msg)
        return msg["header"]["msg_id"]

    def reply(self, channel, msg_id, timeout=TIMEOUT):
        deadline = time.time() + timeout
        while True:
            msg = getattr(self.kc, f"get_{channel}_msg")(timeout=max(0.1, deadline - time.time()))
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg["content"]

    def outputs(self, msg_id, timeout=TIMEOUT):
        """IOPub messages of one request, up to its idle (later ones stay in self.iopub)."""
        deadline = time.time() + timeout
        while not any(m["parent"] == msg_id and m["msg_type"] == "status" and m["content"]["execution_state"] == "idle" for m in self.iopub):
            self.iopub.append(summary(self.kc.get_iopub_msg(timeout=max(0.1, deadline - time.time()))))
        mine = [m for m in self.iopub if m["parent"] == msg_id]
        self.iopub = [m for m in self.iopub if m["parent"] != msg_id]
        return mine

    def execute(self, code):
        msg_id = self.send("shell", "execute_request", {**BASE, "code": code})
        return {"reply": self.reply("shell", msg_id), "iopub": self.outputs(msg_id)}

    def interrupted(self, code, how):
        """Runs `code`, interrupts it after 1.5 s by `how`, then runs a quiet cell after it."""
        msg_id = self.send("shell", "execute_request", {**BASE, "code": code})
        time.sleep(1.5)
        result = {}
        if how == "message":
            result["interrupt_reply"] = self.reply("control", self.send("control", "interrupt_request", {}), timeout=30)
        else:
            self.km.interrupt_kernel()
        result["reply"] = self.reply("shell", msg_id, timeout=30)
        result["iopub"] = self.outputs(msg_id)
        result["next"] = self.execute("await new Promise((r) => setTimeout(r, 500)); 'next cell'")
        # Anything the interrupted cell still sends after its idle is a stray.
        result["late"] = [m for m in self.iopub + [summary(m) for m in drain(self.kc.get_iopub_msg, 1)] if m["parent"] == msg_id]
        result["alive"] = self.km.is_alive()
        return result

    def close(self):
        self.kc.stop_channels()
        if self.km.has_kernel:
            self.km.shutdown_kernel(now=True)


def peak_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(line for line in f if line.startswith("VmHWM:")).split()[1])


results = {}
with open(log_path, "w") as log:
    s = Session(log)
    try:
        results["ready_seconds"] = s.ready_seconds
        # wait_for_ready sends kernel_info every second until answered: nothing else may follow its one reply.
        results["after_ready_shell"] = [summary(m) for m in drain(s.kc.get_shell_msg, 3)]
        results["after_ready_iopub"] = [summary(m) for m in drain(s.kc.get_iopub_msg, 0.5)]

        codes = json.loads(os.environ["IS_COMPLETE_SAMPLES"])
        results["is_complete"] = {code: s.reply("shell", s.send("shell", "is_complete_request", {"code": code})) for code in codes}

        async_loop = "for (let i = 0; ; i++) { await new Promise((r) => setTimeout(r, 10)); console.log('tick', i); }"
        results["async_loop_message"] = s.interrupted(async_loop, "message")
        results["async_loop_signal"] = s.interrupted(async_loop, "signal")
        interval = "setInterval(() => console.log('interval tick'), 10); await new Promise(() => {})"
        results["interval_signal"] = s.interrupted(interval, "signal")
        pid = s.execute("process.pid")["iopub"]
        results["microtask_loop_signal"] = s.interrupted("while (true) { await null; }", "signal")
        results["microtask_after_await"] = s.interrupted("await new Promise((r) => setTimeout(r, 100)); while (true) { await null; }", "signal")
        results["sync_after_await"] = s.interrupted("await new Promise((r) => setTimeout(r, 100)); while (true) {}", "signal")
        results["pid_before"] = [m for m in pid if m["msg_type"] == "execute_result"][0]["content"]["data"]["text/plain"]
        after = s.execute("process.pid")["iopub"]
        results["pid_after"] = [m for m in after if m["msg_type"] == "execute_result"][0]["content"]["data"]["text/plain"]

        # A signed message sent twice: the copy is dropped (jupyter_client's Session rejects it too).
        raw = zmq.Context.instance().socket(zmq.DEALER)
        raw.linger = 0
        raw.connect(f"{s.km.transport}://{s.km.ip}:{s.km.shell_port}")
        frames = s.kc.session.serialize(s.kc.session.msg("execute_request", {**BASE, "code": "(globalThis as any).runs = ((globalThis as any).runs ?? 0) + 1"}))
        raw.send_multipart(frames)
        time.sleep(1.0)
        raw.send_multipart(frames)
        time.sleep(1.0)
        results["replay_runs"] = s.execute("(globalThis as any).runs")

        # A 300 MB frame on shell: ZeroMQ drops it before the kernel buffers it.
        kernel_pid = int(results["pid_after"])
        results["rss_before_kb"] = peak_rss_kb(kernel_pid)
        raw.send_multipart([b"<IDS|MSG>", b"0" * 64, b"{}", b"{}", b"{}", b"x" * (300 * 2**20)])
        time.sleep(3.0)
        raw.close()
        results["rss_after_kb"] = peak_rss_kb(kernel_pid)
        results["after_big_message"] = s.execute("'still serving'")
    finally:
        s.close()

    # A kernel whose thread is blocked outside JavaScript (a synchronous child process the
    # interrupt does not reach) is ended after --interrupt-timeout, and its heartbeat goes silent.
    spec_file = os.path.join(os.environ["JUPYTER_DATA_DIR"], "kernels", "archlab", "kernel.json")
    with open(spec_file) as f:
        spec = json.load(f)
    spec["argv"] += ["--interrupt-timeout", "2"]
    with open(spec_file, "w") as f:
        json.dump(spec, f)
    s = Session(log)
    try:
        s.execute("'ready'")  # an interrupt while the kernel still starts is not one of a cell
        blocked = "require('child_process').spawnSync('sleep', ['20'], { detached: true }); 'woke'"
        msg_id = s.send("shell", "execute_request", {**BASE, "code": blocked})
        time.sleep(1.5)
        results["blocked_heartbeat_before"] = heartbeat_answers(s.km)
        s.km.interrupt_kernel()
        deadline = time.time() + 15
        while s.km.is_alive() and time.time() < deadline:
            time.sleep(0.2)
        results["blocked_alive_after"] = s.km.is_alive()
        results["blocked_heartbeat_after"] = heartbeat_answers(s.km)
    finally:
        s.close()

with open(out_path, "w") as f:
    json.dump(results, f, indent=1)
