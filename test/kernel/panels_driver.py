"""Drives the installed archlab kernel the way JupyterLab's other panels do, through Jupyter's own
client (jupyter_client), and prints what it saw as JSON for test/kernel/panels.test.ts: the
inspector/tooltip, completion with item types, input() over the stdin channel, user_expressions.
ipykernel (Debian's python3 kernel) answers the same user_expressions and input() without stdin,
as the reference for the shape of those replies.

Usage: panels_driver.py OUT.json KERNEL_STDERR.log   (JUPYTER_DATA_DIR points at the install)
"""
import json
import sys
import time

from jupyter_client.manager import KernelManager

out_path, log_path = sys.argv[1], sys.argv[2]
TIMEOUT = 60


def start(name, log):
    km = KernelManager(kernel_name=name)
    km.start_kernel(stderr=log)
    kc = km.blocking_client()
    kc.start_channels()
    kc.wait_for_ready(timeout=120)
    return km, kc


def reply_to(kc, msg_id):
    while True:
        msg = kc.get_shell_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


def outputs(kc, msg_id):
    """The IOPub messages of `msg_id` up to its idle."""
    seen = []
    while True:
        msg = kc.get_iopub_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        seen.append({"msg_type": msg["msg_type"], "content": msg["content"]})
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return seen


def run(kc, code, **kw):
    msg_id = kc.execute(code, **kw)
    return {"reply": reply_to(kc, msg_id)["content"], "iopub": outputs(kc, msg_id)}


def inspect(kc, code, cursor):
    return reply_to(kc, kc.inspect(code, cursor, detail_level=0))["content"]


def complete(kc, code, cursor=None):
    return reply_to(kc, kc.complete(code, len(code) if cursor is None else cursor))["content"]


def stdin_msg(kc, timeout=20):
    """The next message on stdin, or None if none comes within `timeout` seconds."""
    try:
        msg = kc.get_stdin_msg(timeout=timeout)
    except Exception:
        return None
    return {"msg_type": msg["msg_type"], "content": msg["content"], "parent": msg["parent_header"].get("msg_id")}


def ask(kc, code, answer):
    """Runs a cell that calls input(); answers its input_request with `answer` (unless None). The request's id and the input_request."""
    msg_id = kc.execute(code, allow_stdin=True, stop_on_error=False)
    request = stdin_msg(kc)
    if request and answer is not None:
        kc.input(answer)
    return msg_id, request


def finish(kc, msg_id):
    return {"reply": reply_to(kc, msg_id)["content"], "iopub": outputs(kc, msg_id)}


USER_EXPRESSIONS = {
    "ok": "6 * 7",
    "text": "'a' + 'b'",
    "raises": "(() => { throw new RangeError('out of range') })()",
}
# ipykernel's own spelling of the same expressions.
PY_EXPRESSIONS = {"ok": "6 * 7", "text": "'a' + 'b'", "raises": "[][1]"}

results = {}
log = open(log_path, "w")
km, kc = start("archlab", log)
try:
    run(kc, "const lstm = cell(LSTM, { inputSize: 2, hiddenSize: 3 });\n"
            "/**\n * Adds one.\n * @param n the number\n */\nfunction addOne(n: number): number { return n + 1; }\n"
            "class Box { /** A box of `v`. */ constructor(public v: number) {} }")
    # Inspect: inside a call's parentheses, at a name, nowhere.
    results["inspect"] = {}
    for name, code, cursor in [
        ("after_paren", "lstm.stepper(", 13),
        ("between_args", "lstm.stepper([[1, 2]], )", 23),
        ("on_argument", "addOne(lstm)", 9),
        ("nested", "display(diagram(", 16),
        ("outer_after_inner", "addOne(addOne(1), ", 18),
        ("new", "new Box(", 8),
        ("multiline", "const s = '😀';\naddOne(\n  ", 25),
        ("on_name", "addOne", 3),
        ("callback_block", "[1].map((x) => { const y = 1; ", 30),
        ("nothing", "1 + ", 4),
    ]:
        results["inspect"][name] = inspect(kc, code, cursor)
    # Completion items with their types.
    results["complete"] = {code: complete(kc, code) for code in ["LST", "cel", "ArchlabErr", "let d: CellDe", "lstm.", "addO", "Bo", "lst"]}
    # user_expressions, after a cell that succeeds and after one that fails.
    results["user_expressions"] = run(kc, "const a = 6;", user_expressions={**USER_EXPRESSIONS, "a": "a * 7", "undef": "undefined", "missing": "nope + 1", "diagram": "diagram(LSTM)", "bad_display": "({ [Symbol.for('Jupyter.display')]: () => { throw new Error('no bundle') } })"})
    results["user_expressions_failed_cell"] = run(kc, "throw new Error('x')", user_expressions={"ok": "1"}, stop_on_error=False)
    # input(): a prompt, a password, without stdin, interrupted.
    msg_id, results["input_request"] = ask(kc, "console.log('before'); const name = await input('Your name? '); `hello ${name}`", "Ada")
    results["input_msg_id"] = msg_id
    results["input"] = finish(kc, msg_id)
    msg_id, results["password_request"] = ask(kc, "(await input('Token: ', { password: true })).length", "s3cret!")
    results["password"] = finish(kc, msg_id)
    results["no_stdin"] = run(kc, "await input('x? ')", allow_stdin=False, stop_on_error=False)
    msg_id, results["interrupt_request"] = ask(kc, "await input('waiting? ')", None)
    time.sleep(0.3)
    km.interrupt_kernel()
    results["interrupted"] = finish(kc, msg_id)
    kc.input("too late")  # an input_reply nobody waits for: dropped
    msg_id, results["after_interrupt_request"] = ask(kc, "await input('again? ')", "again")
    results["after_interrupt"] = finish(kc, msg_id)
    msg_id, results["unawaited_request"] = ask(kc, "input('later? '); 1", None)
    results["unawaited"] = finish(kc, msg_id)
    kc.input("too late")  # dropped
    # A second client: its input_request goes to it, not to the first.
    kc2 = km.blocking_client()
    kc2.start_channels()
    msg_id, results["second_client_request"] = ask(kc2, "await input('second? ')", None)
    results["first_client_saw"] = stdin_msg(kc, timeout=1)
    kc2.input("two")
    results["second_client"] = {"reply": reply_to(kc2, msg_id)["content"]}
    kc2.stop_channels()
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)

# The reference: ipykernel, the same user_expressions and input() without stdin.
km, kc = start("python3", log)
try:
    results["ipykernel_user_expressions"] = run(kc, "a = 6", user_expressions=PY_EXPRESSIONS)
    results["ipykernel_no_stdin"] = run(kc, "input('x? ')", allow_stdin=False, stop_on_error=False)
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    log.close()

with open(out_path, "w") as f:
    json.dump(results, f, indent=1)
