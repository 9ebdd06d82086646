#!/usr/bin/env bash
# The SQL back end on live engines: DuckDB (the Python wheel, in a venv) and
# PostgreSQL (Debian's server; a private cluster on a unix socket under a
# temporary folder, stopped at the end). Every generated text is parsed
# with sqlglot in its dialect; the example's profiles, the campaign digest
# on 100,000 profiles (with ../shared) and the differential corpus are
# compared row for row with `narval assign` on both engines.
#
#   .ci/sql.sh            what .ci/run calls
# Needs: python3 with venv, PostgreSQL's server binaries (apt: postgresql).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/narval-sql.XXXXXX")
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
stop() {
  if [[ -n "${pg_bin:-}" && -f "$work/pg/data/postmaster.pid" ]]; then
    run_pg "$pg_bin/pg_ctl" -D "$work/pg/data" -m fast stop >/dev/null || true
  fi
  rm -rf "$work"
}
trap stop EXIT

# PostgreSQL refuses to run as root: the cluster belongs to `postgres`
# (made by Debian's package) when CI runs as root.
run_pg() {
  if [[ $(id -u) == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

if [[ -z $pg_bin ]]; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "sql: installing PostgreSQL (apt)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  else
    echo "sql: PostgreSQL's server is required (apt: postgresql)" >&2
    exit 1
  fi
fi

echo "sql: a venv with duckdb, psycopg and sqlglot"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check -r .ci/sql-requirements.txt
python="$work/venv/bin/python"

echo "sql: a PostgreSQL cluster on a unix socket in $work/pg"
mkdir -p "$work/pg"
chmod 755 "$work"
if [[ $(id -u) == 0 ]]; then chown postgres "$work/pg"; fi
run_pg "$pg_bin/initdb" -D "$work/pg/data" -A trust -U narval --no-sync >/dev/null
run_pg "$pg_bin/pg_ctl" -D "$work/pg/data" -w -l "$work/pg/log" \
  -o "-k $work/pg -c listen_addresses='' -c fsync=off" start >/dev/null

cargo build --release --locked --quiet --bin narval
narval=$root/target/release/narval

echo "sql: every golden text parses in its dialect (sqlglot)"
"$python" tests/sql/parse.py

live() {
  for engine in duckdb postgres; do
    "$python" tests/sql/live.py --narval "$narval" --engine "$engine" --pg-host "$work/pg" "$@"
  done
}

echo "sql: the example's profiles"
live --profiles examples/campaign-2012/profiles.ndjson --today 2012-10-01 examples/campaign-2012/campaign.narval

echo "sql: rows the decoder would refuse, made in the table, come out rejected"
for engine in duckdb postgres; do
  "$python" tests/sql/dirty.py --narval "$narval" --engine "$engine" --pg-host "$work/pg"
done

shared=${NARVAL_BENCH_SHARED:-$root/../shared/bench}
if [[ -f $shared/gen_profiles.py ]]; then
  echo "sql: the campaign digest on 100,000 profiles (gen_profiles.py --seed 2012)"
  python3 "$shared/gen_profiles.py" --n 100000 --seed 2012 >"$work/shared.ndjson"
  digest=$(python3 "$shared/reference.py" "$work/shared.ndjson" | sed -n 's/^digest //p')
  live --profiles "$work/shared.ndjson" --today 2012-10-01 --expect-digest "$digest" examples/campaign-2012/campaign.narval
else
  echo "sql: the 100,000-profile digest skipped, no shared workload in $shared"
fi

echo "sql: the differential corpus (tests/differential.rs writes it), row for row"
NARVAL_SQL_CORPUS="$work/corpus" cargo test --locked --quiet --test differential -- the_sql_corpus_is_written >/dev/null
live --corpus "$work/corpus"
