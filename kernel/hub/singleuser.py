"""One student's server. JupyterHub starts it as the student (jupyterhub_config.py's Spawner.cmd):

1. copies each class notebook the student does not have yet into ~/notebooks (never overwriting:
   a file that exists is the student's, edited or not; a notebook the student deleted comes back
   fresh at the next start);
2. runs jupyterhub-singleuser — Debian's jupyter-server behind the hub's login — with archlab's
   JupyterLab (a jupyterlab_server LabServerApp) as its extension at /lab.

    ARCHLAB_HUB_NOTEBOOKS   the folder of class notebooks to copy (set by `archlab hub --notebooks`)
    ARCHLAB_HUB_LAB         archlab's JupyterLab: server.py and its build/ (set by `archlab hub`)
    ARCHLAB_HUB_COPY_TO     where the copies go, relative to the student's home (default: notebooks)

The copy runs here, as the student, not in the hub (root): a student's symlink in place of
~/notebooks can then only redirect files to places the student may write anyway.
"""

import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# archlab's JupyterLab: the folder holding its server module (a jupyter_server extension whose
# app is a LabServerApp serving the frontend built into its build/), copied by `archlab hub` into
# the hub's folder. The one place this file names it.
LAB_DIR = os.environ.get("ARCHLAB_HUB_LAB", "")
LAB_MODULE = "server"


def copy_missing(source, target):
    """Copies every file of `source` that `target` lacks (dot-files excepted); returns the copied paths."""
    copied = []
    for folder, dirs, files in os.walk(source):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        into = os.path.join(target, os.path.relpath(folder, source))
        os.makedirs(into, exist_ok=True)
        for name in files:
            if name.startswith("."):
                continue
            path = os.path.join(into, name)
            try:
                # "x": create, or fail when the file exists. Never truncates a student's file.
                with open(os.path.join(folder, name), "rb") as src, open(path, "xb") as dst:
                    shutil.copyfileobj(src, dst)
            except FileExistsError:
                continue
            copied.append(path)
    return copied


def main():
    source = os.environ.get("ARCHLAB_HUB_NOTEBOOKS", os.path.join(ROOT, "notebooks"))
    target = os.path.join(os.path.expanduser("~"), os.environ.get("ARCHLAB_HUB_COPY_TO", "notebooks"))
    copied = copy_missing(source, target)
    print(f"archlab: copied {len(copied)} notebook file(s) from {source} to {target}", file=sys.stderr)

    if not os.path.exists(os.path.join(LAB_DIR, "build", "static", "bundle.js")):
        sys.exit(f"archlab's JupyterLab is not in {LAB_DIR or '(ARCHLAB_HUB_LAB is not set)'}: start the hub with `archlab hub`, which installs it.")
    sys.path.insert(0, LAB_DIR)
    lab = __import__(LAB_MODULE)
    # The student's Lab settings and workspaces persist in their home, as in a JupyterLab install.
    lab_state = os.path.join(os.path.expanduser("~"), ".jupyter", "lab")
    lab.ArchlabLab.user_settings_dir = os.path.join(lab_state, "user-settings")
    lab.ArchlabLab.workspaces_dir = os.path.join(lab_state, "workspaces")

    from traitlets.config import Config

    # Imported only now: the module reads JUPYTERHUB_SINGLEUSER_APP (unset: jupyter-server's ServerApp).
    from jupyterhub.singleuser.app import SingleUserNotebookApp

    config = Config()
    config.ServerApp.jpserver_extensions = {LAB_MODULE: True}
    SingleUserNotebookApp.launch_instance(config=config)


if __name__ == "__main__":
    main()
