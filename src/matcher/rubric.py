"""Observation rubrics: indicators grouped in domains, the score scale and default thresholds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from .config_files import read_settings
from .errors import InputError, Problem

_NAME = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass(frozen=True)
class Rubric:
    name: str
    scale_min: float
    scale_max: float
    weak_below: float
    strong_at_least: float
    domains: tuple[tuple[str, tuple[str, ...]], ...]
    # Other headers an export may use for an indicator ("Standards & Objectives"), as given in the rubric file.
    aliases: tuple[tuple[str, str], ...] = ()  # (alias, indicator)

    @cached_property
    def indicators(self) -> tuple[str, ...]:
        return tuple(ind for _, inds in self.domains for ind in inds)

    def domain_of(self, indicator: str) -> str:
        for dom, inds in self.domains:
            if indicator in inds:
                return dom
        raise KeyError(indicator)

    @staticmethod
    def from_dict(data: dict[str, Any], source: str) -> Rubric:
        problems: list[Problem] = []

        def number(key: str) -> float:
            v = data.get(key)
            if key not in data:
                problems.append(Problem(source, "missing: a rubric needs scale_min, scale_max, weak_below and "
                                                "strong_at_least", column=key))
                return 0.0
            if isinstance(v, bool) or not isinstance(v, int | float):
                problems.append(Problem(source, "must be a number", column=key, value=repr(v)))
                return 0.0
            return float(v)

        name = str(data.get("name", Path(source).stem))
        lo, hi = number("scale_min"), number("scale_max")
        weak, strong = number("weak_below"), number("strong_at_least")
        if not problems:
            if lo >= hi:
                problems.append(Problem(source, "scale_min must be below scale_max", column="scale_min",
                                        value=str(lo)))
            if not (lo < weak <= strong <= hi):
                problems.append(Problem(source, "need scale_min < weak_below <= strong_at_least <= scale_max",
                                        column="weak_below", value=f"{weak} / {strong}"))
        raw = data.get("domains")
        domains: list[tuple[str, tuple[str, ...]]] = []
        seen: set[str] = set()
        if not isinstance(raw, dict) or not raw:
            problems.append(Problem(source, "needs a [domains] table mapping each domain to its indicators",
                                    column="domains"))
        else:
            for dom, inds in raw.items():
                if not isinstance(inds, list) or not inds or not all(isinstance(i, str) for i in inds):
                    problems.append(Problem(source, "must be a non-empty list of indicator names",
                                            column=f"domains.{dom}", value=repr(inds)))
                    continue
                for ind in inds:
                    if not _NAME.match(ind):
                        problems.append(Problem(source, "indicator names use letters, digits and _ only",
                                                column=f"domains.{dom}", value=ind))
                    elif ind in seen:
                        problems.append(Problem(source, "indicator listed twice", column=f"domains.{dom}",
                                                value=ind))
                    seen.add(ind)
                domains.append((str(dom), tuple(inds)))
        aliases: list[tuple[str, str]] = []
        raw_aliases = data.get("aliases", {})
        if not isinstance(raw_aliases, dict):
            problems.append(Problem(source, "must be a table mapping indicators to lists of other headers",
                                    column="aliases", value=repr(raw_aliases)))
        else:
            for ind, names in raw_aliases.items():
                if ind not in seen:
                    problems.append(Problem(source, "not an indicator of this rubric", column=f"aliases.{ind}"))
                elif not isinstance(names, list) or not all(isinstance(a, str) and a.strip() for a in names):
                    problems.append(Problem(source, "must be a list of header texts", column=f"aliases.{ind}",
                                            value=repr(names)))
                else:
                    aliases += [(a.strip(), ind) for a in names]
        if problems:
            raise InputError(problems)
        return Rubric(name, lo, hi, weak, strong, tuple(domains), tuple(aliases))


BUNDLED = ("team", "danielson")


@cache
def bundled(name: str) -> Rubric:
    text = resources.files("matcher.rubrics").joinpath(f"{name}.toml")
    with resources.as_file(text) as path:
        return Rubric.from_dict(read_settings(path), f"{name}.toml")


def load_rubric(spec: str | Path | None) -> Rubric:
    """A bundled rubric by name ("team", "danielson") or a rubric file (TOML/JSON)."""
    if spec is None:
        return bundled("team")
    if str(spec).lower() in BUNDLED:
        return bundled(str(spec).lower())
    path = Path(spec)
    if not path.exists():
        raise InputError([Problem(str(spec), f"no such rubric file; bundled rubrics: {', '.join(BUNDLED)}")])
    return Rubric.from_dict(read_settings(path), str(path))


