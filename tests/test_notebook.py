"""The notebook front door (matcher.notebook): a DataFrame gives exactly what the CLI and the library give on the
same file, keyword settings reach the policy, problems name the DataFrame's row and column as the CLI names a
file's, every frame has its documented columns, and docs/notebook.md runs as written."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import matcher
from matcher.cli import main
from matcher.errors import InputError
from matcher.io.schools import read_schools
from matcher.io.sheets import write_frame_csv
from matcher.io.teachers import read_teachers
from matcher.networks.outputs import FACILITATOR_COLUMNS, NETWORK_COLUMNS
from matcher.networks.outputs import UNASSIGNED_COLUMNS as NETWORK_UNASSIGNED_COLUMNS
from matcher.networks.solve import form_networks as solve_networks
from matcher.notebook import Networks, Pairing, Simulation, Teams
from matcher.pairing.engine import pair_teachers
from matcher.policy import Policy, load_policy
from matcher.report.outputs import PAIR_COLUMNS, UNMATCHED_COLUMNS
from matcher.rubric import load_rubric
from matcher.teams.model import TeamPolicy
from matcher.teams.outputs import TEAM_COLUMNS
from matcher.teams.outputs import UNASSIGNED_COLUMNS as TEAM_UNASSIGNED_COLUMNS
from matcher.teams.solve import form_teams as solve_teams

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"
OBSERVATIONS = SAMPLES / "observations.csv"
DESIGN = SAMPLES / "rollout.toml"
DOC = ROOT / "docs" / "notebook.md"


@pytest.fixture(scope="module")
def obs() -> pd.DataFrame:
    """The sample export as a researcher reads it: pandas' defaults (numbers as numbers, blanks as NaN)."""
    return pd.read_csv(OBSERVATIONS)


@pytest.fixture(scope="module")
def pairing(obs: pd.DataFrame) -> Pairing:
    return matcher.pair(obs)


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "pairs"
    assert main(["pair", str(OBSERVATIONS), "--out", str(out), "--workers", "1"]) == 0
    return out


def _pairs(frame: pd.DataFrame) -> set[tuple[str, str, str, float]]:
    return {(s, a, b, float(v)) for s, a, b, v in frame[["school_id", "teacher_a", "teacher_b", "value"]].itertuples(
        index=False)}


# ---- pairing ---------------------------------------------------------------------------------------------------

