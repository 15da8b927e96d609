"""`matcher serve`: run the REST API with uvicorn, on one process or several sharing the port and the database."""

from __future__ import annotations

import argparse
import dataclasses
import os
from typing import Any

from ..errors import InputError, Problem
from .common import EXIT_OK


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    v = subparsers.add_parser("serve", help="run the REST API (uvicorn); storage from MATCHER_DATABASE_URL")
    v.add_argument("--host", default="127.0.0.1")
    v.add_argument("--port", type=int, default=8000)
    v.add_argument("--database-url", help="default: MATCHER_DATABASE_URL, else sqlite:///./matcher.db")
    v.add_argument("--log-level", default="info")
    v.add_argument("--workers", type=int, default=1,
                   help="server processes (uvicorn workers) on the one port; each runs its own job processes and "
                        "all share the database (default 1)")
    return v


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from ..api import create_app
    from ..api.settings import Settings

    if args.workers < 1:
        raise InputError([Problem("command line", "must be at least 1", column="--workers", value=str(args.workers))])
    settings = Settings.from_env()  # checked here, once, whatever the number of workers
    if args.database_url:
        from ..store.db import database_url

        settings = dataclasses.replace(settings, database_url=database_url(args.database_url))
    if args.workers == 1:
        uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level)
        return EXIT_OK
    from ..api.app import SERVER_PID

    # Each worker process makes its app from the environment (uvicorn needs an import string to start them).
    os.environ["MATCHER_DATABASE_URL"] = settings.database_url
    os.environ[SERVER_PID] = str(os.getpid())
    uvicorn.run("matcher.api.app:worker_app", factory=True, workers=args.workers, host=args.host, port=args.port,
                log_level=args.log_level)
    return EXIT_OK
