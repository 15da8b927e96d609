"""The FastAPI application: storage opened and migrated at start-up, interrupted runs settled, jobs started."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

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
        queued = repo.recover_interrupted(engine) if app.state.ready else []
        queued_rollouts = repo.recover_interrupted_rollouts(engine) if app.state.ready else []
        jobs = JobRunner(engine, s.database_url, s.job_processes, s.solve_workers)
        jobs.start()
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
