#!/usr/bin/env bash
# Installs the system packages archlab's tests use: Jupyter's own clients (to drive the kernel the way
# JupyterLab does, and the Jupyter project's kernel test suite; JupyterHub for the classroom test), Chromium (to render outputs as JupyterLab shows them), fonts for static chart
# images, and a C compiler with OpenBLAS's headers for archlab's optional native kernels (built by
# `npm ci`; the tests check them against the JavaScript path). Debian/Ubuntu, as root. The library
# and the kernel themselves need only Node.js.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(
  jupyter-client python3-nbclient jupyter-nbconvert jupyter-notebook
  python3-jupyter-server python3-jupyterlab-server python3-ipykernel python3-jupyter-kernel-test jupyterhub
  chromium fonts-dejavu-core fonts-liberation fontconfig
  gcc make libc6-dev libopenblas-dev
)
if [ "${1:-}" = "--bench" ]; then packages+=(python3-torch python3-torchvision libopenblas0-pthread); fi
apt-get update
apt-get install -y --no-install-recommends "${packages[@]}"
# Debian's jupyterhub package enables a jupyterhub.service of its own (on port 8000): a class hub is
# started with `archlab hub` instead (README, "For a class").
if [ -d /run/systemd/system ] && [ -f /lib/systemd/system/jupyterhub.service ]; then
  systemctl disable --now jupyterhub.service
fi
