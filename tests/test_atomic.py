"""staged_directory publishes a whole output folder at once, or nothing at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from matcher.io import atomic
from matcher.io.atomic import staged_directory, write_text_atomic


class Boom(Exception):
    pass


def snapshot(folder: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


def fill(stage: Path, schools: dict[str, str], pairs: str = "new pairs") -> None:
    (stage / "pairs.csv").write_text(pairs, encoding="utf-8")
    (stage / "schools").mkdir()
    for name, text in schools.items():
        (stage / "schools" / name).write_text(text, encoding="utf-8")


def existing_output(parent: Path) -> Path:
    out = parent / "out"
    out.mkdir()
    fill(out, {"S1.html": "old S1", "S2.html": "old S2"}, pairs="old pairs")
    (out / "summary.json").write_text("{}", encoding="utf-8")
    (out / "notes.txt").write_text("the user's own notes", encoding="utf-8")
    (out / "archive").mkdir()
    (out / "archive" / "2023.csv").write_text("kept", encoding="utf-8")
    return out


def test_target_appears_only_when_the_body_succeeds(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with staged_directory(out) as stage:
        fill(stage, {"S1.html": "S1"})
        assert not out.exists(), "nothing is published before the body ends"
        assert stage.parent == tmp_path
    assert snapshot(out) == {"pairs.csv": b"new pairs", "schools": None, "schools/S1.html": b"S1"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_new_target_is_readable(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with staged_directory(out) as stage:
        fill(stage, {})
    assert out.stat().st_mode & 0o755 == 0o755  # not mkdtemp's private 0o700


def test_failure_creates_nothing_and_leaves_no_staging(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(Boom), staged_directory(out) as stage:
        fill(stage, {"S1.html": "S1"})
        raise Boom
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_failure_leaves_an_existing_target_unchanged(tmp_path: Path) -> None:
    out = existing_output(tmp_path)
    before = snapshot(out)
    with pytest.raises(Boom), staged_directory(out) as stage:
        fill(stage, {"S9.html": "new"})
        (stage / "summary.json").write_text('{"new": true}', encoding="utf-8")
        raise Boom
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "rename_fallback"])
def test_replacing_keeps_other_files_and_swaps_schools_wholesale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 exchange: bool) -> None:
    if not exchange:
        monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    out = existing_output(tmp_path)
    with staged_directory(out) as stage:
        fill(stage, {"S1.html": "new S1", "S3.html": "new S3"})
        (stage / "summary.json").write_text('{"n_pairs": 1}', encoding="utf-8")
        assert (out / "pairs.csv").read_text(encoding="utf-8") == "old pairs"
    assert snapshot(out) == {
        "archive": None, "archive/2023.csv": b"kept", "notes.txt": b"the user's own notes",
        "pairs.csv": b"new pairs", "schools": None, "schools/S1.html": b"new S1", "schools/S3.html": b"new S3",
        "summary.json": b'{"n_pairs": 1}'}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging or .old folders left


def test_entries_not_written_again_are_left_alone(tmp_path: Path) -> None:
    out = existing_output(tmp_path)
    with staged_directory(out) as stage:
        (stage / "pairs.csv").write_text("only pairs", encoding="utf-8")
    assert (out / "pairs.csv").read_text(encoding="utf-8") == "only pairs"
    assert (out / "schools" / "S2.html").read_text(encoding="utf-8") == "old S2"
    assert (out / "summary.json").read_text(encoding="utf-8") == "{}"


def test_missing_parent_is_an_error_before_the_body(tmp_path: Path) -> None:
    ran = []
    with pytest.raises(FileNotFoundError), staged_directory(tmp_path / "no" / "out"):
        ran.append(1)
    assert ran == [] and list(tmp_path.iterdir()) == []


def test_target_that_is_a_file_is_an_error_and_stays(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.write_text("a file", encoding="utf-8")
    with pytest.raises(NotADirectoryError), staged_directory(out) as stage:
        fill(stage, {})
    assert out.read_text(encoding="utf-8") == "a file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_write_text_atomic(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    path.write_text("old", encoding="utf-8")
    write_text_atomic(path, "new")
    assert path.read_text(encoding="utf-8") == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]
