"""Plays a widget frontend (what @jupyter-widgets/base 6 sends) against the installed archlab
kernel through Jupyter's own client (jupyter_client), and prints what it saw as JSON for
test/kernel/widgets.test.ts: the comm_opens of a scrubber, an update from the "frontend" moving the
stepper, a kernel-side change, request_state, the control comm's request_states, custom messages,
a drop-down choosing the gate of an intervention, and a comm closed by the frontend.

Usage: widgets_driver.py OUT.json KERNEL_STDERR.log   (JUPYTER_DATA_DIR points at the install)
"""
import json
import sys
import uuid

from jupyter_client.manager import KernelManager

out_path, log_path = sys.argv[1], sys.argv[2]
TIMEOUT = 120

log = open(log_path, "w")
km = KernelManager(kernel_name="archlab")
km.start_kernel(stderr=log)
kc = km.blocking_client()
kc.start_channels()
kc.wait_for_ready(timeout=TIMEOUT)
seen = {}  # IOPub messages by parent msg_id


def iopub_of(msg_id):
    """The IOPub messages of one request, up to its idle status."""
    while not any(m["msg_type"] == "status" and m["content"]["execution_state"] == "idle" for m in seen.get(msg_id, [])):
        msg = kc.get_iopub_msg(timeout=TIMEOUT)
        seen.setdefault(msg["parent_header"].get("msg_id"), []).append(
            {"msg_type": msg["msg_type"], "content": msg["content"], "metadata": msg["metadata"], "parent": msg["parent_header"].get("msg_id")})
    return seen[msg_id]


def execute(code):
    msg_id = kc.execute(code)
    while True:
        reply = kc.get_shell_msg(timeout=TIMEOUT)
        if reply["parent_header"].get("msg_id") == msg_id:
            return {"reply": reply["content"], "iopub": iopub_of(msg_id), "msg_id": msg_id}


def comm(msg_type, content, metadata=None):
    """A comm message from the 'frontend' (no reply): its msg_id and the IOPub messages it caused."""
    msg = kc.session.msg(msg_type, content, metadata=metadata or {})
    kc.shell_channel.send(msg)
    msg_id = msg["header"]["msg_id"]
    return {"iopub": iopub_of(msg_id), "msg_id": msg_id}


def opened(exchange, key, value):
    """The comm id of the widget `exchange` opened whose state has `key` = `value`."""
    return next(m["content"]["comm_id"] for m in exchange["iopub"] if m["msg_type"] == "comm_open" and m["content"]["data"]["state"].get(key) == value)


def update(comm_id, state):
    """The frontend's change of a widget's state."""
    return comm("comm_msg", {"comm_id": comm_id, "data": {"method": "update", "state": state, "buffer_paths": []}})


XS = "[[0.5], [-1], [0.25], [1], [-0.5], [0.75]]"
results = {}
try:
    results["scrub"] = execute(
        f"const xs = {XS};\n"
        "const lstm = cell(LSTM, { inputSize: 1, hiddenSize: 3, seed: 7 });\n"
        "const s = lstm.stepper(xs);\n"
        "const ui = widgets.scrub(s, { plots: ['states'] });\n"
        "ui")
    slider = results["slider"] = opened(results["scrub"], "_model_name", "IntSliderModel")
    results["move"] = update(slider, {"value": 3})
    results["t_after_move"] = execute("s.t")
    results["kernel_set"] = execute("ui.controls.t.value = 1;\nawait ui.rendered;\ns.t")
    results["bad_value"] = execute("ui.controls.t.value = 99")
    results["request_state"] = comm("comm_msg", {"comm_id": slider, "data": {"method": "request_state"}})
    control = uuid.uuid4().hex
    results["control_open"] = comm("comm_open", {"comm_id": control, "target_name": "jupyter.widget.control", "data": {}}, {"version": "1.0.0"})
    results["request_states"] = comm("comm_msg", {"comm_id": control, "data": {"method": "request_states"}})
    results["custom_setup"] = execute(
        "const echo = new widgets.IntSlider();\n"
        "echo.onCustom((content) => echo.send({ got: content }));\n"
        "echo.id")
    echo = opened(results["custom_setup"], "_model_name", "IntSliderModel")
    results["custom"] = comm("comm_msg", {"comm_id": echo, "data": {"method": "custom", "content": {"ping": 1}}})
    results["gate_setup"] = execute(
        "const gate = new widgets.Dropdown({ options: ['i', 'f', 'o'], value: 'f', description: 'gate' });\n"
        "const at = new widgets.IntSlider({ max: xs.length - 1, description: 'at t' });\n"
        "const last = (tr: Trace) => tr.value('h', { t: tr.length - 1 }).map((v) => v.toFixed(6)).join(' ');\n"
        "const clamped = widgets.interact({ gate, at }, ({ gate, at }) => `h[T-1] = ${last(lstm.run(xs, { interventions: [{ node: gate, t: at, value: 1 }] }))}`);\n"
        "clamped")
    results["choose_gate"] = update(opened(results["gate_setup"], "_model_name", "DropdownModel"), {"index": 0})
    results["choose_t"] = update(opened(results["gate_setup"], "description", "at t"), {"value": 2})
    results["reference"] = execute(
        "[`h[T-1] = ${last(lstm.run(xs, { interventions: [{ node: 'i', t: 2, value: 1 }] }))}`, `h[T-1] = ${last(lstm.run(xs))}`, gate.value, at.value]")
    results["close"] = comm("comm_close", {"comm_id": slider, "data": {}})
    results["request_states_after_close"] = comm("comm_msg", {"comm_id": control, "data": {"method": "request_states"}})
finally:
    with open(out_path, "w") as f:
        json.dump(results, f)
    kc.stop_channels()
    km.shutdown_kernel(now=False)
    log.close()
