"""One student's session on the hub, through the hub's and the server's own HTTP and websocket APIs
(what JupyterLab does, with Jupyter's own libraries: requests, jupyter_client's Session for the
messages, nbformat's output_from_msg for the outputs, tornado's websocket client).

    /usr/bin/python3 test/hub/student.py run HUB_URL NAME PASSWORD NOTEBOOK.json
    /usr/bin/python3 test/hub/student.py peek HUB_URL NAME PASSWORD OTHER

run: logs in with the login form, gets an API token, starts the student's server, opens /lab and
loads its bundle.js, uploads NOTEBOOK as notebooks/hub-check.ipynb, runs every code cell on the
archlab kernel in a session on that notebook (as JupyterLab does), saves it, and prints one JSON report:
{"token", "lab": <the /lab page>, "files": [names in ~/notebooks], "notebook": <executed, as saved>}.
peek: logs in, then opens OTHER's /lab with the browser's cookies: {"status", "url", "lab": whether a Lab page came}.
"""

import asyncio
import json
import re
import sys
import time
from urllib.parse import urlparse

import nbformat
import requests
from jupyter_client.jsonutil import json_default
from jupyter_client.session import Session
from nbformat.v4 import output_from_msg
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

TIMEOUT = 300  # a busy 2-core machine starting several servers and kernels at once


def log(text):
    print(f"[{NAME}] {text}", file=sys.stderr, flush=True)


def login(hub, name, password):
    """The login form, as a browser posts it; returns the session (hub cookies) and an API token."""
    browser = requests.Session()
    browser.get(f"{hub}/hub/login").raise_for_status()
    form = {"username": name, "password": password}
    if "_xsrf" in browser.cookies:
        form["_xsrf"] = browser.cookies["_xsrf"]
    reply = browser.post(f"{hub}/hub/login", data=form, allow_redirects=False)
    assert reply.status_code == 302, f"login of {name}: {reply.status_code} {reply.text[:500]}"
    # The hub accepts cookie-authenticated API requests from its own pages (checked by Referer).
    reply = browser.post(f"{hub}/hub/api/users/{name}/tokens", json={"note": "hub test"}, headers={"Referer": f"{hub}/hub/"})
    assert reply.status_code in (200, 201), f"token of {name}: {reply.status_code} {reply.text[:500]}"
    return browser, reply.json()["token"]


def start_server(hub, name, api):
    reply = api.post(f"{hub}/hub/api/users/{name}/server")
    assert reply.status_code in (201, 202), f"spawn of {name}: {reply.status_code} {reply.text[:500]}"
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        server = api.get(f"{hub}/hub/api/users/{name}").json()["servers"].get("", {})
        if server.get("ready"):
            return
        time.sleep(1)
    raise TimeoutError(f"{name}'s server was not ready within {TIMEOUT} s")


async def execute(ws, session, code):
    """Runs one cell; returns (execution_count, outputs) as nbformat cells hold them."""
    request = session.msg("execute_request", {"code": code, "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
    request["channel"] = "shell"
    ws.write_message(json.dumps(request, default=json_default))
    msg_id = request["header"]["msg_id"]
    outputs, count, idle, replied = [], None, False, False
    while not (idle and replied):
        text = await asyncio.wait_for(ws.read_message(), TIMEOUT)
        if text is None:
            raise ConnectionError("the kernel websocket closed")
        msg = json.loads(text)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        if msg["channel"] == "shell" and kind == "execute_reply":
            replied, count = True, msg["content"].get("execution_count")
        elif kind == "status":
            idle = msg["content"]["execution_state"] == "idle"
        elif kind in ("stream", "display_data", "execute_result", "error"):
            outputs.append(output_from_msg(msg))
    return count, outputs


async def run_notebook(server, token, path, nb):
    api = {"Authorization": f"token {token}"}
    reply = requests.post(f"{server}/api/sessions", json={"path": path, "type": "notebook", "name": "", "kernel": {"name": "archlab"}}, headers=api)
    assert reply.status_code == 201, f"session: {reply.status_code} {reply.text[:500]}"
    kernel = reply.json()["kernel"]["id"]
    session = Session(username=NAME)
    ws_url = server.replace("http", "ws", 1) + f"/api/kernels/{kernel}/channels?session_id={session.session}"
    ws = await websocket_connect(HTTPRequest(ws_url, headers=api, request_timeout=TIMEOUT, connect_timeout=TIMEOUT))
    try:
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.execution_count, cell.outputs = await execute(ws, session, cell.source)
    finally:
        ws.close()
    requests.delete(f"{server}/api/kernels/{kernel}", headers=api)


def main(hub, name, password, notebook_file):
    browser, token = login(hub, name, password)
    api = requests.Session()
    api.headers["Authorization"] = f"token {token}"
    log("logged in")
    start_server(hub, name, api)
    log("server ready")
    server = f"{hub}/user/{name}"
    # The Lab page, as the browser gets it: the hub's cookie, then the server's OAuth round trip.
    lab = browser.get(f"{server}/lab")
    assert lab.status_code == 200 and urlparse(lab.url).path == f"/user/{name}/lab", f"/lab: {lab.status_code} {lab.url}"
    # The frontend itself, served by the student's server (archlab's JupyterLab build).
    bundle = browser.get(hub + re.search(r'<script src="([^"]+/bundle\.js)"', lab.text).group(1))
    assert bundle.status_code == 200 and "javascript" in bundle.headers["Content-Type"], f"bundle.js: {bundle.status_code}"
    files = [item["name"] for item in api.get(f"{server}/api/contents/notebooks").json()["content"]]

    nb = nbformat.reads(open(notebook_file).read(), as_version=4)
    path = "notebooks/hub-check.ipynb"
    reply = api.put(f"{server}/api/contents/{path}", json={"type": "notebook", "format": "json", "content": nb})
    assert reply.status_code in (200, 201), f"upload: {reply.status_code} {reply.text[:500]}"
    asyncio.run(run_notebook(server, token, path, nb))
    log("notebook executed")
    api.put(f"{server}/api/contents/{path}", json={"type": "notebook", "format": "json", "content": nb}).raise_for_status()
    saved = api.get(f"{server}/api/contents/{path}").json()["content"]
    print(json.dumps({"token": token, "lab": lab.text, "files": sorted(files), "notebook": saved}))


def peek(hub, name, password, other):
    browser, _ = login(hub, name, password)
    page = browser.get(f"{hub}/user/{other}/lab")
    print(json.dumps({"status": page.status_code, "url": page.url, "lab": "jupyter-config-data" in page.text}))


if __name__ == "__main__":
    NAME = sys.argv[3]
    {"run": main, "peek": peek}[sys.argv[1]](*sys.argv[2:6])
