#!/usr/bin/env bash
# Install paperfeed into ./.venv. torch comes first, pinned to the CPU build that
# lies on this machine's disk; otherwise pip would fetch a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "torch==2.13.0"
.venv/bin/python -m pip install --quiet -e ".[dev]"
# The browser tests drive Debian's Chromium (never a browser download). Install it when
# this is a Debian machine and we may; elsewhere those tests skip and say why.
if ! command -v chromium >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
    >/dev/null || echo "warning: could not install chromium; browser tests will skip" >&2
fi
# The PostgreSQL tests start a throwaway server of their own (tests/pg.py) from Debian's
# `postgresql` package; CI fails on a skip, so install it here the same way.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v apt-get >/dev/null \
    && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) \
    >/dev/null || echo "warning: could not install postgresql; its tests will skip" >&2
fi
