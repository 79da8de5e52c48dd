"""Puts the installed archlab kernel's outputs under load and faults through Jupyter's own client
(jupyter_client) and prints what it saw as JSON, for test/kernel/outputs.test.ts to assert on.

Usage: outputs_driver.py OUT.json KERNEL_STDERR.log SCENARIO…   (JUPYTER_DATA_DIR points at the install)
Every IOPub message is kept, grouped by the request it answers (its parent), in arrival order.
"""
import json
import sys
import time

from jupyter_client.manager import KernelManager

out_path, log_path, scenarios = sys.argv[1], sys.argv[2], sys.argv[3:]
TIMEOUT = 90


class Kernel:
    def __init__(self, log):
        self.km = KernelManager(kernel_name="archlab")
        self.km.start_kernel(stderr=log)
        self.kc = self.km.blocking_client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=120)
        self.iopub = {}
        self.replies = {}

    def submit(self, code):
        return self.kc.execute(code, silent=False, store_history=True, allow_stdin=False, stop_on_error=False)

    def _pump_iopub(self, timeout):
        msg = self.kc.get_iopub_msg(timeout=timeout)
        self.iopub.setdefault(msg["parent_header"].get("msg_id"), []).append(
            {"msg_type": msg["msg_type"], "content": msg["content"]})

    def collect(self, msg_id, deadline=None):
        """The reply to `msg_id` (None if none came by `deadline`) and its IOPub messages up to its idle."""
        deadline = deadline or time.time() + TIMEOUT
        while msg_id not in self.replies and time.time() < deadline:
            try:
                msg = self.kc.get_shell_msg(timeout=1)
                self.replies[msg["parent_header"].get("msg_id")] = {"msg_type": msg["msg_type"], "content": msg["content"]}
            except Exception:
                if not self.km.is_alive():
                    break
        while not idle(self.iopub.get(msg_id, [])) and time.time() < deadline:
            try:
                self._pump_iopub(1)
            except Exception:
                if not self.km.is_alive():
                    break
        return {"reply": self.replies.get(msg_id), "iopub": self.iopub.get(msg_id, [])}

    def drain_iopub(self, seconds):
        """Keeps reading IOPub for `seconds` (late messages land under their parent)."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                self._pump_iopub(0.2)
            except Exception:
                pass

    def run(self, code, **kw):
        return self.collect(self.submit(code), **kw)

    def close(self):
        self.kc.stop_channels()
        if self.km.has_kernel:
            self.km.shutdown_kernel(now=True)


def idle(messages):
    return any(m["msg_type"] == "status" and m["content"]["execution_state"] == "idle" for m in messages)


FLOOD = """
for (let i = 0; i < 3000; i++) {
  console.log(`s${i}`);
  await display({ [Symbol.for('Jupyter.display')]: () => ({ 'text/plain': `d${i}` }) });
}
'flooded'
"""

results = {}
log = open(log_path, "w")
k = Kernel(log)
try:
    if "flood" in scenarios:
        results["flood"] = k.run(FLOOD)
        results["after_flood"] = k.run("'after'")

    if "quick" in scenarios:
        # 800 cells sent at once, as fast as the client can: each must be answered and go idle.
        ids = [k.submit(f"console.log('q{i}'); {i}") for i in range(800)]
        deadline = time.time() + 4 * TIMEOUT
        results["quick"] = [k.collect(i, deadline) for i in ids]

    if "late" in scenarios:
        results["async_display"] = k.run(
            "display({ async [Symbol.for('Jupyter.display')]() {"
            " await new Promise((r) => setTimeout(r, 300)); return { 'text/plain': 'late bundle' }; } }); 4")
        results["diagram"] = k.run("display(diagram(LSTM)); 4")
        results["rejection"] = k.run("Promise.reject(new Error('nobody catches me')); 5")
        results["rejection_timer"] = k.run("setTimeout(() => Promise.reject(new Error('rejected from a timer')), 0); 6")
        results["after_late"] = k.run("7")
        k.drain_iopub(1.0)  # anything late is kept in its cell's list, after that cell's idle

    if "proxy" in scenarios:
        cases = {
            "get": "throw new Proxy({}, { get() { throw 1 } })",
            "prototype": "throw new Proxy(new Error('inside'), { getPrototypeOf() { throw new Error('no prototype') } })",
            "revoked": "const r = Proxy.revocable({}, {}); r.revoke(); throw r.proxy",
            "error_getters": "const e = new Error('x'); Object.defineProperty(e, 'message', { get() { throw 2 } });"
                             " Object.defineProperty(e, 'stack', { get() { throw 3 } }); throw e",
            "async": "await null; throw new Proxy({}, { get() { throw 1 } })",
        }
        results["proxy"] = {name: k.run(code) for name, code in cases.items()}
        results["after_proxy"] = k.run("'alive'")

    if "names" in scenarios:
        results["names_prefix"] = k.run("const cell = GRU_RESET")
        results["names_typo"] = k.run("gruResetAftr")
        results["names_far"] = k.run("zzqqxx")

    if "heap" in scenarios:
        # Allocates up to 97 % of V8's heap limit, slowly enough to be sampled, then waits.
        results["heap"] = k.run(
            "console.log('before the hog');"
            " const { heap_size_limit } = require('v8').getHeapStatistics();"
            " const hog: number[][] = [];"
            " while (process.memoryUsage().heapUsed < 0.97 * heap_size_limit) {"
            "   hog.push(new Array(100_000).fill(hog.length)); await new Promise((r) => setTimeout(r, 2)); }"
            " console.log('not stopped');"
            " await new Promise(() => {});")

    if "exit" in scenarios:
        results["exit"] = k.run(
            "for (let i = 0; i < 2000; i++) display({ [Symbol.for('Jupyter.display')]: () => ({ 'text/plain': `x${i}` }) });"
            " console.log('before exit'); await null; process.exit(3); console.log('not reached')")
        for _ in range(100):
            if not k.km.is_alive():
                break
            time.sleep(0.1)
        results["exit_alive"] = k.km.is_alive()
        results["exit_code"] = k.km.provisioner.process.returncode if k.km.provisioner and k.km.provisioner.process else None
    if "exit_later" in scenarios:
        # process.exit from a timer, after the cell that set it has gone idle.
        results["exit_later"] = k.run("setTimeout(() => process.exit(4), 300); 'scheduled'")
        for _ in range(100):
            k.drain_iopub(0.1)
            if not k.km.is_alive():
                break
        k.drain_iopub(0.5)
        results["exit_alive"] = k.km.is_alive()
        results["exit_code"] = k.km.provisioner.process.returncode if k.km.provisioner and k.km.provisioner.process else None
finally:
    k.close()
    log.close()

with open(out_path, "w") as f:
    json.dump(results, f, indent=1)
