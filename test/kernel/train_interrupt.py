"""Interrupting a training cell in the installed archlab kernel, through Jupyter's own client
(jupyter_client), recorded as JSON for test/kernel/train-interrupt.test.ts to assert on.

Usage: train_interrupt.py OUT.json KERNEL_STDERR.log   (run with JUPYTER_DATA_DIR pointing at the install)
"""
import json
import sys
import time

from jupyter_client.manager import KernelManager

out_path, log_path = sys.argv[1], sys.argv[2]
TIMEOUT = 120

SETUP = """
const task = tasks.adding({ length: 10, seed: 1 });
const model = readout(cell(LSTM, { inputSize: 2, hiddenSize: 8 }), { outputSize: 1 });
let finished = 0;
let last = "";
"""
TRAIN = """
await train(model, task, { steps: 1000000, batchSize: 8, every: 100, onStep: ({ step }) => { finished = step; last = JSON.stringify(model.stateDict()); } });
"""
AFTER = """
const seen = finished;
await new Promise((r) => setTimeout(r, 1500));
[seen, finished, JSON.stringify(model.stateDict()) === last]
"""


def summary(msg):
    return {"msg_type": msg["msg_type"], "content": msg["content"]}


with open(log_path, "w") as log:
    km = KernelManager(kernel_name="archlab")
    km.start_kernel(stderr=log)
    kc = km.blocking_client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=TIMEOUT)
        results = {}

        def run(code):
            outputs = []
            reply = kc.execute_interactive(code, output_hook=lambda m: outputs.append(summary(m)), timeout=TIMEOUT)
            return {"reply": reply["content"], "iopub": outputs}

        results["setup"] = run(SETUP)
        msg_id = kc.execute(TRAIN)
        time.sleep(8)
        km.interrupt_kernel()
        outputs = []
        while True:
            msg = kc.get_iopub_msg(timeout=TIMEOUT)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            outputs.append(summary(msg))
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        results["train"] = {"iopub": outputs}
        results["after"] = run(AFTER)
        with open(out_path, "w") as f:
            json.dump(results, f, indent=1)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