def test_a_dataframe_pairs_exactly_as_the_cli_and_the_library(pairing: Pairing, cli_run: Path) -> None:
    cli_pairs = pd.read_csv(cli_run / "pairs.csv", dtype=str, keep_default_na=False)
    cli_summary = json.loads((cli_run / "summary.json").read_text())
    library = pair_teachers(read_teachers(OBSERVATIONS, load_rubric("team"), all_aggregates=False), Policy())
    frame = pairing.pairs_frame()
    assert _pairs(frame) == _pairs(cli_pairs) == {(p.school_id, p.teacher_a, p.teacher_b, p.value)
                                                  for p in library.pairs}
    assert pairing.summary["total_value"] == cli_summary["total_value"] == library.summary["total_value"] == 671
    assert pairing.summary["n_pairs"] == cli_summary["n_pairs"] == 183 and pairing.summary["optimal"]
    # every column of pairs.csv, cell for cell (the sample has no formula-looking text to neutralise)
    pd.testing.assert_frame_equal(frame.astype({"value": str}).assign(value=frame["value"].map("{:g}".format)),
                                  cli_pairs)
    cli_unmatched = pd.read_csv(cli_run / "unmatched.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(pairing.unmatched_frame(), cli_unmatched)


def test_write_writes_the_cli_files(pairing: Pairing, cli_run: Path, tmp_path: Path) -> None:
    out = pairing.write(tmp_path / "pairs")
    for name in ("pairs.csv", "unmatched.csv"):
        assert (out / name).read_bytes() == (cli_run / name).read_bytes()
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    assert files == sorted(p.relative_to(cli_run).as_posix() for p in cli_run.rglob("*"))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["total_value"] == 671 and summary["warnings"] == list(pairing.warnings)


def test_path_and_dataframe_give_the_same_result(obs: pd.DataFrame, pairing: Pairing) -> None:
    by_path = matcher.pair(OBSERVATIONS)
    pd.testing.assert_frame_equal(by_path.pairs_frame(), pairing.pairs_frame())
    pd.testing.assert_frame_equal(by_path.unmatched_frame(), pairing.unmatched_frame())
    volatile = ("elapsed_seconds", "solve_seconds", "warnings")
    assert {k: v for k, v in by_path.summary.items() if k not in volatile} == \
           {k: v for k, v in pairing.summary.items() if k not in volatile}
    # the warnings are the file's, naming the DataFrame in place of the path
    assert [w.replace(str(OBSERVATIONS), "DataFrame") for w in by_path.warnings] == list(pairing.warnings)
    # text cells, a named index and a frame read as text all read alike
    as_text = pd.read_csv(OBSERVATIONS, dtype=str, keep_default_na=False).set_index("Teacher ID")
    pd.testing.assert_frame_equal(matcher.pair(as_text).pairs_frame(), pairing.pairs_frame())
    assert "DataFrame" in repr(pairing.result.teachers.source)


def test_the_input_frame_is_not_changed(obs: pd.DataFrame) -> None:
    before = obs.copy()
    matcher.pair(obs[obs["School ID"] == "S0004"])
    pd.testing.assert_frame_equal(obs, before)


def test_keyword_settings_reach_the_policy(obs: pd.DataFrame) -> None:
    got = matcher.pair(obs, scope="district", subject="require_same", max_grade_distance=np.int64(4))
    assert got.policy == Policy(scope="district", subject="require_same", max_grade_distance=4)
    assert got.summary["policy"]["subject"] == "require_same"
    table = read_teachers(OBSERVATIONS, load_rubric("team"), all_aggregates=False)
    expected = pair_teachers(table, got.policy)
    assert _pairs(got.pairs_frame()) == {(p.school_id, p.teacher_a, p.teacher_b, p.value) for p in expected.pairs}
    subject = dict(zip(table.teacher_id.tolist(), table.subject.tolist(), strict=True))
    assert all(subject[a] == subject[b] for a, b in got.pairs_frame()[["teacher_a", "teacher_b"]].itertuples(
        index=False))
    # a policy file (or object, or dict) with keywords over it, as --policy with flags
    policy_file = SAMPLES / "policy.toml"
    over_file = matcher.pair(obs, policy=policy_file, schools=SAMPLES / "schools.csv", subject="any")
    assert over_file.policy == load_policy(policy_file).replace(subject="any")
    assert matcher.pair(obs, policy={"mode": "one_way"}).policy == Policy(mode="one_way")
    assert matcher.pair(obs, policy=Policy(mode="one_way"), do_not_pair=[("T000001", "T000006")]).policy == \
        Policy(mode="one_way", do_not_pair=(("T000001", "T000006"),))


def test_an_unknown_setting_is_refused_by_name(obs: pd.DataFrame) -> None:
    with pytest.raises(InputError) as err:
        matcher.pair(obs, scop="district", subject="same")
    found = {(p.file, p.column) for p in err.value.problems}
    assert found == {("keyword arguments", "scop"), ("keyword arguments", "subject")}
    assert "unknown setting" in str(err.value) and "scope" in str(err.value)


def test_bad_cells_are_named_by_row_and_column_as_the_cli_names_them(obs: pd.DataFrame, tmp_path: Path) -> None:
    bad = obs.astype({"Questioning": object, "Grades": object})
    bad.loc[4, "Questioning"] = "abc"
    bad.loc[9, "Grades"] = "13-15"
    with pytest.raises(InputError) as err:
        matcher.pair(bad, subject="require_same")
    found = [(p.file, p.row, p.column, p.value) for p in err.value.problems]
    assert ("DataFrame", 6, "Questioning", "abc") in found
    assert ("DataFrame", 11, "Grades", "13-15") in found
    assert not any("matcher-frames" in str(p) for p in err.value.problems)
    # the same rows as a CSV file: the same problems, the file named in place of the DataFrame
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(InputError) as from_file:
        read_teachers(path, load_rubric("team"), all_aggregates=False)
    assert [(p.row, p.column, p.value, p.message) for p in err.value.problems] == \
           [(p.row, p.column, p.value, p.message) for p in from_file.value.problems]


def test_problems_of_every_input_at_once(obs: pd.DataFrame) -> None:
    schools = pd.DataFrame({"school_id": ["S0001"], "latitude": [123.0], "longitude": [0.0]})
    previous = pd.DataFrame({"teacher_a": ["T000001"]})
    with pytest.raises(InputError) as err:
        matcher.pair(obs.drop(columns=["Subject"]), schools=schools, previous=previous, workers=0)
    found = {(p.file, p.column) for p in err.value.problems}
    assert {("DataFrame", "subject"), ("schools DataFrame", "latitude"), ("previous DataFrame", "teacher_b"),
            ("keyword arguments", "workers")} <= found
    with pytest.raises(TypeError, match="teachers"):
        matcher.pair([{"teacher_id": "T1"}])  # type: ignore[arg-type]


def test_frames_have_the_documented_columns(pairing: Pairing) -> None:
    pairs, unmatched = pairing.pairs_frame(), pairing.unmatched_frame()
    assert list(pairs.columns) == list(PAIR_COLUMNS) == [
        "school_id", "school_name", "teacher_a", "teacher_a_name", "teacher_b", "teacher_b_name", "value",
        "a_helps_b", "b_helps_a", "focus_indicator", "explanation", "school_b", "school_b_name", "origin",
        "previous", "mode"]
    assert list(unmatched.columns) == list(UNMATCHED_COLUMNS) == [
        "school_id", "school_name", "teacher_id", "teacher_name", "reason", "code"]
    assert pairs["value"].dtype == float and pairs["value"].sum() == pairing.summary["total_value"]
    assert len(pairs) == pairing.summary["n_pairs"] and len(unmatched) == pairing.summary["n_unmatched"]
    assert set(unmatched["code"]) <= {"opted_out", "no_scores", "no_areas", "no_helper", "ruled_out", "taken"}
    assert repr(pairing).startswith("<Pairing: 183 pairs of 419 teachers in 14 schools, total value 671")


def test_previous_pairs_from_a_result_or_a_frame(obs: pd.DataFrame, pairing: Pairing) -> None:
    again = matcher.pair(obs, previous=pairing)
    assert again.summary["previous"]["kept"] == 183 and again.summary["previous"]["source"] == "previous pairing"
    from_frame = matcher.pair(obs, previous=pairing.pairs_frame())
    assert from_frame.summary["previous"]["source"] == "previous DataFrame"
    assert set(from_frame.pairs_frame()["previous"]) == {"kept"}


# ---- the io function -------------------------------------------------------------------------------------------

def test_write_frame_csv_writes_cells_as_a_spreadsheet_shows_them(tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": ["0042", None], "n": [3.0, np.nan], "x": [2.5, 1 / 3], "flag": [True, False],
                          "day": [dt.datetime(2025, 10, 14), pd.NaT], "areas": [["questioning", "thinking"], []]},
                         index=pd.Index(["a", "b"], name="key"))
    path = write_frame_csv(frame, tmp_path / "f.csv")
    assert path.read_text().splitlines() == [
        "key,id,n,x,flag,day,areas", "a,0042,3,2.5,true,2025-10-14,questioning; thinking",
        f"b,,,{1 / 3!r},false,,"]
    assert list(frame.columns) == ["id", "n", "x", "flag", "day", "areas"]  # the frame itself is unchanged


