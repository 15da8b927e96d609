"""`matcher keys create|list|revoke`: the API's keys (a new key is printed once and stored hashed)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .common import EXIT_FAILURE, EXIT_OK


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    k = subparsers.add_parser("keys", help="API keys: create (printed once, stored hashed), list, revoke")
    ks = k.add_subparsers(dest="keys_command", required=True)
    kc = ks.add_parser("create", help="print a new key alone on stdout")
    kc.add_argument("--role", required=True, choices=["state", "principal", "researcher", "facilitator"])
    kc.add_argument("--school", action="append", default=[], help="a school a principal key may see (repeat)")
    kc.add_argument("--facilitator", action="append", default=[],
                    help="a facilitator id (as in the facilitators file) a facilitator key stands for (repeat): it "
                         "sees the school networks assigned to it")
    kc.add_argument("--label", default="", help="who holds the key, for listings")
    ks.add_parser("list", help="list keys (never the keys themselves)")
    kr = ks.add_parser("revoke", help="revoke a key by its id (the part after mk_)")
    kr.add_argument("key_id")
    for q in ks.choices.values():
        q.add_argument("--database-url", help="default: MATCHER_DATABASE_URL, else sqlite:///./matcher.db")
    return k


def run(args: argparse.Namespace) -> int:
    from ..store.db import open_engine, upgrade
    from ..store.keys import create_key, list_keys, revoke_key

    engine = open_engine(args.database_url)
    upgrade(engine)
    if args.keys_command == "create":
        print(create_key(engine, args.role, args.school, args.label, args.facilitator))
    elif args.keys_command == "list":
        for k in list_keys(engine):
            state = f"revoked {k['revoked_at']:%Y-%m-%d}" if k["revoked_at"] else "active"
            scope = k["facilitators"] if k["role"] == "facilitator" else k["schools"]  # its schools or facilitators
            print(f"{k['id']}\t{k['role']}\t{';'.join(scope)}\t{state}\t{k['label']}")
    elif not revoke_key(engine, args.key_id):
        print(f"error: no active key {args.key_id!r}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK
