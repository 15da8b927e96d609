"""Exact matching of teachers (and schools) for collaborative professional learning."""

__version__ = "0.1.0"
