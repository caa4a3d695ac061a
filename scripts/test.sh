#!/usr/bin/env bash
# Set up irpatrol with its development tools and run every check: lint, types, layers, tests.
# The server tests run on SQLite and on PostgreSQL: a throwaway PostgreSQL server is started
# on a free loopback port for the run (unless IRPATROL_TEST_DATABASE_URL names one already)
# and stopped at the end, whatever happens. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
echo "== ruff"; .venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks
echo "== mypy"; .venv/bin/mypy
echo "== import layers"; .venv/bin/lint-imports

if [ -z "${IRPATROL_TEST_DATABASE_URL:-}" ]; then
    pgdir="$(mktemp -d "${TMPDIR:-/tmp}/irpatrol-pg.XXXXXX")"
    cleanup() {
        bash scripts/pg-test-server.sh stop "$pgdir" || true
        rm -rf "$pgdir"
    }
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    echo "== postgresql (throwaway, 127.0.0.1:$port)"
    if ! IRPATROL_TEST_DATABASE_URL="$(bash scripts/pg-test-server.sh start "$pgdir" "$port")"; then
        echo "could not start the test PostgreSQL server; its log:" >&2
        cat "$pgdir/server.log" >&2 2>/dev/null || true
        exit 1
    fi
    export IRPATROL_TEST_DATABASE_URL
fi

echo "== pytest"
status=0
.venv/bin/pytest "$@" || status=$?
# DJI back-end tests: Python 3.12 with the AGPL `dji` extra, in their own venv (docs/formats.md)
bash scripts/test-dji.sh || status=$?
exit "$status"
