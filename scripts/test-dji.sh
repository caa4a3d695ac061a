#!/usr/bin/env bash
# DJI R-JPEG back-end tests on Python >= 3.12 with the optional `dji` extra (dji-thermal-cli,
# AGPL-3.0, needs 3.12): sets up ./.venv312 once and runs only the DJI tests there (a few seconds).
# The main suite (scripts/test.sh) runs on 3.11 without the extra; there these tests skip.
# Python 3.12+ is taken from $IRPATROL_PY312, python3.12/python3.13 on PATH, or pyenv.
# In CI (CI=true) a missing Python 3.12 fails; elsewhere it skips with a message.
set -euo pipefail
cd "$(dirname "$0")/.."
py="${IRPATROL_PY312:-}"
if [ -z "$py" ]; then
    for candidate in python3.12 python3.13 "$HOME"/.pyenv/versions/3.12*/bin/python "$HOME"/.pyenv/versions/3.13*/bin/python; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            py="$candidate"
            break
        fi
    done
fi
if [ -z "$py" ]; then
    echo "== dji: no Python >= 3.12 found (set IRPATROL_PY312); DJI back-end tests not run" >&2
    [ "${CI:-}" = "true" ] && exit 1
    exit 0
fi
if [ ! -x .venv312/bin/python ]; then
    "$py" -m venv .venv312
fi
if ! .venv312/bin/python -c 'import dji_thermal_cli, irpatrol, pytest, hypothesis' 2>/dev/null; then
    .venv312/bin/pip install -q -e '.[dji]' pytest hypothesis
fi
echo "== pytest (DJI, $(.venv312/bin/python -V), dji-thermal-cli $(.venv312/bin/python -c 'from importlib.metadata import version; print(version("dji-thermal-cli"))'))"
.venv312/bin/pytest -p no:cacheprovider tests/formats/test_dji.py tests/formats/test_dji_backend.py "$@"
