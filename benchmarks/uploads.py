"""Hostile uploads (issue 12, "bounded work per upload"): what each file of a hostile but fair set costs the reader
and the API.

    python benchmarks/uploads.py [--quick] [--only NAME,...] [--src DIR] [--label NAME] [--timeout S] [--no-api]
    python benchmarks/uploads.py --compare BEFORE.json AFTER.json [--write]

The files (made once from fixed seeds under benchmarks/.data/uploads/, and made again when missing): headers of
10,000, 50,000 and 1,000,000 columns; a header that is one 60 MB line; a schools file of 50,000 and of 1,000,000
columns (the schools part of an upload); 5 MB, 15 MB and 49 MB observation exports whose every score is invalid,
and a 60 MB file of short rows whose every score is invalid; the statewide observation export (70,147 teachers x
4 observations, 33 columns, 49 MB) and a 62 MB one (5 observations each); a 60 MB long score file beside its
roster; the statewide export as an Excel workbook, and 90,000 of its rows as one (near the API's limit for
workbooks); a workbook with one cell at XFD1048576 (a dense range of 17 billion cells) and one whose sheet unpacks
to 900 MB of cells (3 MB on disk); ids of 100,000 characters in a teacher file and in a schools file; 200,000
distinct unknown indicators in a long score file; a file with every kind of problem in every row; 60 MB of cells
that all differ; 30 MB of JSON rows.

Each file is measured twice, each time in a fresh process:
- read: the library's reader in-process (matcher.io.teachers.read_teachers; read_school_coords for a schools
  file; service.datasets.read_rows for JSON rows): wall time of the read, peak RSS (VmHWM) and the outcome;
- API: `matcher serve` on a fresh SQLite database, one `POST /v1/datasets` over loopback: the answer's wall time,
  the server's peak RSS (VmHWM, which includes its ~190 MB at start-up), the answer, and the CPU seconds the server
  spends in the 3 s after answering (work that goes on after the answer shows there).
A process that runs past --timeout (default 120 s) is killed and reported as such; every process runs under a
6 GiB address-space limit, so a file that makes the reader allocate without bound fails instead of taking the
machine. --src DIR runs the reader and the server from another source tree (e.g. a copy of src/ taken before a
change) with PYTHONPATH; --label names the results file (.data/uploads-LABEL.json). --compare prints the two
results side by side; with --write it records that table in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA = HERE / ".data"
FILES = DATA / "uploads"
START = "<!-- benchmarks/uploads.py: start (`python benchmarks/uploads.py --compare A B --write` replaces it) -->"
END = "<!-- benchmarks/uploads.py: end -->"
MEMORY_LIMIT = 6 << 30  # address space of every measured process
AFTER_S = 3.0  # how long the server's CPU is watched after it answers
REQUIRED = ("teacher_id", "school_id", "subject", "grades", "years_experience")
SCHOOL_COLUMNS = ("school_id", "name", "district_id", "level", "grade_min", "grade_max", "latitude", "longitude",
                  "role", "strengths", "needs")


@dataclass
class Case:
    name: str
    kind: str  # teachers | long | schools | rows
    path: Path
    roster: Path | None = None  # long score files
    what: str = ""
    quick: bool = True  # part of --quick


@dataclass
class Result:
    case: str
    size: int
    read_s: float | None = None
    read_peak_mb: float | None = None
    read_outcome: str = ""
    api_s: float | None = None
    api_peak_mb: float | None = None
    api_outcome: str = ""
    api_cpu_after_s: float | None = None
    api_base_mb: float | None = None
    notes: list[str] = field(default_factory=list)


# --- the files ----------------------------------------------------------------------------------------------

def _indicators() -> list[str]:
    from matcher.rubric import bundled

    return list(bundled("team").indicators)


def _write_lines(path: Path, lines: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".part")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        for line in lines:
            fh.write(line)
    tmp.replace(path)


def _observations(per_teacher: int) -> Any:
    from matcher.synth import generate_observations

    frame, _ = generate_observations(1800, 39, 1, observations_per_teacher=per_teacher)
    return frame


def _wide_header(path: Path, n_columns: int) -> None:
    extra = [f"extra_{i:07d}" for i in range(n_columns - len(REQUIRED))]
    rows = [",".join(REQUIRED + tuple(extra)) + "\n"]
    rows += [f"T{i:05d},S0001,math,6-8,{i}\n" for i in range(3)]
    _write_lines(path, rows)


def _huge_header_line(path: Path, size: int) -> None:
    def chunks() -> Any:
        yield ",".join(REQUIRED)
        written, i = 0, 0
        while written < size:
            part = "".join(f",c{j}" for j in range(i, i + 100_000))
            i += 100_000
            written += len(part)
            yield part
        yield "\n"
    _write_lines(path, chunks())


def _wide_schools(path: Path, n_columns: int) -> None:
    samples = REPO / "data" / "samples" / "schools.csv"
    lines = samples.read_text(encoding="utf-8").splitlines()
    extra = [f"extra_{i:07d}" for i in range(n_columns - len(lines[0].split(",")))]
    _write_lines(path, [lines[0] + "," + ",".join(extra) + "\n", *(line + "\n" for line in lines[1:4])])


def _with_invalid_scores(frame: Any, path: Path, size: int | None, inds: list[str]) -> None:
    """The export with every score cell "x" (rows from the top until the file has about `size` bytes)."""
    out = frame.copy()
    for c in out.columns:
        if c.lower().replace(" ", "_") in inds or c in _headers(inds):
            out[c] = "x"
    text = out.to_csv(index=False, lineterminator="\n")
    if size is not None and len(text) > size:
        text = text[:text.index("\n", size) + 1]
    path.write_text(text, encoding="utf-8")


def _headers(inds: list[str]) -> set[str]:
    from matcher.synth import indicator_header

    return {indicator_header(i) for i in inds}


def _invalid_short_rows(path: Path, size: int, inds: list[str]) -> None:
    head = ",".join((*REQUIRED, *inds)) + "\n"
    scores = ",x" * len(inds)

    def lines() -> Any:
        yield head
        written, i = len(head), 0
        while written < size:
            line = f"T{i // 4:06d},S{i // 160:04d},math,6-8,5{scores}\n"
            written += len(line)
            i += 1
            yield line
    _write_lines(path, lines())


def _long_file(frame: Any, path: Path, roster: Path, size: int, inds: list[str]) -> None:
    import pandas as pd

    from matcher.synth import indicator_header

    heads = [indicator_header(i) for i in inds]
    per_obs = frame[["Teacher ID", "Observation Date", *heads]]
    long = per_obs.melt(id_vars=["Teacher ID", "Observation Date"], value_vars=heads, var_name="indicator",
                        value_name="score").dropna(subset=["score"])
    long = long.rename(columns={"Teacher ID": "teacher_id", "Observation Date": "observation_date"})
    long = long[["teacher_id", "indicator", "score", "observation_date"]]
    text = long.to_csv(index=False, lineterminator="\n")
    text = text[:text.index("\n", size) + 1]
    path.write_text(text, encoding="utf-8")
    roster_frame = frame[["Teacher ID", "School ID", "Subject", "Grades", "Years Experience"]].drop_duplicates(
        "Teacher ID")
    roster_frame.columns = pd.Index(list(REQUIRED))
    roster_frame.to_csv(roster, index=False, lineterminator="\n")


def _xlsx_parts(sheet_name: str = "Sheet1") -> dict[str, str]:
    ns = "http://schemas.openxmlformats.org"
    return {
        "[Content_Types].xml": f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{ns}/package/2006/content-types">'
        f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        f'<Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
        f'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
        f'PartName="/xl/worksheets/sheet1.xml" '
        f'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{ns}/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/officeDocument" '
        f'Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{ns}/spreadsheetml/2006/main" '
        f'xmlns:r="{ns}/officeDocument/2006/relationships"><sheets><sheet name="{sheet_name}" sheetId="1" '
        f'r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships '
        f'xmlns="{ns}/package/2006/relationships"><Relationship Id="rId1" '
        f'Type="{ns}/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
    }


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _xlsx(path: Path, rows: Any) -> None:
    """A workbook whose sheet XML is streamed from `rows` (pieces of XML between <sheetData> and </sheetData>)."""
    head = ('<?xml version="1.0" encoding="UTF-8"?><worksheet '
            'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
    tmp = path.with_suffix(".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, text in _xlsx_parts().items():
            z.writestr(name, text)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(head.encode())
            for piece in rows:
                fh.write(piece.encode())
            fh.write(b"</sheetData></worksheet>")
    tmp.replace(path)


def _letters(j: int) -> str:
    """The letters of 0-based column j, as Excel names it."""
    from openpyxl.utils import get_column_letter

    return get_column_letter(j + 1)


def _xlsx_frame(path: Path, frame: Any) -> None:
    """A workbook of the frame (header on row 1; text as inline strings, numbers as numbers, NaN as no cell)."""
    import math
    from xml.sax.saxutils import escape

    cols = [_letters(j) for j in range(frame.shape[1])]

    def rows() -> Any:
        yield '<row r="1">' + "".join(_inline(f"{c}1", escape(str(h))) for c, h in zip(cols, frame.columns,
                                                                                     strict=True)) + "</row>"
        for i, values in enumerate(frame.itertuples(index=False, name=None), start=2):
            cells = []
            for c, v in zip(cols, values, strict=True):
                if isinstance(v, str):
                    cells.append(_inline(f"{c}{i}", escape(v)))
                elif v is not None and not (isinstance(v, float) and math.isnan(v)) and v is not pd_na():
                    cells.append(f'<c r="{c}{i}"><v>{v}</v></c>')
            yield f'<row r="{i}">' + "".join(cells) + "</row>"
    _xlsx(path, rows())


def pd_na() -> Any:
    import pandas as pd

    return pd.NA


def _xlsx_far_cell(path: Path) -> None:
    header = "".join(_inline(f"{_letters(j)}1", h) for j, h in enumerate(REQUIRED))
    row = "".join(_inline(f"{_letters(j)}2", v) for j, v in enumerate(("T1", "S1", "math", "6-8", "3")))
    _xlsx(path, [f'<row r="1">{header}</row>', f'<row r="2">{row}</row>',
                 f'<row r="1048576">{_inline("XFD1048576", "x")}</row>'])


def _xlsx_bomb(path: Path, unpacked: int) -> None:
    """Rows of 30 identical small cells until the sheet XML holds `unpacked` bytes (deflate packs it ~1000:1)."""
    header = "".join(_inline(f"{_letters(j)}1", h) for j, h in enumerate(REQUIRED))

    def rows() -> Any:
        yield f'<row r="1">{header}</row>'
        cells = "".join('<c t="inlineStr"><is><t>x</t></is></c>' for _ in range(30))
        body = f"<row>{cells}</row>" * 1000
        written = 0
        while written < unpacked:
            written += len(body)
            yield body
    _xlsx(path, rows())


def _long_ids(path: Path, length: int) -> None:
    lines = (REPO / "data" / "samples" / "teachers.csv").read_text(encoding="utf-8").splitlines()
    out = [lines[0]]
    for i, line in enumerate(lines[1:]):
        cells = line.split(",")
        if i in (3, 10, 11):
            cells[0] = ("T" * length)[:length - 1] + str(i % 10)
            cells[1] = "S" * length
        out.append(",".join(cells))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def _schools_long_id(path: Path, length: int) -> None:
    lines = (REPO / "data" / "samples" / "schools.csv").read_text(encoding="utf-8").splitlines()
    cells = lines[2].split(",")
    cells[0] = "S" * length
    lines[2] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _unknown_indicators(path: Path, roster: Path, n: int) -> None:
    _write_lines(path, ["teacher_id,indicator,score\n",
                        *(f"T{i % 1000:05d},made_up_indicator_{i:07d},3\n" for i in range(n))])
    _write_lines(roster, [",".join(REQUIRED) + "\n", *(f"T{i:05d},S{i // 40:04d},math,6-8,5\n" for i in range(1000))])


def _every_kind(path: Path, size: int, inds: list[str]) -> None:
    """Every row has every kind of problem: a blank school, bad grades, years, opt-out and date, one score out of
    the scale and one that is no number, and a teacher whose rows disagree on subject and school."""
    head = ",".join((*REQUIRED, "opt_out", "observation_date", "teacher_name", *inds)) + "\n"
    rest = "," * (len(inds) - 2)

    def lines() -> Any:
        yield head
        written, i = len(head), 0
        while written < size:
            t = i // 2
            school = "" if i % 3 == 0 else f"S{(i % 2) + t // 40:04d}"
            line = (f"T{t:06d},{school},subject-{i % 7},grade {i},-{i},maybe{i},13/45/{i},Name {i % 5},9,"
                    f"x{i}{rest}\n")
            written += len(line)
            i += 1
            yield line
    _write_lines(path, lines())


def _distinct_cells(path: Path, size: int) -> None:
    """The required fields, one score, and 27 more columns every cell of which differs from every other."""
    head = ",".join((*REQUIRED, "questioning", *(f"note_{j}" for j in range(27)))) + "\n"

    def lines() -> Any:
        yield head
        written, i = len(head), 0
        while written < size:
            line = f"T{i // 4:06d},S{i // 160:04d},math,6-8,5,3," + ",".join(f"{i:07d}{j:02d}" for j in range(27))
            line += "\n"
            written += len(line)
            i += 1
            yield line
    _write_lines(path, lines())


def _json_rows(path: Path, size: int, inds: list[str]) -> None:
    def pieces() -> Any:
        yield '{"name": "rows", "rows": ['
        written, i = 0, 0
        while written < size:
            row = {"teacher_id": f"T{i:06d}", "school_id": f"S{i // 40:04d}", "subject": "math", "grades": "6-8",
                   "years_experience": i % 30, "scores": {ind: 1 + (i + j) % 5 for j, ind in enumerate(inds)}}
            text = ("," if i else "") + json.dumps(row)
            written += len(text)
            i += 1
            yield text
        yield "]}"
    _write_lines(path, pieces())


def make_files(only: set[str] | None) -> list[Case]:
    FILES.mkdir(parents=True, exist_ok=True)
    inds = _indicators()
    f = FILES
    cases = [
        Case("columns-10k", "teachers", f / "columns-10k.csv", what="header of 10,000 columns"),
        Case("columns-50k", "teachers", f / "columns-50k.csv", what="header of 50,000 columns"),
        Case("columns-1m", "teachers", f / "columns-1m.csv", what="header of 1,000,000 columns"),
        Case("header-line-60mb", "teachers", f / "header-line-60mb.csv", what="a header of one 60 MB line"),
        Case("schools-50k", "schools", f / "schools-50k.csv", what="schools file, 50,000 columns"),
        Case("schools-1m", "schools", f / "schools-1m.csv", what="schools file, 1,000,000 columns"),
        Case("invalid-5mb", "teachers", f / "invalid-5mb.csv", what="observation export, every score invalid"),
        Case("invalid-15mb", "teachers", f / "invalid-15mb.csv", what="observation export, every score invalid"),
        Case("invalid-49mb", "teachers", f / "invalid-49mb.csv", what="statewide export, every score invalid"),
        Case("invalid-short-60mb", "teachers", f / "invalid-short-60mb.csv",
             what="850,000 short rows, every score invalid"),
        Case("statewide-obs4", "teachers", f / "statewide-obs4.csv",
             what="statewide export: 70,147 teachers x 4 observations, 33 columns (valid)"),
        Case("observations-62mb", "teachers", f / "observations-62mb.csv",
             what="70,147 teachers x 5 observations (valid)"),
        Case("long-60mb", "long", f / "long-60mb.csv", roster=f / "long-60mb-roster.csv",
             what="long score file beside its roster (valid)"),
        Case("statewide-obs4-xlsx", "teachers", f / "statewide-obs4.xlsx", what="the statewide export as .xlsx",
             quick=False),
        Case("xlsx-90k-rows", "teachers", f / "xlsx-90k-rows.xlsx",
             what="observation export of 90,000 rows as .xlsx (2.97 million cells, valid)"),
        Case("xlsx-far-cell", "teachers", f / "xlsx-far-cell.xlsx", what="workbook with a cell at XFD1048576"),
        Case("xlsx-bomb", "teachers", f / "xlsx-bomb.xlsx", what="workbook whose sheet unpacks to 900 MB"),
        Case("ids-100k", "teachers", f / "ids-100k.csv", what="teacher and school ids of 100,000 characters"),
        Case("schools-ids-100k", "schools", f / "schools-ids-100k.csv",
             what="schools file with a school_id of 100,000 characters"),
        Case("unknown-indicators", "long", f / "unknown-indicators.csv", roster=f / "unknown-indicators-roster.csv",
             what="long score file, 200,000 distinct unknown indicators"),
        Case("every-kind-15mb", "teachers", f / "every-kind-15mb.csv", what="every kind of problem in every row"),
        Case("distinct-cells-60mb", "teachers", f / "distinct-cells-60mb.csv",
             what="27 extra columns whose every cell differs (valid)"),
        Case("rows-30mb", "rows", f / "rows-30mb.json", what="30 MB of JSON rows (application/json)"),
    ]
    cases = [c for c in cases if only is None or c.name in only]
    frames: dict[int, Any] = {}

    def obs(k: int) -> Any:
        if k not in frames:
            frames[k] = _observations(k)
        return frames[k]

    for c in cases:
        if c.path.exists() and (c.roster is None or c.roster.exists()):
            continue
        t0 = time.perf_counter()
        n = c.name
        if n.startswith("columns-"):
            _wide_header(c.path, {"10k": 10_000, "50k": 50_000, "1m": 1_000_000}[n.split("-")[1]])
        elif n == "header-line-60mb":
            _huge_header_line(c.path, 60_000_000)
        elif n in ("schools-50k", "schools-1m"):
            _wide_schools(c.path, {"50k": 50_000, "1m": 1_000_000}[n.split("-")[1]])
        elif n in ("invalid-5mb", "invalid-15mb", "invalid-49mb"):
            _with_invalid_scores(obs(4), c.path, {"invalid-5mb": 5_000_000, "invalid-15mb": 15_000_000}.get(n),
                                 inds)
        elif n == "invalid-short-60mb":
            _invalid_short_rows(c.path, 60_000_000, inds)
        elif n == "statewide-obs4":
            obs(4).to_csv(c.path, index=False, lineterminator="\n")
        elif n == "observations-62mb":
            obs(5).to_csv(c.path, index=False, lineterminator="\n")
        elif n == "long-60mb":
            assert c.roster is not None
            _long_file(obs(4), c.path, c.roster, 60_000_000, inds)
        elif n == "statewide-obs4-xlsx":
            from matcher.synth import write_observations

            write_observations([c.path], 1800, 39, 1, observations_per_teacher=4)
        elif n == "xlsx-90k-rows":
            _xlsx_frame(c.path, obs(4).head(90_000))
        elif n == "xlsx-far-cell":
            _xlsx_far_cell(c.path)
        elif n == "xlsx-bomb":
            _xlsx_bomb(c.path, 900_000_000)
        elif n == "ids-100k":
            _long_ids(c.path, 100_000)
        elif n == "schools-ids-100k":
            _schools_long_id(c.path, 100_000)
        elif n == "unknown-indicators":
            assert c.roster is not None
            _unknown_indicators(c.path, c.roster, 200_000)
        elif n == "every-kind-15mb":
            _every_kind(c.path, 15_000_000, inds)
        elif n == "distinct-cells-60mb":
            _distinct_cells(c.path, 60_000_000)
        elif n == "rows-30mb":
            _json_rows(c.path, 30_000_000, inds)
        print(f"made {c.path.name} ({c.path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s",
              flush=True)
    return cases


# --- measuring ------------------------------------------------------------------------------------------------

_READ = r"""
import json, sys, time
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
case = json.loads(sys.argv[1])
from pathlib import Path
from matcher.errors import InputError, MatcherError
from matcher.io.pair_lists import read_school_coords
from matcher.io.teachers import read_teachers
from matcher.rubric import bundled
from matcher.service.datasets import read_rows
base = hwm()
t0 = time.perf_counter()
try:
    if case["kind"] == "schools":
        out = f"ok: {len(read_school_coords(case['path']))} schools"
    elif case["kind"] == "rows":
        rows = json.loads(Path(case["path"]).read_text())["rows"]
        out = f"ok: {len(read_rows(rows, bundled('team')))} teachers"
    else:
        table = read_teachers(case["path"], bundled("team"), case.get("roster"))
        out = f"ok: {len(table)} teachers"
