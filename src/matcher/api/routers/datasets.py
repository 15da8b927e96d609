"""Teacher datasets: upload (a CSV or Excel file, or JSON rows), synthetic districts, and reading them back within
one's scope."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy import Engine
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from ...errors import DeadlineError, InputError, Problem, shorten
from ...io.columns import column_map_from_dict
from ...io.table import TeacherTable
from ...rubric import Rubric
from ...service import datasets as svc
from ...store import repo
from ...store.keys import Caller
from ..deps import CallerDep, EngineDep, SettingsDep, check_dataset, require, school_scope
from ..errors import RESPONSES
from ..limits import MAX_JSON_ROWS_BYTES, deadline_response, within_deadline
from ..schemas import DatasetList, DatasetOut, ErrorOut, RowsIn, SchoolCount, SyntheticIn

router = APIRouter(prefix="/v1/datasets", tags=["datasets"], responses=RESPONSES)

_UPLOAD_FORM = {
    "type": "object", "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "teacher CSV (wide), or a long score file "
                                                                     "with roster"},
        "roster": {"type": "string", "format": "binary", "description": "roster CSV for a long score file"},
        "schools": {"type": "string", "format": "binary", "description": "schools CSV (coordinates for "
                                                                        "cross-school distance limits)"},
        "rubric": {"type": "string", "enum": ["team", "danielson"], "default": "team"},
        "name": {"type": "string", "maxLength": 300},
        "columns": {"type": "string", "description": "column map as a JSON object: header -> field or indicator "
                                                     "(\"\" drops the column), for headers that name no field"},
        "sheet": {"type": "string", "maxLength": 200, "description": "the Excel workbook's sheet (default: the "
                                                                      "first)"},
        "strict": {"type": "boolean", "default": False, "description": "refuse columns that are neither a field "
                                                                       "nor an indicator (default: kept as extras)"},
    },
}


def _reading_options(form: Any) -> dict[str, Any]:
    """columns, sheet and strict from the upload form, as read_teachers takes them."""
    problems = []
    cmap = None
    text = form.get("columns")
    if isinstance(text, str) and text.strip():
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            data = None
            problems.append(Problem("request", f"not valid JSON: {exc}", column="columns", value=text[:200]))
        if data is not None and not isinstance(data, dict):
            problems.append(Problem("request", "must be a JSON object of header -> field", column="columns",
                                    value=text[:200]))
        elif data is not None:
            try:
                cmap = column_map_from_dict(data, "columns")
            except InputError as exc:
                problems += exc.problems
    sheet = form.get("sheet")
    strict = str(form.get("strict") or "false").strip().lower()
    if strict not in ("true", "false", "1", "0", "yes", "no"):
        problems.append(Problem("request", "must be true or false", column="strict", value=strict[:20]))
    if problems:
        raise InputError(problems)
    return {"columns": cmap, "sheet": str(sheet)[:200] if isinstance(sheet, str) and sheet else None,
            "strict": strict in ("true", "1", "yes")}


def _out(conn: Any, row: Any, scope: frozenset[str] | None) -> DatasetOut:
    schools = repo.dataset_schools_of(conn, row.id, scope)
    n = row.n_teachers if scope is None else sum(s.n_teachers for s in schools)
    return DatasetOut(id=row.id, kind=row.kind, name=row.name, rubric=row.rubric, n_teachers=n,
                      n_schools=len(schools), warnings=list(row.warnings) if scope is None else [],
                      synthetic=row.synthetic, created_at=row.created_at, created_by=row.created_by,
                      schools=[SchoolCount(school_id=s.school_id, school_name=s.name or "", n_teachers=s.n_teachers)
                               for s in schools])


async def _file(form: Any, field: str, folder: Path) -> tuple[Path, str] | None:
    """The form's file part, saved to `folder` as it is copied out of the form (never held in memory whole)."""
    item = form.get(field)
    if item is None or item == "":
        return None
    if not isinstance(item, UploadFile):
        raise InputError([Problem("request", "must be a file part", column=field)])
    path = folder / field
    await run_in_threadpool(_save, item, path)
    return path, shorten(item.filename or field, 200, 150)


def _save(item: UploadFile, path: Path) -> None:
    item.file.seek(0)
    with path.open("wb") as out:
        shutil.copyfileobj(item.file, out, 1 << 20)


_TOO_SLOW = {503: {"model": ErrorOut, "description": "the upload could not be read and checked within "
                                                     "MATCHER_UPLOAD_SECONDS (nothing was stored)"}}


@router.post("", status_code=201, response_model=DatasetOut, responses=_TOO_SLOW, openapi_extra={"requestBody": {
    "required": True, "content": {"multipart/form-data": {"schema": _UPLOAD_FORM},
                                  "application/json": {"schema": RowsIn.model_json_schema()}}}})
