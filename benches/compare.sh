#!/usr/bin/env bash
# narval against the hand-written baseline on the campaign-2012 workload
# (../shared/bench/WORKLOAD.md), file to file, as BENCHMARKS.md reports it.
#
#   benches/compare.sh [--n N] [--mem-n N] [--runs R] [--criterion] [--keep]
#
#   --n N        profiles for the speed runs (default 1000000; env NARVAL_BENCH_N)
#   --mem-n N    profiles for the peak-memory runs (default 1000000; env NARVAL_BENCH_MEM_N)
#   --runs R     speed runs per configuration, the best is kept (default 3; env NARVAL_BENCH_RUNS)
#   --criterion  then run `cargo bench --bench campaign --bench scaling` (several minutes)
#                and `cargo bench --bench interleaved` (the evaluation ratios, passes in turn)
#                and summarise its figures
#   --keep       keep the output files under target/bench-data
#
# Steps: generate the profiles with gen_profiles.py (seed 2012, cached under
# target/bench-data; without the shared workload, with the project's own
# generator, examples/gen_profiles.rs), build in release, then time `narval assign` and the
# baseline (`examples/baseline.rs`) from an NDJSON file to an NDJSON file:
# wall clock, best of R runs, and peak RSS (from /usr/bin/time, else by
# polling /proc). narval runs at 1 thread and, when `narval assign --help`
# lists `--threads`, at every core too; without it only 1 thread is
# measured. Every output is checked against reference.py's digest (without
# the shared workload: against `narval assign --interpreted`, a separate
# evaluator); a mismatch stops the script. The shared workload is looked for
# in ../shared/bench (env NARVAL_BENCH_SHARED); the script runs without it.
#
# Needs: cargo, python3; /usr/bin/time (GNU) if present.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
shared=${NARVAL_BENCH_SHARED:-$root/../shared/bench}
n=${NARVAL_BENCH_N:-1000000}
mem_n=${NARVAL_BENCH_MEM_N:-1000000}
runs=${NARVAL_BENCH_RUNS:-3}
criterion=0
keep=0
seed=2012

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while (($#)); do
  case $1 in
    --n) n=$2; shift 2 ;;
    --mem-n) mem_n=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --criterion) criterion=1; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "compare.sh: unknown argument \`$1\`" >&2; usage >&2; exit 2 ;;
  esac
