"""Read TOML or JSON settings files (rubrics, policies) into plain dictionaries."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from .errors import InputError, Problem


def read_settings(path: str | Path) -> dict[str, Any]:
    """Parse a .toml or .json file; any syntax problem becomes an InputError naming the file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError([Problem(str(p), f"cannot read the file: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError:
        raise InputError([Problem(str(p), "not UTF-8 text; save the file as UTF-8")]) from None
    try:
        if p.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            data = tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError([Problem(str(p), f"not valid {p.suffix.lstrip('.').upper() or 'TOML'}: {exc}")]) from None
    if not isinstance(data, dict):
        raise InputError([Problem(str(p), "the top level must be a table/object of settings")])
    return data
