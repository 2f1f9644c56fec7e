#!/usr/bin/env bash
# README command 1: install, then load a real corpus, index it and start searching.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1}
exec .venv/bin/paperfeed quickstart "$@"
