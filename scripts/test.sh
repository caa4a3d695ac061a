#!/usr/bin/env bash
# Set up irpatrol with its development tools and run every check: lint, types, layers, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
echo "== ruff"; .venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks
echo "== mypy"; .venv/bin/mypy
echo "== import layers"; .venv/bin/lint-imports
echo "== pytest"; exec .venv/bin/pytest "$@"
