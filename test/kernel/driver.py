"""Talks to the installed archlab kernel with Jupyter's own client (jupyter_client) and prints
what it saw as JSON, for test/kernel/protocol.test.ts to assert on.

Usage: driver.py OUT.json KERNEL_STDERR.log   (run with JUPYTER_DATA_DIR pointing at the install)
Each scenario records the request's reply and every IOPub message whose parent is that request.
"""
import json
import os
import sys
import time
import uuid

import zmq
from jupyter_client.manager import KernelManager

out_path, log_path = sys.argv[1], sys.argv[2]
TIMEOUT = 120


def ping_heartbeat(s, timeout_ms=2000):
    """Pings the heartbeat channel with a raw REQ socket; the echoed bytes, or None if no answer came."""
    req = zmq.Context.instance().socket(zmq.REQ)
    req.linger = 0
    req.connect(f"{s.km.transport}://{s.km.ip}:{s.km.hb_port}")
    payload = uuid.uuid4().hex.encode()
    req.send(payload)
    answered = req.poll(timeout_ms)
    echoed = req.recv() if answered else None
    req.close()
    return {"sent": payload.decode(), "echoed": echoed.decode() if echoed is not None else None}


class Session:
    """One kernel; requests on any channel, replies and IOPub messages matched by parent id."""

    def __init__(self):
        self.km = KernelManager(kernel_name="archlab")
        self.log = open(log_path, "w")
        started = time.time()
        self.km.start_kernel(stderr=self.log)
        self.kc = self.km.blocking_client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=TIMEOUT)
        self.ready_seconds = time.time() - started
        self.iopub = {}
        self.replies = {}
        self.order = []

    def send(self, channel, msg_type, content, **header):
        msg = self.kc.session.msg(msg_type, content)
        getattr(self.kc, channel + "_channel").send(msg)
        return msg["header"]["msg_id"]

    def reply(self, channel, msg_id, timeout=TIMEOUT):
        deadline = time.time() + timeout
        while msg_id not in self.replies:
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError(f"no reply to {msg_id} on {channel}")
            try:
                msg = getattr(self.kc, f"get_{channel}_msg")(timeout=min(left, 1))
            except Exception:
                continue
            self.replies[msg["parent_header"].get("msg_id")] = msg
        msg = self.replies.pop(msg_id)
        return {"msg_type": msg["msg_type"], "content": msg["content"]}

    def outputs(self, msg_id, timeout=TIMEOUT):
        """IOPub messages of one request, up to and including its idle status."""
        deadline = time.time() + timeout
        while not any(m["msg_type"] == "status" and m["content"]["execution_state"] == "idle" for m in self.iopub.get(msg_id, [])):
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError(f"no idle for {msg_id}")
            try:
                msg = self.kc.get_iopub_msg(timeout=min(left, 1))
            except Exception:
                continue
            self.iopub.setdefault(msg["parent_header"].get("msg_id"), []).append(msg)
            self.order.append(msg["msg_type"])
        return [{"msg_type": m["msg_type"], "content": m["content"], "metadata": m["metadata"]} for m in self.iopub[msg_id]]

    def request(self, channel, msg_type, content):
        msg_id = self.send(channel, msg_type, content)
        reply = self.reply(channel, msg_id)
        return {"reply": reply, "iopub": self.outputs(msg_id)}

    def notify(self, msg_type, content):
        """A message without a reply (comm_open, comm_msg, comm_close)."""
        return {"iopub": self.outputs(self.send("shell", msg_type, content))}

    def execute(self, code, **options):
        return self.request("shell", "execute_request", {"code": code, "silent": False, "store_history": True,
                                                         "user_expressions": {}, "allow_stdin": False, **options})

    def close(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)
        self.log.close()