# ---- networks, teams, simulate ---------------------------------------------------------------------------------

def test_networks_from_a_dataframe(tmp_path: Path) -> None:
    city = pd.read_csv(SAMPLES / "city_applicants.csv")  # host_capacity and years_hosting read as floats
    district = city[city["district_id"] == "CD03"]
    facilitators = pd.DataFrame({"facilitator_id": ["F1", "F2", "F3", "F4"], "name": ["Ana", "Ben", "Cy", "Di"],
                                 "latitude": [40.70, 40.75, 40.80, 40.65],
                                 "longitude": [-73.95, -73.90, -73.85, -74.00]})
    got = matcher.form_networks(district, facilitators=facilitators, time_limit_seconds=30)
    assert isinstance(got, Networks) and got.policy.time_limit_seconds == 30
    path = tmp_path / "cd03.csv"  # the same rows of the file, as its text
    as_text = pd.read_csv(SAMPLES / "city_applicants.csv", dtype=str, keep_default_na=False)
    as_text[as_text["district_id"] == "CD03"].to_csv(path, index=False)
    library = solve_networks(read_schools(path), got.policy)
    assert got.summary["objective"] == library.summary["objective"] and got.summary["optimal"]
    members, left = got.networks_frame(), got.unassigned_frame()
    assert list(members.columns) == list(NETWORK_COLUMNS)
    assert list(left.columns) == list(NETWORK_UNASSIGNED_COLUMNS)
    assert len(members) == got.summary["n_placed"] and len(left) == got.summary["n_left_out"]
    assert set(members["school_id"]) | set(left["school_id"]) == set(district["school_id"])
    assert set(members["role"]) == {"host", "partner"}
    fac = got.facilitators_frame()
    assert fac is not None and list(fac.columns) == list(FACILITATOR_COLUMNS)
    assert set(fac["network_id"]) == set(members["network_id"]) and "facilitator_km_total" in got.summary
    out = got.write(tmp_path / "networks")
    assert {"networks.csv", "unassigned.csv", "summary.json", "facilitators.csv"} <= {p.name for p in out.iterdir()}
    assert matcher.form_networks(district, shape="pair").policy.shape == "pair"
    with pytest.raises(InputError) as err:
        matcher.form_networks(district.assign(role=["boss", *district["role"].iloc[1:]]), shape="hexad")
    found = {(p.file, p.row, p.column, p.value) for p in err.value.problems}  # every input's problems at once
    assert found == {("keyword arguments", None, "shape", "'hexad'"), ("DataFrame", 2, "role", "boss")}


