#!/usr/bin/env bash
# Set up irpatrol in ./.venv on Debian/Ubuntu: system packages first, then Python packages.
# Usage: scripts/setup.sh [EXTRAS]   e.g. scripts/setup.sh dev
# System packages by extras: reports need Pango (WeasyPrint's layout engine), HarfBuzz's subsetter
# and the Noto CJK fonts for Chinese; the edge agent's uplink and the whole-system demo need Mosquitto; the
# dev extras add Debian's PostgreSQL server (scripts/pg-test-server.sh starts a throwaway
# one for the tests), poppler-utils (pdftoppm, pdftotext: the report tests read PDFs) and
# Chromium (the dashboard's browser tests).
# Runs apt-get as root or through sudo; packages already present are not reinstalled.
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
need_deb() { # need_deb PACKAGE: queue PACKAGE unless dpkg already has it installed
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed" || apt_packages+=("$1")
}
case ",$extras," in
*,dev,* | *,all,* | *,server,* | *,report,*)
    need_deb libpango-1.0-0
    need_deb libpangoft2-1.0-0
    need_deb fonts-noto-cjk
    need_deb libharfbuzz-subset0  # WeasyPrint subsets the CJK fonts in ~0.1 s with it, ~12 s without
    ;;
esac
case ",$extras," in
*,dev,* | *,all,* | *,edge,*)
    command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || apt_packages+=(mosquitto)
    ;;
esac
case ",$extras," in
*,dev,*)
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || apt_packages+=(postgresql)
    command -v pdftoppm >/dev/null || apt_packages+=(poppler-utils)
    need_deb chromium  # the dashboard's browser tests drive it through Playwright (no browser download)
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
