#!/usr/bin/env python3
"""Rows narval would not read as profiles, made in the table itself (as a
warehouse may hold them), must come out of the query rejected, naming the
field, and the same profiles as JSON must be rejected by `narval assign`.

    dirty.py --narval BIN --engine duckdb|postgres [--pg-host DIR]
"""
import argparse, json, subprocess, sys, tempfile, os

sys.path.insert(0, os.path.dirname(__file__))
import live  # noqa: E402

RULES = "examples/campaign-2012/campaign.narval"
TODAY = "2012-10-01"

# (id, SQL per engine that dirties the row, the JSON change, the field the reason names)
CASES = [
    (1, {"duckdb": "issues = ['jobs', NULL]", "postgres": "issues = ARRAY['jobs', NULL]"},
     {"issues": ["jobs", None]}, "issues"),
    (2, {"duckdb": "age = NULL", "postgres": "age = NULL"}, {"age": None}, "age"),
    (3, {"duckdb": "party = 'green'", "postgres": "party = 'green'"}, {"party": "green"}, "party"),
    (4, {"duckdb": "consent = {'email': TRUE, 'sms': NULL, 'phone': TRUE}",
         "postgres": "consent = ROW(TRUE, NULL, TRUE)"}, {"consent": {"email": True, "sms": None, "phone": True}},
     "consent.sms"),
    (5, {"duckdb": "last_contact = DATE '10000-01-01'", "postgres": "last_contact = DATE '10000-01-01'"},
     {"last_contact": "10000-01-01"}, "last_contact"),
    (6, {"duckdb": "donations = [{'amount': NULL, 'context': 'rally', 'date': DATE '2012-01-01'}]",
         "postgres": "donations = ARRAY[ROW(NULL, 'rally', DATE '2012-01-01')::{donation}]"}, {"donations": [{"amount": None, "context": "rally", "date": "2012-01-01"}]}, "donations"),
]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--narval", required=True)
    p.add_argument("--engine", required=True, choices=["duckdb", "postgres"])
    p.add_argument("--pg-host")
    a = p.parse_args()
    profiles = [json.loads(line) for line in open("examples/campaign-2012/profiles.ndjson")]
    by_id = {p["id"]: p for p in profiles}
    # narval rejects each dirty profile as JSON.
    for id_, _, change, field in CASES:
        dirty = dict(by_id[id_], **change)
        with tempfile.NamedTemporaryFile("w", suffix=".ndjson", delete=False) as f:
            f.write(json.dumps(dirty) + "\n")
        r = subprocess.run([a.narval, "assign", RULES, "--today", TODAY, "--profiles", f.name],
                           capture_output=True, text=True)
        os.unlink(f.name)
        assert r.returncode == 3 and f"`{field}" in r.stderr, f"narval assign on profile {id_}: {r.returncode} {r.stderr}"
    ddl = live.sql(a.narval, [RULES], TODAY, a.engine, "--ddl")
    load = live.sql(a.narval, [RULES], TODAY, a.engine, "--load", "examples/campaign-2012/profiles.ndjson")
    query = live.sql(a.narval, [RULES], TODAY, a.engine)
    # PostgreSQL's composite type of a donation, as --ddl names it.
    donation = next((line.split()[2] for line in ddl.splitlines() if '("amount"' in line), "")
    updates = ";\n".join(f"UPDATE profiles SET {sql[a.engine].replace('{donation}', donation)} WHERE id = {id_}"
                         for id_, sql, _, _ in CASES if sql[a.engine])
    engine = live.ENGINES[a.engine](a)
    rows = {str(r[0]): r for r in engine.run(ddl, load + ";\n" + updates, query)}
    checked = 0
    for id_, sql, _, field in CASES:
        if not sql[a.engine]:
            continue
        _, sol, iss, rejected = rows[str(id_)]
        assert rejected is not None and f"`{field}" in rejected and sol is None and iss is None, \
            f"row {id_}: {rejected!r} {sol} {iss}"
        checked += 1
    clean = [r for r in rows.values() if r[3] is None]
    assert len(clean) == len(profiles) - checked, f"{len(clean)} clean rows"
    print(f"{a.engine}: {checked} dirty rows rejected naming their field, as narval rejects them; "
          f"{len(clean)} clean rows assigned")


if __name__ == "__main__":
    main()