def test_teams_from_a_dataframe(obs: pd.DataFrame, tmp_path: Path) -> None:
    three = obs[obs["School ID"].isin(["S0001", "S0002", "S0004"])]
    got = matcher.form_teams(three, size="3-4", group_by="subject")
    assert isinstance(got, Teams)
    assert (got.policy.min_size, got.policy.max_size, got.policy.group_by) == (3, 4, "subject")
    path = tmp_path / "three.csv"
    three.to_csv(path, index=False)
    library = solve_teams(read_teachers(path, load_rubric("team"), all_aggregates=False),
                          TeamPolicy(min_size=3, max_size=4, group_by="subject"))
    assert got.result.teams == library.teams and got.summary["objective"] == library.summary["objective"]
    members, left = got.teams_frame(), got.unassigned_frame()
    assert list(members.columns) == list(TEAM_COLUMNS) and list(left.columns) == list(TEAM_UNASSIGNED_COLUMNS)
    sizes = members.groupby("team_id").size()
    assert len(sizes) == got.summary["n_teams"] > 0 and sizes.between(3, 4).all()
    assert len(members) + len(left) == got.summary["n_teachers"]
    assert {"teams.csv", "unassigned.csv", "summary.json"} == {p.name for p in got.write(tmp_path / "t").iterdir()}
    assert matcher.form_teams(three, size=(3, 5), time_limit_seconds=5).policy.max_size == 5
    with pytest.raises(InputError) as err:
        matcher.form_teams(three, size="1-9", group_by="team")
    assert [(p.file, p.column) for p in err.value.problems] == [("keyword arguments", "size"),
                                                                ("keyword arguments", "group_by")]


def test_simulate_from_a_design_file_and_from_dataframes() -> None:
    settings: dict[str, Any] = {"replications": 8, "power_curve": None, "analysis": {"ri_draws": 19}}
    by_file = matcher.simulate(DESIGN, **settings)
    teachers = pd.read_csv(SAMPLES / "teachers.csv")
    schools = pd.read_csv(SAMPLES / "schools.csv")
    by_frames = matcher.simulate(DESIGN, teachers=teachers, schools=schools, **settings)
    assert isinstance(by_frames, Simulation)
    pd.testing.assert_frame_equal(by_file.replications_frame(), by_frames.replications_frame())
    pd.testing.assert_frame_equal(by_file.assignment_frame(), by_frames.assignment_frame())
    assert by_frames.summary["design"]["population"] == {"teachers": "DataFrame", "schools": "schools DataFrame",
                                                          "rubric": "team"}
    reps = by_frames.replications_frame()
    estimators = list(by_frames.summary["estimators"])
    assert len(reps) == 8 * len(estimators) and set(reps["estimator"]) == set(estimators)
    diag = by_frames.diagnosands_frame()
    assert list(diag["estimator"]) == estimators
    assert {"estimand", "bias", "bias_mc_se", "power", "power_mc_se", "coverage", "mdes", "ri_power"} <= set(diag)
    assert diag["power"].dtype == float
    assert set(by_frames.balance_frame()["covariate"]) == {"teachers", "mean_score", "share_targets"}
    assert by_frames.power_curve_frame() is None


def test_simulate_settings_are_checked_as_the_design_file_is() -> None:
    with pytest.raises(InputError) as err:
        matcher.simulate(DESIGN, replications=1, outcome={"icc_school": 2}, assignmnt={})
    found = {(p.file, p.column) for p in err.value.problems}
    assert {(str(DESIGN), "simulation.replications"), (str(DESIGN), "outcome.icc_school"),
            (str(DESIGN), "assignmnt")} <= found
    bad = pd.read_csv(SAMPLES / "teachers.csv").astype({"years_experience": object})
    bad.loc[0, "years_experience"] = "many"
    with pytest.raises(InputError) as err:
        matcher.simulate(DESIGN, teachers=bad, replications=2)
    assert [(p.file, p.row, p.column) for p in err.value.problems] == [("DataFrame", 2, "years_experience")]


# ---- the package's front door ----------------------------------------------------------------------------------

def test_import_matcher_stays_cheap() -> None:
    code = ("import sys, matcher; print(sorted(m for m in ('matcher.notebook', 'pandas', 'numpy') if m in "
            "sys.modules)); print(matcher.__version__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["[]", matcher.__version__]
    assert matcher.pair is matcher.notebook.pair and matcher.simulate is matcher.notebook.simulate
    assert {"pair", "form_networks", "form_teams", "simulate"} <= set(dir(matcher))
    with pytest.raises(AttributeError):
        _ = matcher.no_such_thing  # type: ignore[attr-defined]
