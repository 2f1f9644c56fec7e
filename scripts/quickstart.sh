#!/usr/bin/env bash
# README command 1: install, then load a real corpus, index its newest papers and start
# searching; the server indexes the rest in the background (docs/decisions/first-page.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1}
exec .venv/bin/paperfeed quickstart "$@"
