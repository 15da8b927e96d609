"""Teacher datasets: upload (a CSV or Excel file, or JSON rows), synthetic districts, and reading them back within
one's scope."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy import Engine
from starlette.datastructures import UploadFile

from ...errors import InputError, Problem
from ...io.columns import column_map_from_dict
from ...service import datasets as svc
from ...store import repo
from ...store.keys import Caller
from ..deps import CallerDep, EngineDep, check_dataset, require, school_scope
from ..errors import RESPONSES
from ..schemas import DatasetList, DatasetOut, RowsIn, SchoolCount, SyntheticIn

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


async def _file(form: Any, field: str) -> tuple[bytes, str] | None:
    item = form.get(field)
    if item is None or item == "":
        return None
    if not isinstance(item, UploadFile):
        raise InputError([Problem("request", "must be a file part", column=field)])
    return await item.read(), item.filename or field


@router.post("", status_code=201, response_model=DatasetOut, openapi_extra={"requestBody": {
    "required": True, "content": {"multipart/form-data": {"schema": _UPLOAD_FORM},
                                  "application/json": {"schema": RowsIn.model_json_schema()}}}})
async def create_dataset(request: Request, caller: CallerDep, engine: EngineDep) -> DatasetOut:
    """Upload teachers as a CSV or Excel file (multipart) or as JSON rows; validated like `matcher pair` validates
    files (labelled headers, one row per observation, names; `columns`, `sheet` and `strict` as the CLI's flags)."""
    require(caller, "state")
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        form = await request.form()
        file = await _file(form, "file")
        if file is None:
            raise InputError([Problem("request", "a teacher CSV is required", column="file")])
        roster, schools = await _file(form, "roster"), await _file(form, "schools")
        rubric_name = str(form.get("rubric") or "team")
        name = str(form.get("name") or file[1]).replace("\x00", "")[:300]
        await form.close()
        options = _reading_options(form)
        return await run_in_threadpool(_ingest, engine, caller, name, rubric_name, file, roster, schools, None,
                                       options)
    if ctype.startswith("application/json"):
        try:
            body = RowsIn.model_validate_json(await request.body())
        except ValidationError as exc:
            raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
        return await run_in_threadpool(_ingest, engine, caller, body.name, body.rubric, None, None, None, body.rows)
    raise InputError([Problem("request", "send multipart/form-data (a CSV file) or application/json (rows)",
                              column="content-type", value=ctype[:100])])


def _ingest(engine: Engine, caller: Caller, name: str, rubric_name: str, file: tuple[bytes, str] | None,
            roster: tuple[bytes, str] | None, schools: tuple[bytes, str] | None,
            rows: list[dict[str, Any]] | None, options: dict[str, Any] | None = None) -> DatasetOut:
    """Validate and store (in a worker thread: reading a statewide file takes a second or two)."""
    rubric = svc.rubric_named(rubric_name)
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
