#!/usr/bin/env bash
# Benchmark: cold `agentgraph --help` (target <= 250 ms on this machine).
# Usage: bench/cli_help.sh [RUNS]   (default 20). hyperfine is not installed, so this
# times a loop of fresh interpreters: `python -m agentgraph --help` and, when installed,
# the `agentgraph` console script. Prints mean and best wall time per run in ms.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
# The real interpreter, not a pyenv shim (a shim adds ~100 ms of bash per call).
py=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python \
  || python3 -c 'import sys; print(sys.executable)' )}

measure() {  # label, command...
  local label=$1 target=$2; shift 2
  "$@" >/dev/null  # warm the OS file cache; .pyc files exist after this
  local best=999999 total=0 start end ms
  for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    "$@" >/dev/null
    end=$(date +%s%N)
    ms=$(( (end - start) / 1000000 ))
    total=$(( total + ms ))
    (( ms < best )) && best=$ms
  done
  echo "$label: mean $(( total / runs )) ms, best $best ms ($runs runs$target)"
}

measure "python -m agentgraph --help" "; target <= 250 ms" "$py" -m agentgraph --help
script=""
if [ -x .venv/bin/agentgraph ]; then script=.venv/bin/agentgraph
elif command -v agentgraph >/dev/null 2>&1; then script=$(command -v agentgraph); fi
if [ -n "$script" ]; then
  measure "$script --help" "; target <= 250 ms" "$script" --help
else
  echo "console script not installed (run scripts/setup.sh); skipped"
fi
measure "python -c pass (interpreter start, for reference)" "" "$py" -c pass
