"""Teacher teams within a school (lesson study, inquiry teams, template teams), each around one shared focus
indicator with a member strong in it: `form_teams(table, policy) -> TeamsResult`, `write_teams(result, dir)`.

Exports load lazily, so that `matcher.cli.teams` (imported when the CLI builds its parser) pulls in neither
OR-Tools nor SciPy.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {"TeamPolicy": "model", "TemplateSlot": "model", "load_team_policy": "model",
            "team_policy_from_dict": "model", "Team": "result", "TeamsResult": "result", "Unassigned": "result",
            "form_teams": "solve", "write_teams": "outputs"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
