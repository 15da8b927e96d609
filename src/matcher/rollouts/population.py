"""The trial's population: every teacher and school, the school covariates designs block and balance on, and the
pairing of every school when it does not depend on the draw (computed once, shared by every replication)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, Problem
from ..io.csvfile import file_lines, read_csv_text
from ..io.teachers import TeacherTable, read_teachers
from ..pairing.engine import pair_teachers
from ..pairing.model import build_scoring
from ..pairing.result import PairingResult
from ..policy import Policy
from ..rubric import load_rubric
from .design import Design, PopulationSpec

SIZE_BANDS = ("small", "medium", "large")  # thirds of the schools by number of teachers
DERIVED = ("teachers", "mean_score", "share_targets", "size_band", "score_quartile")


@dataclass(frozen=True)
class PairArrays:
    """Pairs as teacher rows. cover_ab: the refinement areas of b that a covers (a supports b), cover_ba the other
    way; in one-way mode a is the partner and cover_ba is 0."""

    a: np.ndarray
    b: np.ndarray
    cover_ab: np.ndarray
    cover_ba: np.ndarray

    def __len__(self) -> int:
        return len(self.a)

    def keep(self, mask: np.ndarray, new_row: np.ndarray) -> PairArrays:
        """The pairs where mask holds, their teachers renumbered by new_row (old row -> new row)."""
        return PairArrays(new_row[self.a[mask]], new_row[self.b[mask]], self.cover_ab[mask], self.cover_ba[mask])


@dataclass(frozen=True, eq=False)
class Population:
    table: TeacherTable
    schools: pd.DataFrame  # one row per school; school_id, the derived columns, then the schools file's columns
    teacher_school: np.ndarray  # teacher row -> school row
    targets: np.ndarray  # bool per teacher: at least one refinement area under the policy's thresholds
    teacher_covariates: pd.DataFrame  # years, mean_score, refinement_areas
    policy: Policy
    pairs: PairArrays | None = None  # every school's pairing, when the draw does not change it

    @property
    def n_schools(self) -> int:
        return len(self.schools)

    @property
    def teachers_per_school(self) -> np.ndarray:
        return np.bincount(self.teacher_school, minlength=self.n_schools)

    def subset(self, school_rows: np.ndarray) -> Population:
        """The population of the given schools (rows of self.schools, in that order)."""
        school_rows = np.asarray(school_rows, dtype=np.int64)
        new_school = np.full(self.n_schools, -1, dtype=np.int64)
        new_school[school_rows] = np.arange(len(school_rows))
        mapped = new_school[self.teacher_school]
        rows = np.flatnonzero(mapped >= 0)
        rows = rows[np.argsort(mapped[rows], kind="stable")]
        new_row = np.full(len(self.table), -1, dtype=np.int64)
        new_row[rows] = np.arange(len(rows))
        pairs = None
        if self.pairs is not None:
            pairs = self.pairs.keep(new_row[self.pairs.a] >= 0, new_row)
        schools = self.schools.iloc[school_rows].reset_index(drop=True)
        return replace(self, table=self.table.subset(rows), schools=_bands(schools),
                       teacher_school=mapped[rows], targets=self.targets[rows],
                       teacher_covariates=self.teacher_covariates.iloc[rows].reset_index(drop=True), pairs=pairs)


def load_population(design: Design, workers: int = 1, pair: bool = True) -> Population:
    """Read or generate the teachers and schools the design names; see population_for."""
    table, schools_file, schools_name = _read(design.population)
    return population_for(design, table, schools_file, schools_name, workers, pair)


def population_for(design: Design, table: TeacherTable, schools_file: pd.DataFrame | None = None,
                   schools_name: str = "schools", workers: int = 1, pair: bool = True) -> Population:
    """Derive the school covariates and (pair=True) the pairing; see with_pairs."""
    pop = build_population(table, schools_file, schools_name, design.policy)
    return with_pairs(design, pop, workers) if pair else pop


def with_pairs(design: Design, pop: Population, workers: int = 1) -> Population:
    """The population with every school paired once (the pairing `matcher pair` makes), when the design's draws
    do not change the pairing and it is not paired yet."""
    if pop.pairs is not None or design.repairs_each_replication:
        return pop
    return replace(pop, pairs=pair_arrays(pair_teachers(pop.table, pop.policy, workers=workers), pop.table))


def _read(spec: PopulationSpec) -> tuple[TeacherTable, pd.DataFrame | None, str]:
    from ..synth import write_district

    if spec.rubric in ("team", "danielson"):
        rubric = load_rubric(spec.rubric)
    else:
        rubric = load_rubric(Path(spec.rubric))
    if not spec.synthetic:
        assert spec.teachers is not None
        problems: list[Problem] = []
        table = None
        try:
            table = read_teachers(spec.teachers, rubric, spec.roster)
        except InputError as exc:
            problems.extend(exc.problems)
        schools = None
        if spec.schools is not None:
            schools = _read_schools(Path(spec.schools), problems)
        if problems:
            raise InputError(problems)
        assert table is not None
        return table, schools, spec.schools or ""
    assert spec.synthetic_schools is not None
    with tempfile.TemporaryDirectory(prefix="matcher-rollout-") as tmp:
        t, s = Path(tmp) / "teachers.csv", Path(tmp) / "schools.csv"
        write_district(t, spec.synthetic_schools, spec.synthetic_mean_size, spec.synthetic_seed, s, rubric)
        table = read_teachers(t, rubric)
        schools = pd.read_csv(s, dtype={"school_id": str, "district_id": str})
    name = f"synthetic district (schools={spec.synthetic_schools}, seed={spec.synthetic_seed})"
    return replace(table, source=name, warnings=()), schools, name


def _read_schools(path: Path, problems: list[Problem]) -> pd.DataFrame | None:
    """Any schools CSV with a school_id column; columns whose every filled cell is a number become numbers."""
    name = str(path)
    df = read_csv_text(path, problems)
    if df is None:
        return None
    if "school_id" not in df:
        problems.append(Problem(name, "missing required column", row=1, column="school_id"))
        return None
    lines = file_lines(df)
    ids = df["school_id"].str.strip()
    for i in np.flatnonzero((ids == "").to_numpy()):
        problems.append(Problem(name, "school_id is blank", row=int(lines[i]), column="school_id"))
    for i in np.flatnonzero(ids.duplicated().to_numpy() & (ids != "").to_numpy()):
        problems.append(Problem(name, "duplicate school_id", row=int(lines[i]), column="school_id",
                                value=ids.iloc[i]))
    out = pd.DataFrame({"school_id": ids})
    for col in df.columns:
        if col == "school_id":
            continue
        text = df[col].str.strip()
        numbers = pd.to_numeric(text.where(text != ""), errors="coerce")
        filled = (text != "").to_numpy()
        out[col] = numbers if filled.any() and numbers.notna().to_numpy()[filled].all() else text
    return out


def build_population(table: TeacherTable, schools_file: pd.DataFrame | None, schools_name: str,
                     policy: Policy) -> Population:
    """School covariates from the teachers (and the schools file's columns), without pairing anyone."""
    school_ids, teacher_school = np.unique(table.school_id.astype(str), return_inverse=True)
    n_s = len(school_ids)
    scoring = build_scoring(table, policy, "pairing")
    areas = scoring.weak.sum(axis=1)
    observed = ~np.isnan(table.scores)
    with np.errstate(invalid="ignore", divide="ignore"):
        teacher_mean = np.where(observed.any(axis=1),
                                np.nansum(table.scores, axis=1) / np.maximum(observed.sum(axis=1), 1), np.nan)
    counts = np.bincount(teacher_school, minlength=n_s)
    scored = ~np.isnan(teacher_mean)
    score_sum = np.bincount(teacher_school[scored], teacher_mean[scored], minlength=n_s)
    score_n = np.bincount(teacher_school[scored], minlength=n_s)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_score = np.where(score_n > 0, score_sum / np.maximum(score_n, 1), np.nan)
    schools = pd.DataFrame({
        "school_id": school_ids.astype(object),
        "teachers": counts,
        "mean_score": mean_score,
        "share_targets": np.bincount(teacher_school, areas > 0, minlength=n_s) / counts,
    })
    if schools_file is not None:
        missing = sorted(set(school_ids.tolist()) - set(schools_file["school_id"].tolist()))
        if missing:
            shown = ", ".join(missing[:20]) + (f" and {len(missing) - 20} more" if len(missing) > 20 else "")
            raise InputError([Problem(schools_name, f"{len(missing)} schools of the teacher file are not in the "
                                                    f"schools file: {shown}", column="school_id")])
        extra = schools_file.drop(columns=[c for c in DERIVED if c in schools_file.columns])
        schools = schools.merge(extra, on="school_id", how="left")
    elif (table.district_id != "").any():
        first = pd.Series(table.district_id).groupby(teacher_school).first()
        schools["district_id"] = first.reindex(range(n_s)).to_numpy()
    covariates = pd.DataFrame({"years": table.years.astype(float), "mean_score": teacher_mean,
                               "refinement_areas": areas.astype(float)})
    return Population(table, _bands(schools), teacher_school.astype(np.int64), areas > 0, covariates, policy)


def _bands(schools: pd.DataFrame) -> pd.DataFrame:
    """Size thirds and score quartiles by rank (ties broken by school order), so bands are as equal as can be."""
    schools = schools.copy()
    n = len(schools)
    order = np.lexsort((np.arange(n), schools["teachers"].to_numpy()))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    schools["size_band"] = np.asarray(SIZE_BANDS, dtype=object)[rank * 3 // max(n, 1)]
    score = schools["mean_score"].to_numpy(dtype=float)
    scored = np.flatnonzero(~np.isnan(score))
    quartile = np.full(n, "unscored", dtype=object)
    if len(scored):
        order = scored[np.lexsort((scored, score[scored]))]
        quartile[order] = [f"q{1 + i * 4 // len(scored)}" for i in range(len(scored))]
    schools["score_quartile"] = quartile
    return schools


def pair_arrays(result: PairingResult, table: TeacherTable, rows: np.ndarray | None = None) -> PairArrays:
    """A PairingResult's pairs as rows of the table it paired; `rows` maps those rows on (when the table was a
    subset, its rows in the whole population)."""
    index = table.index
    n = len(result.pairs)
    a, b = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    ab, ba = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    for i, p in enumerate(result.pairs):
        a[i], b[i] = index[p.teacher_a], index[p.teacher_b]
        ab[i], ba[i] = len(p.a_helps_b), len(p.b_helps_a)
    if rows is not None:
        a, b = rows[a], rows[b]
    return PairArrays(a, b, ab, ba)
