"""Write pairs.csv, unmatched.csv, summary.json, schools/<key>.html and handouts/<key>/<pair>.html (io.file_keys,
report.handouts), all published at once."""

from __future__ import annotations

import gc
import json
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import Any

from ..io.atomic import staged_directory
from ..io.csv_out import csv_columns, csv_text
from ..io.file_keys import file_key
from ..pairing.result import Pair, PairingResult, Unmatched
from ..parallel import fork_map
from .handouts import Handouts, handout_key
from .labels import PageLabels
from .school_page import SchoolPages

# Each name sits beside its id ("" when the teacher file gave none). io.pair_lists reads teacher_a and teacher_b
# by name, so a pairs.csv with or without the name columns works as --previous.
PAIR_COLUMNS = ("school_id", "school_name", "teacher_a", "teacher_a_name", "teacher_b", "teacher_b_name", "value",
                "a_helps_b", "b_helps_a", "focus_indicator", "explanation", "school_b", "school_b_name", "origin",
                "previous", "mode")
UNMATCHED_COLUMNS = ("school_id", "school_name", "teacher_id", "teacher_name", "reason", "code")


def pairs_csv(pairs: tuple[Pair, ...] | list[Pair], mode: str) -> str:
    """pairs.csv, formula cells neutralised (io.csv_out), written a column at a time."""
    pairs = pairs if isinstance(pairs, (list, tuple)) else list(pairs)  # read once per column
    if not pairs:
        return csv_text(PAIR_COLUMNS, [])
    values: dict[float, str] = {}  # a run's values are few
    helps: dict[tuple[str, ...], str] = {}

    def value(v: float) -> str:
        got = values.get(v)
        if got is None:
            got = f"{v:g}"
            if v:  # 0.0 and -0.0 are one key, but read "0" and "-0"
                values[v] = got
        return got

    def joined(inds: tuple[str, ...]) -> str:
        got = helps.get(inds)
        if got is None:
            got = helps[inds] = ";".join(inds)
        return got

    def column(name: str) -> list[Any]:
        return list(map(attrgetter(name), pairs))

    return csv_columns(PAIR_COLUMNS, [
        column("school_id"), column("school_name"), column("teacher_a"), column("teacher_a_name"),
        column("teacher_b"), column("teacher_b_name"), [value(v) for v in column("value")],
        [joined(x) for x in column("a_helps_b")], [joined(x) for x in column("b_helps_a")],
        column("focus_indicator"), column("explanation"), column("school_b"), column("school_b_name"),
        column("origin"), column("previous"), [mode] * len(pairs)])


def unmatched_csv(rows: tuple[Unmatched, ...] | list[Unmatched]) -> str:
    return csv_text(UNMATCHED_COLUMNS, ((u.school_id, u.school_name, u.teacher_id, u.teacher_name, u.reason, u.code)
                                        for u in rows))


def summary_json(summary: dict[str, Any]) -> str:
    return json.dumps(summary, indent=2, sort_keys=False) + "\n"


_NEW_FILE = (os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
             | getattr(os, "O_BINARY", 0))


class _Folder:
    """A folder of the staged output, written by name: Path.write_text(text, encoding="utf-8") and Path.mkdir in
    fewer steps, as a statewide run writes ~30,000 files. A name is a key (io.file_keys, handout_key: never "/" nor
    "..") or two joined by "/" (a folder made here, and a file in it), so every file stays inside the folder;
    where the system allows, names are opened relative to the folder's own descriptor."""

    def __init__(self, path: str):
        self.path = path
        self.fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)) if _BY_FD else -1

    def __enter__(self) -> _Folder:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def write(self, name: str, text: str) -> None:
        if _NEWLINE != "\n":  # as write_text translates newlines
            text = text.replace("\n", _NEWLINE)
        data = text.encode("utf-8")
        fd = os.open(name, _NEW_FILE, 0o666, dir_fd=self.fd) if _BY_FD else os.open(f"{self.path}/{name}",
                                                                                     _NEW_FILE, 0o666)
        try:
            done = os.write(fd, data)
            while done < len(data):  # a short write (a signal, a full disk) goes on or raises
                done += os.write(fd, memoryview(data)[done:])
        finally:
            os.close(fd)

    def mkdir(self, name: str) -> None:
        if _BY_FD:
            os.mkdir(name, 0o777, dir_fd=self.fd)
        else:
            os.mkdir(f"{self.path}/{name}", 0o777)


