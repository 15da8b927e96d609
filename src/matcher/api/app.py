"""The FastAPI application: storage opened and migrated at start-up, interrupted runs settled, jobs started."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ..processes import die_with_parent, process_gone
from ..store import repo
from ..store.db import current_revision, head_revision, open_engine, upgrade
from ..web import mount_web
from . import errors
from .jobs import JobRunner
from .limits import BodyLimit
from .routers import audit, datasets, health, me, network_maps, networks, pairings, reports, rollouts, rubrics
from .settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app; settings default to the environment (MATCHER_DATABASE_URL and friends), read here, not at import."""

    s = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = open_engine(s.database_url)
        if s.auto_migrate:
            upgrade(engine)
        at, head = current_revision(engine), head_revision()
        app.state.ready = at == head
        if not app.state.ready:
            log.error("the database schema is at revision %s but this code needs %s: run `matcher db upgrade`; "
                      "/v1 answers 503 until then", at, head)
        # Runs another live server is working on are left alone; those whose job process is gone are settled.
        queued = repo.recover_interrupted(engine, process_gone) if app.state.ready else []
        queued_rollouts = repo.recover_interrupted_rollouts(engine, process_gone) if app.state.ready else []
        jobs = JobRunner(engine, s.database_url, s.job_processes, s.solve_workers, s.lease_seconds)
        jobs.start(sweep=app.state.ready)
        app.state.settings, app.state.engine, app.state.jobs = s, engine, jobs
        for run_id in queued:
            log.info("resuming queued pairing run %s", run_id)
            jobs.submit(run_id)
        for run_id in queued_rollouts:
            log.info("resuming queued rollout %s", run_id)
            jobs.submit_rollout(run_id)
        try:
            yield
        finally:
            jobs.shutdown()
            engine.dispose()

    app = FastAPI(title="matcher", version="1", lifespan=lifespan,
                  description="Exact teacher pairing for collaborative professional learning: datasets, pairing "
                              "runs, principals' re-matches. Every /v1 route needs 'Authorization: Bearer <key>'.")
    errors.install(app)
    app.add_middleware(BodyLimit, max_bytes=s.max_upload_bytes)
    for r in (health.router, datasets.router, pairings.router, networks.router, rollouts.router, audit.router):
        app.include_router(r)
    for r in (me.router, rubrics.router, reports.router, network_maps.router):  # what the web page needs too
        app.include_router(r)
    mount_web(app)
    return app


SERVER_PID = "MATCHER_SERVER_PID"  # set by `matcher serve --workers N` for its worker processes


def worker_app() -> FastAPI:
    """The app of one worker process of `matcher serve --workers N` (uvicorn's factory; settings from the
    environment). The worker dies with the server process that started it, however that one ends."""
    parent = os.environ.get(SERVER_PID)
    if parent and int(parent) != os.getpid():
        die_with_parent(int(parent))
    return create_app()
