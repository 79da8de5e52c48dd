"""Serves the JupyterLab 4.6.3 frontend in build/ (see build.ts) with Debian's jupyter-server
and jupyterlab-server, at /lab. `archlab start` runs it from its cache folder (kernel/notebook/lab.ts):

    /usr/bin/python3 ~/.cache/archlab/lab-<hash>/server.py --ServerApp.port=8888 --ServerApp.root_dir=DIR ...

Debian's server (jupyter-server 1.23) is older than Lab 4.6 expects: the page asks for
/api/me and /api/events, which answer 404. Notebooks, kernels, contents and settings work.
"""

import os

from jupyter_core.paths import jupyter_config_dir
from jupyterlab_server import LabServerApp

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "build")


def _jupyter_server_extension_points():
    return [{"module": __name__, "app": ArchlabLab}]


class ArchlabLab(LabServerApp):
    name = "archlab_lab"
    extension_url = "/lab"
    default_url = "/lab"
    load_other_extensions = False
    app_name = "JupyterLab"
    app_version = "4.6.3"
    app_url = "/lab"
    static_dir = os.path.join(BUILD, "static")
    templates_dir = os.path.join(HERE, "templates")
    schemas_dir = os.path.join(BUILD, "schemas")
    themes_dir = os.path.join(BUILD, "themes")
    app_settings_dir = os.path.join(BUILD, "app_settings")
    # The user's settings and workspaces where JupyterLab keeps them ($JUPYTER_CONFIG_DIR/lab/…).
    user_settings_dir = os.path.join(jupyter_config_dir(), "lab", "user-settings")
    workspaces_dir = os.path.join(jupyter_config_dir(), "lab", "workspaces")


if __name__ == "__main__":
    ArchlabLab.launch_instance()
