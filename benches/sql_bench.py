#!/usr/bin/env python3
"""The SQL back end's speed, in one run: on DuckDB, one thread, the query
`narval sql` writes for the campaign rules against the SQL an analyst would
write by hand (benches/sql/campaign.duckdb.sql), both checked to give the
shared workload's digest; PostgreSQL's figure for the generated query; and
narval's own rate (`narval assign --threads 1`) on the same profiles.

    benches/sql_bench.py --narval target/release/narval --shared ../shared/bench
                         [--n 1000000] [--pg-host DIR] [--runs 3]

Prints seconds and profiles per second for each, and the ratios. Needs the
duckdb wheel (and psycopg for --pg-host), as .ci/sql-requirements.txt.
"""
import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time

RULES = "examples/campaign-2012/campaign.narval"
TODAY = "2012-10-01"


def digest(rows):
    """The shared workload's digest of (id, solicitations, issues) rows, by id."""
    h = hashlib.sha256()
    for id_, sol, iss in sorted(rows, key=lambda r: int(r[0])):
        h.update(f"{id_}\t{','.join(sorted(sol))}\t{','.join(sorted(iss))}\n".encode())
    return h.hexdigest()


def best(runs, f):
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = f()
        times.append(time.perf_counter() - start)
    return min(times), result


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--narval", required=True)
    p.add_argument("--shared", required=True, help="the folder of gen_profiles.py and reference.py")
    p.add_argument("--n", type=int, default=1_000_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--pg-host")
    a = p.parse_args()
    import duckdb

    work = tempfile.mkdtemp(prefix="narval-sql-bench-")
    profiles = os.path.join(work, "profiles.ndjson")
    with open(profiles, "w") as out:
        subprocess.run([sys.executable, os.path.join(a.shared, "gen_profiles.py"), "--n", str(a.n), "--seed", "2012"],
                       stdout=out, check=True)
    reference = subprocess.run([sys.executable, os.path.join(a.shared, "reference.py"), profiles],
                               capture_output=True, text=True, check=True).stdout
    expected = next(line.split()[1] for line in reference.splitlines() if line.startswith("digest "))

    def narval_sql(*extra):
        return subprocess.run([a.narval, "sql", RULES, "--today", TODAY, *extra], capture_output=True, text=True,
                              check=True).stdout

    # DuckDB: the table narval's --ddl describes, filled from the NDJSON by
    # DuckDB itself (money to cents), which is quicker than a million INSERTs.
    c = duckdb.connect()
    c.execute("SET threads TO 1")
    c.execute(narval_sql("--dialect", "duckdb", "--ddl"))
    c.execute(f"""
        INSERT INTO profiles
        SELECT id, email, state, zip, precinct, polling_place, age, party, registered, engagement, volunteer,
               scores,
               list_transform(donations, lambda d: {{'amount': CAST(round(d.amount * 100) AS BIGINT),
                                                   'context': d.context, 'date': d.date}}),
               issues, consent, last_contact
        FROM read_json('{profiles}', format = 'newline_delimited', columns = {{
            id: 'BIGINT', email: 'VARCHAR', state: 'VARCHAR', zip: 'VARCHAR', precinct: 'VARCHAR',
            polling_place: 'VARCHAR', age: 'BIGINT', party: 'VARCHAR', registered: 'BOOLEAN',
            engagement: 'BIGINT', volunteer: 'BOOLEAN',
            scores: 'STRUCT(support DOUBLE, turnout DOUBLE, persuasion DOUBLE)',
            donations: 'STRUCT(amount DOUBLE, context VARCHAR, date DATE)[]',
            issues: 'VARCHAR[]', consent: 'STRUCT(email BOOLEAN, sms BOOLEAN, phone BOOLEAN)',
            last_contact: 'DATE'}})""")
    generated = narval_sql("--dialect", "duckdb")
    with open(os.path.join(os.path.dirname(__file__), "sql", "campaign.duckdb.sql")) as f:
        by_hand = f.read()

    def run(query, columns):
        return c.execute(f"SELECT {columns} FROM ({query}) AS q").fetchall()

    t_gen, rows = best(a.runs, lambda: run(generated, "id, solicitations, issues"))
    assert all(r[1] is not None for r in rows), "a row was rejected"
    assert digest(rows) == expected, "the generated query does not give the workload's digest"
    t_hand, rows = best(a.runs, lambda: run(by_hand, "id, solicitations, issues"))
    assert digest(rows) == expected, "the hand-written query does not give the workload's digest"

    # narval's own rate, end to end on the NDJSON file.
    def assign():
        subprocess.run([a.narval, "assign", RULES, "--today", TODAY, "--profiles", profiles, "--threads", "1",
                        "--out", os.devnull], check=True)
    t_narval, _ = best(a.runs, assign)

    rate = lambda t: f"{a.n / t:,.0f} profiles/s"
    print(f"profiles: {a.n:,}; digest {expected}")
    print(f"duckdb, generated query, 1 thread: {t_gen:.3f} s ({rate(t_gen)})")
    print(f"duckdb, hand-written query, 1 thread: {t_hand:.3f} s ({rate(t_hand)})")
    print(f"ratio: the generated query runs at {t_hand / t_gen:.2f}x the hand-written one's speed")
    print(f"narval assign --threads 1, NDJSON end to end: {t_narval:.3f} s ({rate(t_narval)})")

    if a.pg_host:
        import psycopg
        with psycopg.connect(host=a.pg_host, user="narval", dbname="postgres", autocommit=True) as pg:
            pg.execute("DROP SCHEMA IF EXISTS narval_bench CASCADE")
            pg.execute("CREATE SCHEMA narval_bench")
            pg.execute("SET search_path TO narval_bench")
            pg.execute(narval_sql("--dialect", "postgres", "--ddl"))
            load = subprocess.Popen([a.narval, "sql", RULES, "--dialect", "postgres", "--load", profiles],
                                    stdout=subprocess.PIPE, text=True)
            statement = []
            for line in load.stdout:
                statement.append(line)
                if line.endswith(";\n"):
                    pg.execute("".join(statement))
                    statement = []
            load.wait()
            pg.execute("SET max_parallel_workers_per_gather TO 0")
            query = narval_sql("--dialect", "postgres")
            t_pg, rows = best(a.runs, lambda: pg.execute(query).fetchall())
            assert digest([(r[0], r[1], r[2]) for r in rows]) == expected, "PostgreSQL does not give the digest"
            print(f"postgres, generated query, no parallel workers: {t_pg:.3f} s ({rate(t_pg)})")
            pg.execute("DROP SCHEMA narval_bench CASCADE")


if __name__ == "__main__":
    main()
