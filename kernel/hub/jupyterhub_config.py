"""JupyterHub for a class: every user gets their own JupyterLab server with the archlab kernel and
their own copy of the notebooks (see singleuser.py).

`archlab hub` starts JupyterHub with this file; anything here can be changed with JupyterHub's own
options after it (`archlab hub --port=8000 --Authenticator.admin_users=teacher`) or in a config
file of your own that loads this one (`load_subconfig(".../kernel/hub/jupyterhub_config.py")`).

Defaults, JupyterHub's own: users log in with their Unix accounts (PAMAuthenticator), and each
server runs as that Unix user (LocalProcessSpawner), so students' files are as private as their
home folders. The hub runs as root for that.

Set by `archlab hub`:
    ARCHLAB_HUB_JUPYTER_PATH   the folder whose kernels/archlab/ holds the kernel spec every server sees
    ARCHLAB_HUB_NOTEBOOKS      the class notebooks each user gets a copy of
    ARCHLAB_HUB_LAB            archlab's JupyterLab (server module and build) every server serves
"""

import os
import sys

c = get_config()  # noqa: F821 (JupyterHub defines it when it loads this file)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
c.Spawner.cmd = [sys.executable, os.path.join(HERE, "singleuser.py")]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {
    name: os.environ[name] for name in ("ARCHLAB_HUB_NOTEBOOKS", "ARCHLAB_HUB_LAB") if name in os.environ
}
if "ARCHLAB_HUB_JUPYTER_PATH" in os.environ:
    c.Spawner.environment["JUPYTER_PATH"] = os.environ["ARCHLAB_HUB_JUPYTER_PATH"]
# A class logging in at once on a small machine: servers may take a while to answer.
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180

# configurable-http-proxy from the npm registry (archlab's devDependency), else the one on PATH.
proxy = os.path.join(ROOT, "node_modules", ".bin", "configurable-http-proxy")
if os.path.exists(proxy):
    c.ConfigurableHTTPProxy.command = [proxy]
