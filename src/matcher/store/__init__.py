"""Storage for the API: datasets, pairing runs, school revisions, API keys and the audit trail (SQLAlchemy Core,
SQLite or PostgreSQL, schema managed by Alembic migrations)."""
