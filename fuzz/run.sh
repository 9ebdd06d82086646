#!/usr/bin/env bash
# Fuzzes every target of narval for SECONDS_PER_TARGET seconds (default 10,
# then the large generated rule files: about a minute in all, plus the
# build in the workspace's `fuzz` profile, release with overflow checks and
# debug assertions, into target/fuzz/): what CI runs.
#
#   fuzz/run.sh [SECONDS_PER_TARGET]
#
# Each run starts from a new seed, printed first; NARVAL_FUZZ_SEED=S fixes it.
# Exits non-zero when an input crashed narval, broke a property or hung; the
# inputs are then in fuzz/crashes/. Longer runs: README, "Fuzzing".
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
seed=()
if [[ -n "${NARVAL_FUZZ_SEED:-}" ]]; then
  seed=(--seed "$NARVAL_FUZZ_SEED")
fi
cargo run -p narval-fuzz --profile fuzz --locked --quiet -- all --seconds "$seconds" ${seed[@]+"${seed[@]}"}
