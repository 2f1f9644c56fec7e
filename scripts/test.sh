#!/usr/bin/env bash
# README command 2: the whole test suite. pytest's "no tests ran" (exit 5) is a failure here.
set -uo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/setup.sh
export HF_HUB_OFFLINE=1
.venv/bin/python -m pytest "$@"
status=$?
if [ -d test-artifacts/screenshots ]; then
  echo "browser screenshots: $(pwd)/test-artifacts/screenshots/ ($(ls test-artifacts/screenshots | wc -l) pages)"
fi
if [ "$status" -eq 5 ]; then
  echo "error: pytest collected no tests" >&2
  exit 1
fi
exit "$status"