done
for value in "$n" "$mem_n" "$runs"; do
  [[ $value =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: \`$value\` is not a positive number" >&2; exit 2; }
done
shared_ok=0
if [[ -f $shared/gen_profiles.py && -f $shared/reference.py ]]; then shared_ok=1; else
  echo "compare.sh: no shared workload in $shared: the project's generator, checked against --interpreted" >&2; fi
if ((shared_ok)); then reference=reference.py; else reference="narval assign --interpreted"; fi
command -v python3 >/dev/null || { echo "compare.sh: python3 is required" >&2; exit 2; }

target=${CARGO_TARGET_DIR:-$root/target}
data=$target/bench-data
mkdir -p "$data"
cores=$(nproc 2>/dev/null || python3 -c 'import os; print(os.cpu_count())')
gnu_time=0
if [[ -x /usr/bin/time ]] && /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then gnu_time=1; fi

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'compare.sh: %s\n' "$*" >&2; exit 1; }

# The profiles of `gen_profiles.py --n N --seed 2012`, generated once per
# version of the generator (the generator is deterministic).
profiles() {
  local count=$1 version file generator
  if ((shared_ok)); then generator=$shared/gen_profiles.py; else generator=$root/benches/workload/generate.rs; fi
  version=$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest()[:12])' \
    "$generator")
  file=$data/compare-$count-$seed-$version.ndjson
  if [[ ! -s $file ]]; then
    say "generating $count profiles"
    if ((shared_ok)); then
      python3 "$shared/gen_profiles.py" --n "$count" --seed "$seed" >"$file.partial"
    else
      "$target/release/examples/gen_profiles" --n "$count" --seed "$seed" >"$file.partial"
    fi
    mv "$file.partial" "$file"
  fi
  printf '%s\n' "$file"
}

# reference.py's digest of a profile file, computed once.
reference_digest() {
  local file=$1
  if [[ ! -s $file.digest ]]; then
    if ((shared_ok)); then
      say "reference.py on $(basename "$file")"
      python3 "$shared/reference.py" "$file" | sed -n 's/^digest //p' >"$file.digest.partial"
    else
      say "narval assign --interpreted on $(basename "$file")"
      "$narval" assign "$rules" --today 2012-10-01 --interpreted --profiles "$file" --out "$file.interpreted" 2>/dev/null
      output_digest "$file.interpreted" "$(wc -l <"$file")" >"$file.digest.partial"
      rm -f "$file.interpreted"
    fi
    mv "$file.digest.partial" "$file.digest"
  fi
  cat "$file.digest"
}

# The digest of an output file, as reference.py computes it: lines
# `ID<TAB>SOL,SOL<TAB>ISSUE,ISSUE` in id order, streams sorted by name.
output_digest() {
  python3 - "$1" "$2" <<'PY'
import hashlib, json, sys
rows = []
with open(sys.argv[1]) as f:
    for line in f:
        r = json.loads(line)
        rows.append((r["id"], sorted(r["solicitations"]), sorted(r["issues"])))
if len(rows) != int(sys.argv[2]):
    sys.exit(f"{sys.argv[1]}: {len(rows)} lines, expected {sys.argv[2]}")
rows.sort(key=lambda r: r[0])
digest = hashlib.sha256()
for id, sol, iss in rows:
    digest.update(f"{id}\t{','.join(sol)}\t{','.join(iss)}\n".encode())
print(digest.hexdigest())
PY
}

# Runs a command once; sets `wall` (seconds) and `rss` (KiB, peak resident set).
run_once() {
  local start end stats=$data/time.txt status=0
  start=$(date +%s%N)
  if ((gnu_time)); then
    /usr/bin/time -f %M -o "$stats" "$@" 2>>"$data/stderr.txt" || status=$?
    end=$(date +%s%N)
    rss=$(tail -n 1 "$stats")
  else
    # No GNU time: poll the high-water mark while the command runs. The
    # wall clock then includes up to one polling interval after the exit.
    "$@" 2>>"$data/stderr.txt" &
    local pid=$! hwm
    rss=0
    while kill -0 "$pid" 2>/dev/null; do
      hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status" 2>/dev/null || true)
      if [[ -n $hwm ]] && ((hwm > rss)); then rss=$hwm; fi
      sleep 0.02
    done
    wait "$pid" || status=$?
    end=$(date +%s%N)
  fi
  ((status == 0)) || die "\`$*\` exited with status $status; see $data/stderr.txt"
  wall=$(python3 -c "print(($end - $start) / 1e9)")
}

# Runs a command `times` times; sets `best` (seconds) and `peak` (KiB).
measure() {
  local times=$1 i
  shift
  best=
  peak=0
  for ((i = 0; i < times; i++)); do
    run_once "$@"
    if [[ -z $best ]] || python3 -c "import sys; sys.exit(not $wall < $best)"; then best=$wall; fi
    if ((rss > peak)); then peak=$rss; fi
  done
}

# Checks an output file against the reference digest of its profiles.
verify() {
  local out=$1 profiles=$2 count=$3 what=$4 ours theirs
  ours=$(output_digest "$out" "$count") || die "$what: unreadable output $out"
  theirs=$(reference_digest "$profiles")
  [[ $ours == "$theirs" ]] || die "$what: DIGEST MISMATCH: $ours, $reference gives $theirs"
  say "$what: digest matches $reference ($ours)"
}

say "building narval and the baseline in release"
cargo build --release --locked --bin narval --example baseline --example gen_profiles >&2
narval=$target/release/narval
baseline=$target/release/examples/baseline
rules=$root/examples/campaign-2012/campaign.narval

threads=(1)
help=$("$narval" assign --help)
if [[ $help == *--threads* ]]; then
  threads_supported=1
  if ((cores > 1)); then threads+=("$cores"); fi
else
  threads_supported=0
  say "\`narval assign\` has no --threads: only 1 thread is measured"
fi
# Sets `cmd` to `narval assign` at THREADS from PROFILES to OUT.
narval_cmd() {
  cmd=("$narval" assign "$rules" --today 2012-10-01 --profiles "$2" --out "$3")
  if ((threads_supported)); then cmd+=(--threads "$1"); fi
}

: >"$data/stderr.txt"
speed=$(profiles "$n")
memory=$(profiles "$mem_n")
reference_digest "$speed" >/dev/null
reference_digest "$memory" >/dev/null

declare -A rate mib
rate_of() { python3 -c "print(round($1 / $2))"; }
mib_of() { python3 -c "print(round($1 / 1024, 1))"; }

say "speed: $n profiles, best of $runs"
out=$data/out-baseline.ndjson
measure "$runs" "$baseline" "$speed" "$out"
verify "$out" "$speed" "$n" "baseline"
rate[baseline]=$(rate_of "$n" "$best")
for t in "${threads[@]}"; do
  out=$data/out-narval-$t.ndjson
  narval_cmd "$t" "$speed" "$out"
  measure "$runs" "${cmd[@]}"
  verify "$out" "$speed" "$n" "narval, $t thread(s)"
  rate[narval-$t]=$(rate_of "$n" "$best")
done

say "memory: $mem_n profiles, one run each"
out=$data/out-baseline-mem.ndjson
measure 1 "$baseline" "$memory" "$out"
verify "$out" "$memory" "$mem_n" "baseline, $mem_n profiles"
mib[baseline]=$(mib_of "$peak")
for t in "${threads[@]}"; do
  out=$data/out-narval-mem-$t.ndjson
  narval_cmd "$t" "$memory" "$out"
  measure 1 "${cmd[@]}"
  verify "$out" "$memory" "$mem_n" "narval, $t thread(s), $mem_n profiles"
  mib[narval-$t]=$(mib_of "$peak")
done
((keep)) || rm -f "$data"/out-*.ndjson

ratio() { python3 -c "print(f'{$1 / $2:.2f}×')"; }
all=${threads[-1]}
rss_method=$([[ $gnu_time == 1 ]] && echo "/usr/bin/time" || echo "/proc polling")
echo
echo "### File to file: \`narval assign\` and the baseline, $n profiles (seed $seed)"
echo
echo "$(date -u +%Y-%m-%d), $cores cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1), $(rustc --version)."
echo "Wall clock, best of $runs; peak RSS over $mem_n profiles ($rss_method). Every output matched the digest of $reference."
echo
echo "| measure | narval | baseline | ratio | target |"
echo "| --- | --- | --- | --- | --- |"
echo "| end to end, 1 thread (profiles/s) | ${rate[narval-1]} | ${rate[baseline]} | $(ratio "${rate[narval-1]}" "${rate[baseline]}") | ≥ 1.0× |"
if ((${#threads[@]} > 1)); then
  echo "| end to end, $all threads (profiles/s) | ${rate[narval-$all]} | ${rate[baseline]} (1 thread) | $(ratio "${rate[narval-$all]}" "${rate[narval-1]}") of narval at 1 thread | ≥ 1.8× |"
elif ((threads_supported)); then
  echo "| end to end, all threads | (1 core: not measured) | | | ≥ 1.8× |"
else
  echo "| end to end, all threads | (no \`--threads\`: not measured) | | | ≥ 1.8× |"
fi
echo "| peak RSS, $mem_n profiles, 1 thread (MiB) | ${mib[narval-1]} | ${mib[baseline]} | | < 64 MiB |"
if ((${#threads[@]} > 1)); then
  echo "| peak RSS, $mem_n profiles, $all threads (MiB) | ${mib[narval-$all]} | | | < 64 MiB |"
fi

if ((criterion)); then
  say "cargo bench --bench campaign --bench scaling"
  cargo bench --locked --bench campaign --bench scaling >&2
  echo
  echo "### Criterion (\`cargo bench --bench campaign --bench scaling\`), profiles per second"
  echo
  python3 - "$target/criterion" <<'PY'
import json, os, sys
base = sys.argv[1]
def load(group, bench):
    d = os.path.join(base, group, bench, "new")
    with open(os.path.join(d, "estimates.json")) as f:
        mean = json.load(f)["mean"]["point_estimate"]  # ns per iteration
    with open(os.path.join(d, "benchmark.json")) as f:
        throughput = json.load(f).get("throughput") or {}
    return mean, throughput.get("Elements")
def rate(group, bench):
    mean, elements = load(group, bench)
    return elements / (mean / 1e9)
print("| measure | narval | baseline | ratio | target |")
print("| --- | --- | --- | --- | --- |")
for group, target in [("decode", ""), ("evaluate", "≥ 0.5×"), ("end_to_end", "")]:
    ours, theirs = rate(group, "narval"), rate(group, "baseline")
    print(f"| {group.replace('_', ' ')} (profiles/s) | {ours:,.0f} | {theirs:,.0f} | {ours / theirs:.2f}× | {target} |")
alone = rate("scaling_evaluate", "+0")
for n in ["+10", "+100", "+1000", "+10000"]:
    r = rate("scaling_evaluate", n)
    target = "≥ 0.5×" if n == "+10000" else ""
    print(f"| evaluate, 23 campaign rules {n} generated (profiles/s) | {r:,.0f} | 23 rules: {alone:,.0f} | {r / alone:.3f}× | {target} |")
for n in ["+0", "+10", "+100", "+1000", "+10000"]:
    mean, _ = load("scaling_build", n)
    target = "well under 1 s" if n == "+10000" else ""
    print(f"| check + compile, 23 rules {n} (ms) | {mean / 1e6:.1f} | | | {target} |")
PY
  # The evaluation ratios again, with passes taken in turn so that the
  # machine's drift between criterion's routines cannot bias them.
  say "cargo bench --bench interleaved"
  echo
  cargo bench --locked --bench interleaved 2>/dev/null | sed -n '/^###/,$p'
fi