results = {}
s = Session()
try:
    results["ready_seconds"] = s.ready_seconds
    results["cwd"] = os.getcwd()
    results["kernel_info"] = s.request("shell", "kernel_info_request", {})
    results["kernel_info_control"] = s.request("control", "kernel_info_request", {})

    cells = {
        "value": "1 + 1",
        "string": "'text'",
        "undefined": "let quiet = 3",
        "stdout": "console.log('hello'); console.error('oops'); 7",
        "scope": "[typeof display, typeof clearOutput, typeof format, typeof comms, typeof LSTM]",
        "typed_scope": "const bundle: MimeBundle = { 'text/plain': 'typed' }; bundle['text/plain']",
        "node_types": "process.version.startsWith('v') && typeof Buffer.from('x') === 'object'",
        "rich": "({ [Symbol.for('Jupyter.display')]: () => ({ 'text/plain': 'plain', 'text/html': '<b>rich</b>' }) })",
        "rich_async": "({ async [Symbol.for('Jupyter.display')]() { return { 'text/plain': 'later', 'text/markdown': '*later*' }; } })",
        "display": "await display({ [Symbol.for('Jupyter.display')]: () => ({ 'text/plain': 'one', 'text/html': '<i>one</i>', 'image/svg+xml': '<svg/>' }) }, { id: 'slot' });"
                   "await display({ [Symbol.for('Jupyter.display')]: () => ({ 'text/plain': 'two' }) }, { id: 'slot', update: true });"
                   "clearOutput({ wait: true });",
        "display_last": "display('shown')",
        "throws": "throw new RangeError('out of range')",
        "throws_value": "throw 42",
        "type_error": "const ok = 1;\nconst n: number = 'not a number';",
        "display_throws": "({ [Symbol.for('Jupyter.display')]() { throw new Error('broken display'); } })",
        "display_junk": "({ [Symbol.for('Jupyter.display')]: () => 42 })",
        "alive": "'still alive'",
        "persist_1": "let carried = 41",
        "persist_2": "carried + 1",
    }
    results["cells"] = {name: s.execute(code) for name, code in cells.items()}
    results["silent"] = s.execute("'silent'", silent=True)

    results["history_tail"] = s.request("shell", "history_request", {"hist_access_type": "tail", "n": 2, "output": False, "raw": True})
    results["history_range"] = s.request("shell", "history_request", {"hist_access_type": "range", "session": 0, "start": 1, "stop": 3, "output": True, "raw": True})
    results["history_search"] = s.request("shell", "history_request", {"hist_access_type": "search", "pattern": "*console*", "output": False, "raw": True})

    results["complete"] = s.request("shell", "complete_request", {"code": "LST", "cursor_pos": 3})
    results["inspect"] = s.request("shell", "inspect_request", {"code": "display", "cursor_pos": 3, "detail_level": 0})
    results["is_complete"] = s.request("shell", "is_complete_request", {"code": "function f() {"})

    # Comms: a target registered from a cell, a frontend opening a comm, messages both ways, closing.
    results["comm_register"] = s.execute(
        "comms.registerTarget('echo', (comm, open) => {"
        " comm.send({ opened: open.data });"
        " comm.onMsg((msg) => comm.send({ echo: msg.data }));"
        " comm.onClose(() => console.log('closed'));"
        "})")
    comm_id = uuid.uuid4().hex
    results["comm_open"] = s.notify("comm_open", {"comm_id": comm_id, "target_name": "echo", "data": {"hello": 1}})
    results["comm_info"] = s.request("shell", "comm_info_request", {"target_name": "echo"})
    results["comm_msg"] = s.notify("comm_msg", {"comm_id": comm_id, "data": {"ping": 2}})
    results["comm_close"] = s.notify("comm_close", {"comm_id": comm_id, "data": {}})
    results["comm_info_after"] = s.request("shell", "comm_info_request", {})
    results["comm_unknown_target"] = s.notify("comm_open", {"comm_id": uuid.uuid4().hex, "target_name": "nobody", "data": {}})
    results["comm_from_kernel"] = s.execute("const c = comms.open('frontend.target', { x: 1 }); c.send({ y: 2 }, { metadata: { version: '2.1.0' } }); c.close(); c.id")


    def batch(first_code, stop_on_error):
        """Sends a failing cell and two more at once, then (after the replies) one more."""
        base = {"silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False}
        ids = [s.send("shell", "execute_request", {**base, "code": first_code, "stop_on_error": stop_on_error}),
               s.send("shell", "execute_request", {**base, "code": "'second'"}),
               s.send("shell", "execute_request", {**base, "code": "'third'"})]
        replies = [s.reply("shell", i)["content"] for i in ids]
        for i in ids:
            s.outputs(i)
        later = s.execute("'after the error reply'")
        return {"replies": replies, "later": later["reply"]["content"]}


    async_failure = "await new Promise((r) => setTimeout(r, 300)); throw new Error('fails late')"
    sync_failure = "for (const t = Date.now(); Date.now() - t < 300; ); throw new Error('fails busy')"
    results["stop_on_error_async"] = batch(async_failure, True)
    results["stop_on_error_sync"] = batch(sync_failure, True)
    results["stop_on_error_false"] = batch(async_failure, False)

    # Interrupts: a message on the control channel stops an awaiting cell; SIGINT stops a busy loop.
    pending = s.send("shell", "execute_request", {"code": "await new Promise((r) => setTimeout(r, 60000))", "silent": False,
                                                   "store_history": True, "user_expressions": {}, "allow_stdin": False})
    time.sleep(1.0)
    started = time.time()
    results["interrupt_message"] = s.request("control", "interrupt_request", {})
    results["interrupted_async"] = s.reply("shell", pending)["content"]
    results["interrupt_async_seconds"] = time.time() - started
    s.outputs(pending)
    pending = s.send("shell", "execute_request", {"code": "while (true) {}", "silent": False,
                                                   "store_history": True, "user_expressions": {}, "allow_stdin": False})
    time.sleep(1.5)
    results["heartbeat_while_busy"] = ping_heartbeat(s)
    started = time.time()
    s.km.interrupt_kernel()  # a signal to the kernel's whole process group
    results["interrupted_sync"] = s.reply("shell", pending)["content"]
    results["interrupt_sync_seconds"] = time.time() - started
    s.outputs(pending)
    results["after_interrupts"] = s.execute("'alive after interrupts'")
    results["heartbeat_after_interrupts"] = ping_heartbeat(s)

    # Bad input on the wire: each is dropped and logged; the kernel keeps answering.
    raw = zmq.Context.instance().socket(zmq.DEALER)
    raw.connect(f"{s.km.transport}://{s.km.ip}:{s.km.shell_port}")
    header = json.dumps({"msg_id": uuid.uuid4().hex, "msg_type": "execute_request", "session": "x", "username": "x",
                         "date": "2024-01-01T00:00:00Z", "version": "5.3"}).encode()
    content = json.dumps({"code": "globalThis.forged = true"}).encode()
    raw.send_multipart([b"<IDS|MSG>", b"0" * 64, header, b"{}", b"{}", content])            # wrong signature
    raw.send_multipart([b"<IDS|MSG>", s.kc.session.sign([b"{not json", b"{}", b"{}", b"{}"]), b"{not json", b"{}", b"{}", b"{}"])
    raw.send_multipart([b"<IDS|MSG>", b"", b"{}"])                                          # too few parts
    raw.send_multipart([b"no delimiter at all"])
    time.sleep(1.0)
    raw.close()
    results["after_bad_messages"] = s.execute("typeof (globalThis as any).forged")

    results["iopub_order_sample"] = s.order[:12]

    # Shutdown with restart: the reply says so; Jupyter's manager starts a fresh kernel.
    restart_id = s.send("control", "shutdown_request", {"restart": True})
    results["shutdown_reply"] = s.reply("control", restart_id)
    for _ in range(100):
        if not s.km.is_alive():
            break
        time.sleep(0.1)
    results["exited_after_shutdown"] = not s.km.is_alive()
    s.km.restart_kernel(now=True)
    s.kc.wait_for_ready(timeout=TIMEOUT)
    results["after_restart"] = s.execute("typeof carried")
    s.close()

finally:
    if s.km.has_kernel:
        s.km.shutdown_kernel(now=True)

with open(out_path, "w") as f:
    json.dump(results, f, indent=1)
