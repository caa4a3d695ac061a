#!/usr/bin/env bash
# Set up irpatrol in ./.venv on Debian/Ubuntu: system packages first, then Python packages.
# Usage: scripts/setup.sh [EXTRAS]   e.g. scripts/setup.sh dev
# With the dev extras, Debian's PostgreSQL server is installed too: the tests run on it
# (scripts/pg-test-server.sh starts a throwaway one). Runs apt-get as root or through sudo.
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
case ",$extras," in
*,dev,*)
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || apt_packages+=(postgresql)
    ;;
esac
if ((${#apt_packages[@]})); then
    if ! command -v apt-get >/dev/null; then
        echo "missing system packages (${apt_packages[*]}) and no apt-get to install them" >&2
        exit 1
    fi
    sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo)
    echo "== apt-get install ${apt_packages[*]}"
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
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
