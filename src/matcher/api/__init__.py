"""The REST API (FastAPI): datasets, pairing runs as jobs, principals' re-matches, scoped API keys."""

from .app import create_app

__all__ = ["create_app"]
