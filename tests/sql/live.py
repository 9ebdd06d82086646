#!/usr/bin/env python3
"""Runs `narval sql` on live engines and compares every row with `narval assign`.

    live.py --narval BIN --engine duckdb|postgres|spark [--pg-host DIR]
            (--profiles FILE [--today D] [--expect-digest HEX] RULES...
             | --corpus DIR)

For one rule set: creates the table from `narval sql --ddl`, loads the
profiles with `narval sql --load` (each line read as `assign` reads it),
runs the query, and compares each profile's streams with what `narval
assign` wrote. The lines `assign` rejects are rejected by the load too and
compared as such. Prints the rows compared and the digest of the shared
workload (WORKLOAD.md); exits 1 on any difference.

With --corpus, does the same for every case of the differential corpus
(`NARVAL_SQL_CORPUS=DIR cargo test --test differential -- the_sql_corpus_is_written`), and
reports how many (rule set, profile) outcomes were compared, how many rule
sets discriminate (give different profiles different streams) and the
outcomes in them, and every disagreement.
"""
import argparse
import hashlib
import json
import pathlib
import subprocess
import sys
import tempfile


def narval(bin_, *args):
    return subprocess.run([bin_, *args], capture_output=True, text=True)


def assign(bin_, rules, profiles, today):
    args = ["assign", *rules, "--profiles", profiles, "--threads", "1"]
    if today:
        args += ["--today", today]
    r = narval(bin_, *args)
    if r.returncode not in (0, 3):
        sys.exit(f"narval assign failed ({r.returncode}): {r.stderr}")
    out = {}
    for line in r.stdout.splitlines():
        row = json.loads(line)
        out[str(row["id"])] = (row["solicitations"], row["issues"])
    return out


class Refused(Exception):
    """`narval sql` refused the rule set for the dialect (E0501)."""


def sql(bin_, rules, today, dialect, *extra):
    args = ["sql", *rules, "--dialect", dialect, *extra]
    if today:
        args += ["--today", today]
    r = narval(bin_, *args)
    if r.returncode == 1 and "[E0501]" in r.stderr:
        raise Refused(r.stderr)
    if r.returncode not in (0, 3):
        sys.exit(f"narval sql {' '.join(extra)} failed ({r.returncode}): {r.stderr}")
    return r.stdout


class DuckDb:
    def __init__(self, _args):
        import duckdb
        self.duckdb = duckdb

    def run(self, ddl, load, query):
        c = self.duckdb.connect()
        c.execute("SET threads TO 1")
        c.execute(ddl)
        if load.strip():
            c.execute(load)
        rows = c.execute(query).fetchall()
        c.close()
        return rows


class Postgres:
    def __init__(self, args):
        import psycopg
        self.c = psycopg.connect(host=args.pg_host, user="narval", dbname="postgres", autocommit=True)
        self.c.execute("DROP SCHEMA IF EXISTS narval_live CASCADE")

    def run(self, ddl, load, query):
        # A schema a case, dropped with its table and types.
        self.c.execute("DROP SCHEMA IF EXISTS narval_live CASCADE")
        self.c.execute("CREATE SCHEMA narval_live")
        self.c.execute("SET search_path TO narval_live")
        self.c.execute(ddl)
        if load.strip():
            self.c.execute(load)
        return self.c.execute(query).fetchall()


class Spark:
    def __init__(self, _args):
        from pyspark.sql import SparkSession
        warehouse = tempfile.mkdtemp(prefix="narval-spark-")
        self.s = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
                  .config("spark.sql.warehouse.dir", warehouse)
                  .config("spark.sql.shuffle.partitions", "1").getOrCreate())
        self.s.sparkContext.setLogLevel("ERROR")

    def run(self, ddl, load, query):
        self.s.sql("DROP TABLE IF EXISTS profiles")
        for statement in ddl.split(";"):
            if statement.strip():
                self.s.sql(statement)
        for statement in load.split(";\n"):
            if statement.strip():
                self.s.sql(statement)
        return [tuple(row) for row in self.s.sql(query).collect()]