except InputError as exc:
    first = str(exc.problems[0]).replace(case["path"], Path(case["path"]).name)
    out = f"422: {len(exc.problems)} problems; " + first[:120]
except MatcherError as exc:
    out = f"{type(exc).__name__}: {str(exc)[:120]}"
except MemoryError:
    out = "MemoryError"
print(json.dumps({"s": time.perf_counter() - t0, "peak": hwm(), "base": base, "out": out}))
"""


_KEY = r"""
import sys
from matcher.store.db import open_engine, upgrade
from matcher.store.keys import create_key
engine = open_engine(sys.argv[1])
upgrade(engine)
print(create_key(engine, "state", label="benchmarks/uploads.py"))
"""


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _env(src: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _died(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit {code}"


def measure_read(case: Case, src: Path | None, timeout: float) -> tuple[float | None, float | None, str]:
    arg = json.dumps({"kind": case.kind, "path": str(case.path), "roster": str(case.roster) if case.roster else None})
    t0 = time.perf_counter()
    try:
        p = subprocess.run([sys.executable, "-c", _READ, arg], capture_output=True, text=True, timeout=timeout,
                           env=_env(src), preexec_fn=_limit_memory, cwd=REPO)
    except subprocess.TimeoutExpired:
        return None, None, f"no answer in {timeout:g} s (killed)"
    if p.returncode != 0 or not p.stdout.strip():
        tail = (p.stderr.strip().splitlines() or [""])[-1][:120]
        return time.perf_counter() - t0, None, f"crashed ({_died(p.returncode)}): {tail}"
    got = json.loads(p.stdout.strip().splitlines()[-1])
    return got["s"], got["peak"], got["out"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(pid: int, key: str) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _cpu(pid: int) -> float | None:
    try:
        parts = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def _matcher_cmd() -> list[str]:
    return [sys.executable, "-m", "matcher.cli"]


def measure_api(case: Case, src: Path | None, timeout: float, sample_teachers: Path) -> dict[str, Any]:
    import httpx2 as httpx

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="uploads-bench-") as tmp:
        url = f"sqlite:///{tmp}/matcher.db"
        # the database and key made by the code under test (its migrations)
        key = subprocess.run([sys.executable, "-c", _KEY, url], capture_output=True, text=True, check=True,
                             env=_env(src), cwd=REPO).stdout.strip()
        port = _free_port()
        log = DATA / "logs"
        log.mkdir(parents=True, exist_ok=True)
        err_path = log / f"uploads-server-{case.name}.err"
        env = _env(src)
        env["MATCHER_JOB_PROCESSES"] = "1"
        with err_path.open("wb") as err:
            proc = subprocess.Popen([*_matcher_cmd(), "serve", "--host", "127.0.0.1", "--port", str(port),
                                     "--database-url", url, "--log-level", "warning"], stdout=err, stderr=err,
                                    env=env, preexec_fn=_limit_memory, cwd=REPO)
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=5.0) as c:
                ready = time.monotonic() + 120
                while True:
                    if proc.poll() is not None:
                        return {"outcome": f"server did not start ({_died(proc.returncode)})"}
                    try:
                        if c.get("/readyz").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if time.monotonic() > ready:
                        return {"outcome": "server did not start in 120 s"}
                    time.sleep(0.05)
            time.sleep(1.0)  # the job process finishes importing
            out["base_mb"] = _status(proc.pid, "VmRSS")
            headers = {"Authorization": f"Bearer {key}"}
            t0 = time.perf_counter()
            try:
                with httpx.Client(base_url=base, timeout=timeout) as c:
                    if case.kind == "rows":
                        with case.path.open("rb") as fh:
                            r = c.post("/v1/datasets", content=fh.read(),
                                       headers={**headers, "Content-Type": "application/json"})
                    else:
                        files: dict[str, Any] = {}
                        handles = []
                        teacher_path = sample_teachers if case.kind == "schools" else case.path
                        parts = [("file", teacher_path)]
                        if case.roster is not None:
                            parts.append(("roster", case.roster))
                        if case.kind == "schools":
                            parts.append(("schools", case.path))
                        for part, p in parts:
                            fh = p.open("rb")
                            handles.append(fh)
                            files[part] = (p.name, fh, "application/octet-stream")
                        try:
                            r = c.post("/v1/datasets", files=files, data={"rubric": "team"}, headers=headers)
                        finally:
                            for fh in handles:
                                fh.close()
                out["s"] = time.perf_counter() - t0
                out["outcome"] = _answer(r)
            except httpx.TimeoutException:
                out["outcome"] = f"no answer in {timeout:g} s"
            except httpx.TransportError as exc:
                out["s"] = time.perf_counter() - t0
                out["outcome"] = f"connection failed ({type(exc).__name__})" + (
                    f"; server {_died(proc.returncode)}" if proc.poll() is not None else "")
            cpu0 = _cpu(proc.pid)
            time.sleep(AFTER_S)
            cpu1 = _cpu(proc.pid)
            out["cpu_after"] = cpu1 - cpu0 if cpu0 is not None and cpu1 is not None else None
            out["peak_mb"] = _status(proc.pid, "VmHWM")
            if proc.poll() is not None:
                out["outcome"] += f" (server {_died(proc.returncode)})"
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(15)
    return out


def _answer(r: Any) -> str:
    try:
        body = r.json()
    except ValueError:
        return f"{r.status_code}: {r.text[:100]}"
    if r.status_code == 201:
        return f"201: {body.get('n_teachers')} teachers"
    problems = body.get("problems") or []
    if r.status_code == 422 and problems:
        first = problems[0]
        where = ", ".join(str(x) for x in (first.get("row"), first.get("column")) if x is not None)
        return f"422: {len(problems)} problems; {first.get('message', '')[:90]} ({where})"
    return f"{r.status_code}: {str(body.get('message', ''))[:120]}"


# --- tables ---------------------------------------------------------------------------------------------------

def _num(v: float | None, fmt: str = "{:.1f}") -> str:
    return "" if v is None else fmt.format(v)


def table(results: list[Result]) -> str:
    head = ["file", "size", "read s", "read peak MB", "read outcome", "API s", "API peak MB", "API answer",
            "API CPU s after"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in results:
        lines.append("| " + " | ".join([r.case, _size(r.size), _num(r.read_s, "{:.2f}"), _num(r.read_peak_mb, "{:.0f}"),
                                        _cell(r.read_outcome), _num(r.api_s, "{:.2f}"), _num(r.api_peak_mb, "{:.0f}"),
                                        _cell(r.api_outcome), _num(r.api_cpu_after_s, "{:.1f}")]) + " |")
    return "\n".join(lines)


def compare(before: list[Result], after: list[Result]) -> str:
    b = {r.case: r for r in before}
    head = ["file", "size", "read s before / after", "read peak MB before / after", "read outcome after",
            "API s before / after", "API peak MB before / after", "API answer before", "API answer after",
            "API CPU s in the 3 s after the answer, before / after"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in after:
        o = b.get(r.case, Result(r.case, r.size))
        lines.append("| " + " | ".join([
            r.case, _size(r.size),
            f"{_num(o.read_s, '{:.2f}') or _short(o.read_outcome)} / {_num(r.read_s, '{:.2f}')}",
            f"{_num(o.read_peak_mb, '{:.0f}') or '-'} / {_num(r.read_peak_mb, '{:.0f}')}",
            _cell(r.read_outcome),
            f"{_num(o.api_s, '{:.2f}') or _short(o.api_outcome)} / {_num(r.api_s, '{:.2f}')}",
            f"{_num(o.api_peak_mb, '{:.0f}') or '-'} / {_num(r.api_peak_mb, '{:.0f}')}",
            _cell(o.api_outcome), _cell(r.api_outcome),
            f"{_num(o.api_cpu_after_s) or '-'} / {_num(r.api_cpu_after_s)}"]) + " |")
    return "\n".join(lines)


def _short(outcome: str) -> str:
    return "> timeout" if outcome.startswith("no answer") else ("crash" if outcome.startswith("crash") else "-")


def _cell(text: str) -> str:
    return text.replace("|", "/").replace("\n", " ")[:160]


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.0f} kB"


def _load(path: Path) -> list[Result]:
    data = json.loads(path.read_text())
    return [Result(**r) for r in data["results"]]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="leave out the slow-to-make statewide workbook")
    ap.add_argument("--only", help="comma-separated file names (see the table)")
    ap.add_argument("--src", type=Path, help="read and serve from this source tree (PYTHONPATH)")
    ap.add_argument("--label", default="now", help="results go to .data/uploads-LABEL.json")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds before a process is killed")
    ap.add_argument("--no-api", action="store_true", help="measure the reader only")
    ap.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    ap.add_argument("--write", action="store_true", help="with --compare: record the table in RESULTS.md")
    args = ap.parse_args(argv)
    if args.compare:
        text = compare(_load(args.compare[0]), _load(args.compare[1]))
        print(text)
        if args.write:
            from results_file import replace_section  # benchmarks/

            meta = json.loads(args.compare[1].read_text())
            section = (f"{START}\n# Hostile uploads (issue 12)\n\nWritten by `python benchmarks/uploads.py` on "
                       f"{meta['date']}; machine: {meta['machine']}.\n\n{text}\n{END}\n")
            replace_section(START, END, section)
        return 0
    only = set(args.only.split(",")) if args.only else None
    cases = [c for c in make_files(only) if c.quick or not args.quick]
    sample = REPO / "data" / "samples" / "teachers.csv"
    results = []
    for c in cases:
        r = Result(c.name, c.path.stat().st_size + (c.roster.stat().st_size if c.roster else 0))
        r.read_s, r.read_peak_mb, r.read_outcome = measure_read(c, args.src, args.timeout)
        print(f"{c.name}: read {_num(r.read_s, '{:.2f}')} s, {_num(r.read_peak_mb, '{:.0f}')} MB: {r.read_outcome}",
              flush=True)
        if not args.no_api:
            got = measure_api(c, args.src, args.timeout, sample)
            r.api_s, r.api_peak_mb, r.api_outcome = got.get("s"), got.get("peak_mb"), got.get("outcome", "")
            r.api_cpu_after_s, r.api_base_mb = got.get("cpu_after"), got.get("base_mb")
            print(f"{c.name}: API {_num(r.api_s, '{:.2f}')} s, {_num(r.api_peak_mb, '{:.0f}')} MB peak "
                  f"(start {_num(r.api_base_mb, '{:.0f}')} MB), CPU after {_num(r.api_cpu_after_s)} s: "
                  f"{r.api_outcome}", flush=True)
        results.append(r)
    print()
    print(table(results))
    DATA.mkdir(parents=True, exist_ok=True)
    out = DATA / f"uploads-{args.label}.json"
    out.write_text(json.dumps({"date": dt.date.today().isoformat(), "machine": _machine(),
                               "src": str(args.src or REPO / "src"), "results": [asdict(r) for r in results]},
                              indent=1))
    print(f"\nwrote {out.relative_to(REPO)}")
    return 0


def _machine() -> str:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{cpu}, {os.cpu_count()} cores, Python {sys.version.split()[0]}"


if __name__ == "__main__":
    sys.exit(main())
