"""Shared fixtures: one small synthetic district, written once per session (tests copy it before corrupting it)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from matcher.synth import write_district


@pytest.fixture(scope="session")
def district(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(teachers.csv, schools.csv) of a 4-school synthetic district with a few opted-out teachers. Read-only."""
    folder = tmp_path_factory.mktemp("district")
    teachers, schools = folder / "teachers.csv", folder / "schools.csv"
    write_district(teachers, 4, 8, 7, schools)
    df = pd.read_csv(teachers, dtype=str, keep_default_na=False)
    df.loc[[0, 7, 15], "opt_out"] = "true"
    df.to_csv(teachers, index=False)
    return teachers, schools
