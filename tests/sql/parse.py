#!/usr/bin/env python3
"""Parses every golden SQL text (tests/sql/golden/*.<dialect>[.ddl].sql) with
sqlglot in its dialect: the check `.ci/run` makes of the dialects no engine
here runs (BigQuery, Snowflake), and of the others too.

    parse.py [FILE...]      (default: every golden .sql file)
"""
import pathlib, sys

import sqlglot
from sqlglot.errors import ParseError

DIALECTS = {"duckdb": "duckdb", "postgres": "postgres", "spark": "spark", "bigquery": "bigquery", "snowflake": "snowflake"}


def main():
    root = pathlib.Path(__file__).parent / "golden"
    files = [pathlib.Path(f) for f in sys.argv[1:]] or sorted(root.glob("*.sql"))
    failed = 0
    for path in files:
        dialect = next((d for d in DIALECTS if f".{d}." in path.name), None)
        if dialect is None:
            continue
        text = path.read_text()
        try:
            statements = [s for s in sqlglot.parse(text, read=DIALECTS[dialect]) if s is not None]
            if not statements:
                raise ParseError("no statement")
        except ParseError as error:
            failed += 1
            print(f"{path.name}: {str(error)[:400]}", file=sys.stderr)
            continue
        print(f"{path.name}: {len(statements)} statement(s) parsed as {dialect}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