ENGINES = {"duckdb": DuckDb, "postgres": Postgres, "spark": Spark}


def compare(a, engine, rules, profiles, today):
    """The outcomes of one rule set: (expected, got, differences)."""
    expected = assign(a.narval, rules, profiles, today)
    ddl = sql(a.narval, rules, today, a.engine, "--ddl")
    load = sql(a.narval, rules, today, a.engine, "--load", profiles)
    query = sql(a.narval, rules, today, a.engine)
    got = {}
    for id_, sol, iss, rejected in engine.run(ddl, load, query):
        got[str(id_)] = ("rejected", rejected) if rejected is not None else (list(sol), list(iss))
    diffs = [k for k in expected if expected[k] != got.get(k)] + [k for k in got if k not in expected]
    return expected, got, diffs


def digest_of(expected, got):
    digest = hashlib.sha256()
    for k in expected:
        sol, iss = got.get(k, ([], []))
        digest.update(f"{k}\t{','.join(sorted(sol))}\t{','.join(sorted(iss))}\n".encode())
    return digest.hexdigest()


def one(a, engine):
    expected, got, diffs = compare(a, engine, a.rules, a.profiles, a.today)
    for k in diffs[:10]:
        print(f"id {k}: narval {expected.get(k)} sql {got.get(k)}", file=sys.stderr)
    digest = digest_of(expected, got)
    print(f"{a.engine}: {len(got)} rows compared with narval assign, {len(diffs)} differ; digest {digest}")
    if a.expect_digest and digest != a.expect_digest:
        print(f"{a.engine}: digest {digest}, expected {a.expect_digest}", file=sys.stderr)
        return 1
    return 1 if diffs else 0


def corpus(a, engine):
    cases = sorted(p for p in pathlib.Path(a.corpus).iterdir() if (p / "rules.narval").exists())
    sets = refused = outcomes = discriminating = discriminating_outcomes = 0
    disagreements = []
    for case in cases:
        rules = [str(case / "rules.narval")]
        today = (case / "today").read_text().strip()
        try:
            expected, got, diffs = compare(a, engine, rules, str(case / "profiles.ndjson"), today)
        except Refused:
            refused += 1
            continue
        except Exception as error:  # the engine raised: a disagreement too
            disagreements.append(f"{case.name}: {a.engine} raised {type(error).__name__}: {str(error)[:300]}")
            if a.engine == "postgres":
                engine.c.rollback() if not engine.c.autocommit else None
            continue
        sets += 1
        outcomes += len(expected)
        if len({json.dumps(v) for v in expected.values()}) > 1:
            discriminating += 1
            discriminating_outcomes += len(expected)
        for k in diffs:
            disagreements.append(f"{case.name} id {k}: narval {expected.get(k)} sql {got.get(k)}")
    for line in disagreements[:20]:
        print(line, file=sys.stderr)
    print(f"{a.engine}: corpus of {len(cases)} rule sets: {sets} compared ({refused} refused by the dialect, E0501); "
          f"{outcomes} (rule set, profile) outcomes compared, {len(disagreements)} disagree; "
          f"{discriminating} rule sets discriminate, with {discriminating_outcomes} outcomes")
    return 1 if disagreements else 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--narval", required=True)
    p.add_argument("--engine", required=True, choices=sorted(ENGINES))
    p.add_argument("--profiles")
    p.add_argument("--corpus")
    p.add_argument("--today")
    p.add_argument("--pg-host")
    p.add_argument("--expect-digest", help="the digest the rows must give (reference.py's)")
    p.add_argument("rules", nargs="*")
    a = p.parse_args()
    engine = ENGINES[a.engine](a)
    sys.exit(corpus(a, engine) if a.corpus else one(a, engine))


if __name__ == "__main__":
    main()
