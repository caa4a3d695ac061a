#!/usr/bin/env bash
# Set up irpatrol in ./.venv on Debian/Ubuntu: system packages first, then Python packages.
# Usage: scripts/setup.sh [EXTRAS]   e.g. scripts/setup.sh dev
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"

if ! command -v python3 >/dev/null || ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "irpatrol needs Python 3.11 or newer as python3" >&2
    exit 1
fi

apt_packages=()
# Debian splits venv/ensurepip out of python3
python3 -c 'import ensurepip, venv' 2>/dev/null || apt_packages+=(python3-venv)
if ((${#apt_packages[@]})); then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${apt_packages[@]}"
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
if [ -n "$extras" ]; then
    .venv/bin/python -m pip install -q -e ".[$extras]"
else
    .venv/bin/python -m pip install -q -e .
fi