_BY_FD = os.open in os.supports_dir_fd and os.mkdir in os.supports_dir_fd
_NEWLINE = os.linesep


@dataclass(frozen=True)
class _Pages:
    """Everything the school pages and the handouts need, grouped by school once."""

    result: PairingResult
    pairs: dict[str, list[Pair]]
    unmatched: dict[str, list[Unmatched]]
    counts: dict[str, int]
    schools: SchoolPages
    handouts: Handouts

    @staticmethod
    def of(result: PairingResult, handout_scores: bool = False) -> _Pages:
        pairs: dict[str, list[Pair]] = {}
        for p in result.pairs:
            pairs.setdefault(p.school_id, []).append(p)
            if p.school_b:
                pairs.setdefault(p.school_b, []).append(p)
        unmatched: dict[str, list[Unmatched]] = {}
        for u in result.unmatched:
            unmatched.setdefault(u.school_id, []).append(u)
        counts = dict(Counter(result.teachers.school_id.tolist()))
        # Computed here, before the workers fork, so that they share it instead of each computing it again.
        _ = result.teachers.labels, result.teachers.index
        labels = PageLabels(result.teachers).prepare()
        return _Pages(result, pairs, unmatched, counts, SchoolPages(result, labels),
                      Handouts(result.teachers, result.policy, handout_scores, labels))

    def write(self, schools: list[str], folder: Path) -> None:
        """schools/<key>.html and handouts/<key>/<pair>.html of each school (folder: the staged output)."""
        base = os.fspath(folder)
        with _Folder(f"{base}/schools") as pages, _Folder(f"{base}/handouts") as handouts:
            for s in schools:
                key = file_key(s)
                pairs = self.pairs.get(s, [])
                pages.write(f"{key}.html", self.schools.render(s, pairs, self.unmatched.get(s, []), self.counts[s]))
                if pairs:
                    handouts.mkdir(key)
                    for p in pairs:
                        handouts.write(f"{key}/{handout_key(p.teacher_a, p.teacher_b)}.html",
                                       self.handouts.render(p, s))


def write_outputs(result: PairingResult, out_dir: str | Path, workers: int = 1, handout_scores: bool = False) -> Path:
    """Write every output into out_dir at once; out_dir is untouched if anything fails.

    workers > 1 renders school pages and handouts in workers - 1 forked processes while this one writes the CSV
    files and then joins in on the pages. handout_scores: the handouts show the pair's scores (this school's
    teachers' only).
    """
    with _no_collection_pauses():
        pages = _Pages.of(result, handout_scores)
        schools = sorted(pages.counts)
        mode = result.policy.mode
        with staged_directory(out_dir) as stage:
            (stage / "schools").mkdir()
            (stage / "handouts").mkdir()

            def csv_files() -> None:
                with _Folder(os.fspath(stage)) as top:
                    top.write("pairs.csv", pairs_csv(result.pairs, mode))
                    top.write("unmatched.csv", unmatched_csv(result.unmatched))
                    top.write("summary.json", summary_json(result.summary))

            n = workers * 8 if workers > 1 and len(schools) >= 100 else 1
            fork_map(lambda chunk: pages.write(chunk, stage), [schools[i::n] for i in range(n)],
                     workers if n > 1 else 1, meanwhile=csv_files)
    return Path(out_dir)


@contextmanager
def _no_collection_pauses() -> Iterator[None]:
    """The cycle collector off while the pages are written, as it was before afterwards. Pages make no reference
    cycles, only short-lived strings and lists that reference counting frees, but their many allocations start
    collections that walk the whole heap (the run's table and pairs, and in the CLI the engine's objects): a tenth
    of the time. Forked workers start with it off too, so they leave the pages they share with this process alone."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
