"""`matcher db upgrade`: apply every pending schema migration to the database."""

from __future__ import annotations

import argparse
from typing import Any

from .common import EXIT_OK


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    d = subparsers.add_parser("db", help="database schema: apply migrations")
    ds = d.add_subparsers(dest="db_command", required=True)
    du = ds.add_parser("upgrade", help="apply every pending migration")
    du.add_argument("--database-url")
    return d


def run(args: argparse.Namespace) -> int:
    from ..store.db import current_revision, open_engine, upgrade

    engine = open_engine(args.database_url)
    upgrade(engine)
    print(f"schema at revision {current_revision(engine)}")
    return EXIT_OK
