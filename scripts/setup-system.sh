#!/usr/bin/env bash
# Installs the system packages archlab's tests use: Jupyter's own clients (to drive the kernel the way
# JupyterLab does), Chromium (to render outputs as JupyterLab shows them), fonts for static chart
# images. Debian/Ubuntu, as root. The library and the kernel themselves need only Node.js.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(
  jupyter-client python3-nbclient jupyter-nbconvert jupyter-notebook
  python3-jupyter-server python3-jupyterlab-server python3-ipykernel
  chromium fonts-dejavu-core fonts-liberation
)
if [ "${1:-}" = "--bench" ]; then packages+=(python3-torch libopenblas0-pthread); fi
apt-get update
apt-get install -y --no-install-recommends "${packages[@]}"
