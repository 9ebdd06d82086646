#!/usr/bin/env bash
# Cross-check of narval against the plain Python reference of the shared
# campaign-2012 workload (../shared/bench, or $NARVAL_BENCH_SHARED), a step
# of .ci/run. `cargo test` never reads ../shared: it checks the project's
# own generator against tests/reference. This script checks both against
# the outside answer:
#
#  1. gen_profiles.py --n 100000 --seed 2012, then `narval assign` (release
#     build): the output's digest must be reference.py's.
#  2. The project's own generator (examples/gen_profiles.rs) with the same
#     arguments: reference.py must give the digest the tests pin
#     (DIGEST_100K in benches/workload/mod.rs).
#
# Without the shared workload it says so and exits 0. Needs: cargo, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
shared=${NARVAL_BENCH_SHARED:-$root/../shared/bench}
if [[ ! -f $shared/gen_profiles.py || ! -f $shared/reference.py ]]; then
  echo "crosscheck: skipped, no shared workload in $shared (set NARVAL_BENCH_SHARED)"
  exit 0
fi
command -v python3 >/dev/null || { echo "crosscheck: python3 is required" >&2; exit 1; }

target=${CARGO_TARGET_DIR:-$root/target}
work=$(mktemp -d "${TMPDIR:-/tmp}/narval-crosscheck.XXXXXX")
trap 'rm -rf "$work"' EXIT

cargo build --release --locked --quiet --bin narval --example gen_profiles
narval=$target/release/narval

# reference.py's digest of a profile file.
reference_digest() {
  python3 "$shared/reference.py" "$1" | sed -n 's/^digest //p'
}

# The digest of `narval assign` output, as reference.py computes it: lines
# `ID<TAB>SOL,SOL<TAB>ISSUE,ISSUE` in input order, streams sorted by name.
output_digest() {
  python3 - "$1" <<'PY'
import hashlib, json, sys
digest = hashlib.sha256()
with open(sys.argv[1]) as f:
    for line in f:
        r = json.loads(line)
        digest.update(f"{r['id']}\t{','.join(sorted(r['solicitations']))}\t{','.join(sorted(r['issues']))}\n".encode())
print(digest.hexdigest())
PY
}

python3 "$shared/gen_profiles.py" --n 100000 --seed 2012 >"$work/shared.ndjson"
"$narval" assign examples/campaign-2012/campaign.narval --today 2012-10-01 \
  --profiles "$work/shared.ndjson" --out "$work/assigned.ndjson" 2>"$work/stderr" || {
  cat "$work/stderr" >&2; echo "crosscheck: narval assign failed" >&2; exit 1; }
ours=$(output_digest "$work/assigned.ndjson")
theirs=$(reference_digest "$work/shared.ndjson")
[[ $ours == "$theirs" ]] || {
  echo "crosscheck: DIGEST MISMATCH on gen_profiles.py --n 100000 --seed 2012: narval $ours, reference.py $theirs" >&2
  exit 1
}
echo "crosscheck: narval assign gives reference.py's digest on gen_profiles.py --n 100000 --seed 2012 ($ours)"

"$target/release/examples/gen_profiles" --n 100000 --seed 2012 >"$work/own.ndjson"
pinned=$(sed -n 's/^pub const DIGEST_100K: &str = "\([0-9a-f]*\)";$/\1/p' benches/workload/mod.rs)
[[ -n $pinned ]] || { echo "crosscheck: DIGEST_100K not found in benches/workload/mod.rs" >&2; exit 1; }
theirs=$(reference_digest "$work/own.ndjson")
[[ $pinned == "$theirs" ]] || {
  echo "crosscheck: DIGEST MISMATCH on the project's generator: the tests pin $pinned, reference.py gives $theirs" >&2
  exit 1
}
echo "crosscheck: reference.py gives the tests' pinned digest on the project's generator ($pinned)"
