#!/usr/bin/env python3
"""Runs `narval sql` on live engines and compares every row with `narval assign`.

    live.py --narval BIN --engine duckdb|postgres RULES... --profiles FILE [--today D]
            [--pg-host DIR] [--expect-digest HEX]

Creates the table from `narval sql --ddl`, loads the profiles with
`narval sql --load`, runs the query, and compares each profile's streams
with what `narval assign` wrote (rejected lines on both sides too). Prints
the number of rows compared; exits 1 on any difference.
"""
import argparse, hashlib, json, subprocess, sys, tempfile, os


def narval(bin_, *args, stdin=None):
    r = subprocess.run([bin_, *args], capture_output=True, text=True, input=stdin)
    return r


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


def sql(bin_, rules, today, dialect, *extra):
    args = ["sql", *rules, "--dialect", dialect, *extra]
    if today:
        args += ["--today", today]
    r = narval(bin_, *args)
    if r.returncode not in (0, 3):
        sys.exit(f"narval sql {' '.join(extra)} failed ({r.returncode}): {r.stderr}")
    return r.stdout


def run_duckdb(ddl, load, query):
    import duckdb
    c = duckdb.connect()
    c.execute("SET threads TO 1")
    c.execute(ddl)
    if load.strip():
        c.execute(load)
    return c.execute(query).fetchall()


def run_postgres(ddl, load, query, host):
    import psycopg
    db = "narval_live"
    with psycopg.connect(host=host, user="narval", dbname="postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {db}")
        admin.execute(f"CREATE DATABASE {db}")
    with psycopg.connect(host=host, user="narval", dbname=db, autocommit=True) as c:
        c.execute(ddl)
        if load.strip():
            c.execute(load)
        return c.execute(query).fetchall()


def run_spark(ddl, load, query):
    import tempfile
    from pyspark.sql import SparkSession
    warehouse = tempfile.mkdtemp(prefix="narval-spark-")
    s = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
         .config("spark.sql.warehouse.dir", warehouse).config("spark.sql.shuffle.partitions", "1").getOrCreate())
    s.sparkContext.setLogLevel("ERROR")
    s.sql("DROP TABLE IF EXISTS profiles")
    for statement in ddl.split(";"):
        if statement.strip():
            s.sql(statement)
    for statement in load.split(";\n"):
        if statement.strip():
            s.sql(statement)
    return [tuple(row) for row in s.sql(query).collect()]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--narval", required=True)
    p.add_argument("--engine", required=True)
    p.add_argument("--profiles", required=True)
    p.add_argument("--today")
    p.add_argument("--pg-host")
    p.add_argument("--expect-digest", help="the digest the rows must give (reference.py's)")
    p.add_argument("rules", nargs="+")
    a = p.parse_args()
    expected = assign(a.narval, a.rules, a.profiles, a.today)
    ddl = sql(a.narval, a.rules, a.today, a.engine, "--ddl")
    load = sql(a.narval, a.rules, a.today, a.engine, "--load", a.profiles)
    query = sql(a.narval, a.rules, a.today, a.engine)
    if a.engine == "duckdb":
        rows = run_duckdb(ddl, load, query)
    elif a.engine == "postgres":
        rows = run_postgres(ddl, load, query, a.pg_host)
    else:
        rows = run_spark(ddl, load, query)
    got = {}
    for id_, sol, iss, rejected in rows:
        if rejected is not None:
            sys.exit(f"row {id_} rejected by SQL: {rejected}")
        got[str(id_)] = (list(sol), list(iss))
    diffs = [k for k in expected if expected[k] != got.get(k)] + [k for k in got if k not in expected]
    for k in diffs[:10]:
        print(f"id {k}: narval {expected.get(k)} sql {got.get(k)}", file=sys.stderr)
    digest = hashlib.sha256()
    for k in expected:
        sol, iss = got.get(k, ([], []))
        digest.update(f"{k}\t{','.join(sorted(sol))}\t{','.join(sorted(iss))}\n".encode())
    print(f"{a.engine}: {len(got)} rows compared with narval assign, {len(diffs)} differ; digest {digest.hexdigest()}")
    if a.expect_digest and digest.hexdigest() != a.expect_digest:
        print(f"{a.engine}: digest {digest.hexdigest()}, expected {a.expect_digest}", file=sys.stderr)
        sys.exit(1)
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
