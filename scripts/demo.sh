#!/usr/bin/env bash
# Set up irpatrol and run the main job on the bundled demo images (output in ./irpatrol-output).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh all
exec .venv/bin/irpatrol demo "$@"
