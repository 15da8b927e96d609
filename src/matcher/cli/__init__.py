"""Command line: `matcher pair` (teacher pairs), `matcher synth` (synthetic districts and cities), `matcher networks`
(school networks), `matcher teams` (teacher teams), `matcher simulate` (rollout simulations), `matcher serve` (the
REST API and web page), `matcher keys` (API keys) and `matcher db upgrade` (schema migrations)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ..errors import MatcherError
from . import db, keys, networks, pair, serve, simulate, synth, teams
from .common import print_error

# One module per command, each with add_parser(subparsers) and run(args) -> exit code; in the order of --help.
COMMANDS = {"pair": pair, "synth": synth, "networks": networks, "teams": teams, "simulate": simulate,
            "serve": serve, "keys": keys, "db": db}


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="matcher", description=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)
    for command in COMMANDS.values():
        command.add_parser(sub)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command].run(args)
    except MatcherError as exc:
        return print_error(exc)
