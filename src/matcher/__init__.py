"""Exact matching of teachers (and schools) for collaborative professional learning.

The notebook front door (matcher.notebook): `matcher.pair(df, **policy)`, `matcher.form_networks`,
`matcher.form_teams` and `matcher.simulate` take DataFrames and give DataFrames back. They are loaded on first use,
so `import matcher` (and the CLI's start-up) stays cheap."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_NOTEBOOK = ("pair", "form_networks", "form_teams", "simulate")
__all__ = ["__version__", "pair", "form_networks", "form_teams", "simulate"]

if TYPE_CHECKING:
    from .notebook import form_networks, form_teams, pair, simulate


def __getattr__(name: str) -> Any:
    if name in _NOTEBOOK:
        from . import notebook

        return getattr(notebook, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_NOTEBOOK})
