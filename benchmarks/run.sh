#!/usr/bin/env bash
# Set up the benchmark venv (peers flyr and flirextractor, plus irpatrol itself) and
# run the benchmarks.  Usage:
#   benchmarks/run.sh                  # read benchmark, then batch benchmark
#   benchmarks/run.sh read [ARGS...]   # only bench_read.py (e.g. --check --write)
#   benchmarks/run.sh batch [ARGS...]  # only bench_batch.py
#   benchmarks/run.sh server [ARGS...] # bench_server.py: locust (or wrk: --load-tool wrk) against `irpatrol serve`
#   benchmarks/run.sh report [ARGS...] # bench_report.py: a 100-capture report per format (PDF, DOCX, HTML)
#                                      # (PostgreSQL half: a server on 127.0.0.1:55432, see --pg-url)
#   benchmarks/run.sh dashboard [ARGS...] # bench_dashboard.py: dashboard pages at 10 000 captures in
#                                      # Debian's Chromium (/usr/bin/chromium) through Playwright
# The venv lives in benchmarks/.venv-bench (git-ignored).  flirextractor needs the
# exiftool program: Debian's libimage-exiftool-perl is installed with apt-get if missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
venv="$here/.venv-bench"
py="${PYTHON:-python3}"

if ! command -v exiftool >/dev/null 2>&1; then
    echo "run.sh: installing exiftool (libimage-exiftool-perl) for flirextractor" >&2
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libimage-exiftool-perl >/dev/null
fi

stamp="$venv/.installed"
if [ ! -x "$venv/bin/python" ]; then
    "$py" -m venv "$venv"
fi
if [ ! -f "$stamp" ] || [ "$here/requirements.txt" -nt "$stamp" ] || [ "$root/pyproject.toml" -nt "$stamp" ]; then
    "$venv/bin/python" -m pip install -q --upgrade pip
    "$venv/bin/python" -m pip install -q -r "$here/requirements.txt"
    "$venv/bin/python" -m pip install -q -e "$root"
    touch "$stamp"
fi

what="${1:-all}"
if [ "$what" = server ]; then  # the server extra and locust, on top of the readers' venv
    sstamp="$venv/.installed-server"
    if [ ! -f "$sstamp" ] || [ "$root/pyproject.toml" -nt "$sstamp" ]; then
        "$venv/bin/python" -m pip install -q -e "$root[server]" "locust>=2.30"
        touch "$sstamp"
    fi
    if ! command -v wrk >/dev/null 2>&1; then  # --load-tool wrk (Debian package wrk)
        echo "run.sh: installing wrk" >&2
        if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null
    fi
fi

if [ "$what" = dashboard ]; then  # the server extra and Playwright (drives Debian's Chromium; no download)
    dstamp="$venv/.installed-dashboard"
    if [ ! -f "$dstamp" ] || [ "$root/pyproject.toml" -nt "$dstamp" ]; then
        "$venv/bin/python" -m pip install -q -e "$root[server]" "playwright>=1.49"
        touch "$dstamp"
    fi
fi

if [ "$what" = report ]; then  # the report extra (WeasyPrint, python-docx) on top of the readers' venv
    rstamp="$venv/.installed-report"
    if [ ! -f "$rstamp" ] || [ "$root/pyproject.toml" -nt "$rstamp" ]; then
        "$venv/bin/python" -m pip install -q -e "$root[report]"
        touch "$rstamp"
    fi
fi

cd "$root"
[ $# -gt 0 ] && shift
case "$what" in
    read) exec "$venv/bin/python" "$here/bench_read.py" "$@" ;;
    batch) exec "$venv/bin/python" "$here/bench_batch.py" "$@" ;;
    server) exec "$venv/bin/python" "$here/bench_server.py" "$@" ;;
    report) exec "$venv/bin/python" "$here/bench_report.py" "$@" ;;
    dashboard) exec "$venv/bin/python" "$here/bench_dashboard.py" "$@" ;;
    all)
        "$venv/bin/python" "$here/bench_read.py" "$@"
        "$venv/bin/python" "$here/bench_batch.py"
        ;;
    *) echo "usage: $0 [read|batch|server|report|dashboard|all] [ARGS...]" >&2; exit 2 ;;
esac
