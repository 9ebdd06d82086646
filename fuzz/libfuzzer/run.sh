#!/usr/bin/env bash
# Coverage-guided fuzzing of one target with cargo-fuzz (libFuzzer), which
# needs a nightly toolchain and `cargo install cargo-fuzz`:
#
#   fuzz/libfuzzer/run.sh TARGET [SECONDS]      # parse, check, format, decode, eval
#
# Starts from the stable fuzzer's seeds (fuzz/src/seeds.rs); keeps its corpus
# in fuzz/libfuzzer/corpus/TARGET and crashes in fuzz/libfuzzer/artifacts/.
# This crate is outside the repository's workspace (its own [workspace], lock
# file and target directory, fuzz/libfuzzer/target): cargo-fuzz builds it
# with nightly flags the stable members must not see.
set -euo pipefail
cd "$(dirname "$0")/../.."
target="$1"
seconds="${2:-60}"
seeds="fuzz/libfuzzer/corpus/$target-seeds"
corpus="fuzz/libfuzzer/corpus/$target"
mkdir -p "$corpus"
cargo run -p narval-fuzz --profile fuzz --locked --quiet -- "$target" --export-seeds "$seeds"
cargo +nightly fuzz run --fuzz-dir fuzz/libfuzzer -O "$target" "$corpus" "$seeds" -- \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1