async def create_dataset(request: Request, caller: CallerDep, engine: EngineDep, settings: SettingsDep) -> Any:
    """Upload teachers as a CSV or Excel file (multipart) or as JSON rows; validated like `matcher pair` validates
    files (labelled headers, one row per observation, names; `columns`, `sheet` and `strict` as the CLI's flags).
    Reading and checking it may take MATCHER_UPLOAD_SECONDS (503 past that, and the work stops)."""
    require(caller, "state")
    ctype = request.headers.get("content-type", "")
    seconds = settings.upload_seconds
    try:
        if ctype.startswith("multipart/form-data"):
            with tempfile.TemporaryDirectory(prefix="matcher-upload-") as tmp:
                folder = Path(tmp)
                form = await request.form()
                try:
                    file = await _file(form, "file", folder)
                    if file is None:
                        raise InputError([Problem("request", "a teacher CSV is required", column="file")])
                    roster, schools = await _file(form, "roster", folder), await _file(form, "schools", folder)
                    rubric_name = str(form.get("rubric") or "team")
                    name = str(form.get("name") or file[1]).replace("\x00", "")[:300]
                    options = _reading_options(form)
                finally:
                    await form.close()
                rubric = svc.rubric_named(rubric_name)
                table, coords = await within_deadline(
                    seconds, lambda: _read(rubric, file, roster, schools, None, options))
        elif ctype.startswith("application/json"):
            raw = await request.body()
            if len(raw) > MAX_JSON_ROWS_BYTES:
                raise StarletteHTTPException(413, f"JSON rows are for small datasets: at most "
                                                  f"{MAX_JSON_ROWS_BYTES / 2**20:g} MB; upload a larger one as a "
                                                  "CSV file (multipart/form-data)")
            try:
                body = RowsIn.model_validate_json(raw)
            except ValidationError as exc:
                raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
            del raw
            rubric = svc.rubric_named(body.rubric)
            name, rubric_name = body.name, body.rubric
            table, coords = await within_deadline(seconds, lambda: _read(rubric, None, None, None, body.rows))
        else:
            raise InputError([Problem("request", "send multipart/form-data (a CSV file) or application/json (rows)",
                                      column="content-type", value=ctype[:100])])
    except DeadlineError as exc:
        return deadline_response(exc)
    return await run_in_threadpool(_store, engine, caller, name, rubric_name, table, coords)


def _read(rubric: Rubric, file: tuple[Path, str] | None, roster: tuple[Path, str] | None,
          schools: tuple[Path, str] | None, rows: list[dict[str, Any]] | None,
          options: dict[str, Any] | None = None) -> tuple[TeacherTable, dict[str, tuple[float, float]] | None]:
    """Validate (in a worker thread, under the upload limits and deadline: reading a statewide file takes a few
    seconds); every problem of every part at once."""
    problems: list[Problem] = []
    table = coords = None
    school_names: dict[str, str] = {}
    try:
        coords = svc.read_coords(*schools, school_names) if schools else None
    except InputError as exc:
        problems += exc.problems
    try:
        table = svc.read_upload(file[0], file[1], rubric, roster, school_names=school_names, **(options or {})) \
            if file else svc.read_rows(rows or [], rubric).with_school_names(school_names)
    except InputError as exc:
        problems += exc.problems
    if problems or table is None:
        raise InputError(problems)
    return table, coords


def _store(engine: Engine, caller: Caller, name: str, rubric_name: str, table: TeacherTable,
           coords: dict[str, tuple[float, float]] | None) -> DatasetOut:
    """Store a validated table (not under the deadline: a table read in time is stored whole, or not at all)."""
    ident = svc.store_dataset(engine, caller, table, kind="upload", name=name, rubric=rubric_name, coords=coords)
    repo.audit(engine, caller, "dataset.create", f"dataset/{ident}", 201,
               {"name": name, "rubric": rubric_name, "n_teachers": len(table), "n_schools": table_schools(table)})
    with engine.connect() as conn:
        return _out(conn, repo.get_dataset(conn, ident), None)


def table_schools(table: Any) -> int:
    return len(set(table.school_id.tolist()))


@router.post("/synthetic", status_code=201, response_model=DatasetOut)
def create_synthetic(body: SyntheticIn, caller: CallerDep, engine: EngineDep) -> DatasetOut:
    """A seeded synthetic district from matcher.synth (researchers and the state)."""
    require(caller, "state", "researcher")
    table, coords = svc.synthetic_district(body.schools, body.mean_size, body.seed, svc.rubric_named(body.rubric))
    args = body.model_dump()
    ident = svc.store_dataset(engine, caller, table, kind="synthetic", rubric=body.rubric, coords=coords,
                              name=f"synthetic: {body.schools} schools, seed {body.seed}", synthetic=args)
    repo.audit(engine, caller, "dataset.synthetic", f"dataset/{ident}", 201, args)
    with engine.connect() as conn:
        return _out(conn, repo.get_dataset(conn, ident), None)


@router.get("", response_model=DatasetList)
def list_datasets(caller: CallerDep, engine: EngineDep) -> DatasetList:
    scope = school_scope(caller)
    kinds = ("synthetic",) if caller.role == "researcher" else None
    with engine.connect() as conn:
        return DatasetList(datasets=[_out(conn, r, scope) for r in repo.list_datasets(conn, kinds, scope)])


@router.get("/{dataset_id}", response_model=DatasetOut)
def get_dataset(dataset_id: str, caller: CallerDep, engine: EngineDep) -> DatasetOut:
    with engine.connect() as conn:
        row = repo.get_dataset(conn, dataset_id)
        check_dataset(conn, caller, row)
        return _out(conn, row, school_scope(caller))
