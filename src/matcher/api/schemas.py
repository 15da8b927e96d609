"""Request and response bodies of the API (pydantic at the edge; the library keeps its frozen dataclasses)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from ..report.handouts import handout_key

Id = str


class ProblemOut(BaseModel):
    file: str
    message: str
    row: int | None = None
    column: str | None = None
    value: str | None = None


class ErrorOut(BaseModel):
    error: str = Field(description="invalid_input | infeasible | not_found | forbidden | unauthorized | conflict | "
                                   "too_large | unavailable")
    message: str
    problems: list[ProblemOut] = []
    revision: int | None = Field(None, description="409 on a re-match: the school's current revision")


class RowsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rows: list[dict[str, Any]] = Field(description="one object per teacher: the teacher CSV's columns as keys; "
                                                   "scores as indicator columns or under \"scores\"",
                                       min_length=1)
    rubric: Literal["team", "danielson"] = "team"
    name: str = Field("rows", max_length=300, pattern=r"^[^\x00]*$")


MAX_SYNTHETIC_TEACHERS = 100_000  # a whole state is about 70,000


class SyntheticIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schools: int = Field(ge=1, le=2500)
    mean_size: float = Field(39.0, ge=1, le=200)
    seed: int = Field(0, ge=0, le=2**63 - 1)
    rubric: Literal["team", "danielson"] = "team"

    @model_validator(mode="after")
    def _state_sized(self) -> SyntheticIn:
        if self.schools * self.mean_size > MAX_SYNTHETIC_TEACHERS:
            raise ValueError(f"schools x mean_size is over {MAX_SYNTHETIC_TEACHERS:,} teachers (a whole state is "
                             "about 70,000)")
        return self


class SchoolCount(BaseModel):
    school_id: str
    school_name: str = Field("", description="from the teacher file; \"\" if not given (the id stands alone)")
    n_teachers: int


class DatasetOut(BaseModel):
    id: Id
    kind: Literal["upload", "synthetic"]
    name: str
    rubric: str
    n_teachers: int = Field(description="for a principal key: the teachers of its own schools only")
    n_schools: int
    warnings: list[str]
    synthetic: dict[str, Any] | None = None
    created_at: datetime
    created_by: str
    schools: list[SchoolCount]


class DatasetList(BaseModel):
    datasets: list[DatasetOut]


class PairingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dataset_id: Id
    policy: dict[str, Any] = Field(default_factory=dict,
                                   description="the settings of a policy file (see data/samples/policy.toml)")
    previous_pairing_id: Id | None = Field(None, description="keep this run's pairs where still allowed, as "
                                                             "policy.previous_stability says (the September re-run)")
    carry_decisions: bool | None = Field(None, description="carry the principals' decisions on the previous run "
                                                           "(refused pairs stay refused, kept pairs stay while "
                                                           "allowed, removed teachers stay out while listed in the "
                                                           "same school); default: true with previous_pairing_id")


SCHOOL_KEY = Field(description="the school in file names (schools/<key>.html) and URLs (/schools/{key}/...): the id "
                                     "itself when it is capital letters, digits, '_', '-' and '.'; else a readable "
                                     "prefix and a digest of the id")


class SchoolRow(BaseModel):
    school_id: str
    key: str = SCHOOL_KEY
    school_name: str = Field("", description="from the teacher file; \"\" if not given (the id stands alone)")
    revision: int
    value: float
    n_pairs: int
    n_unmatched: int


class PairingOut(BaseModel):
    id: Id
    dataset_id: Id
    previous_pairing_id: Id | None
    status: Literal["queued", "running", "succeeded", "failed"]
    progress: float
    policy: dict[str, Any]
    summary: dict[str, Any] | None = Field(None, description="the run's summary.json (not shown to principals)")
    error: dict[str, Any] | None = None
    created_at: datetime
    created_by: str | None = Field(None, description="the id of the key that started the run (null for principals)")
    started_at: datetime | None
    finished_at: datetime | None


class PairingList(BaseModel):
    pairings: list[PairingOut]


class SchoolList(BaseModel):
    pairing_id: Id
    schools: list[SchoolRow]


class PairOut(BaseModel):
    school_id: str
    teacher_a: str
    teacher_b: str
    value: float
    a_helps_b: list[str]
    b_helps_a: list[str]
    focus_indicator: str
    explanation: str
    school_b: str
    origin: str
    previous: str
    teacher_a_name: str = Field("", description="from the teacher file; \"\" if not given (the id stands alone)")
    teacher_b_name: str = Field("", description="from the teacher file; \"\" if not given (the id stands alone)")
    school_name: str = Field("", description="from the teacher file; \"\" if not given (the id stands alone)")
    school_b_name: str = Field("", description="school_b's name (a pair across schools)")
    value_counts: str = Field("", description="the value and what it counts, e.g. \"3 indicators where one can "
                                              "support the other\" (in a school view)")

    @computed_field(description="the pair's key in its handout's address: .../schools/{school}/pairs/{handout}/"
                                "handout.html, and its file name in handouts.zip")  # type: ignore[prop-decorator]
    @property
    def handout(self) -> str:
        return handout_key(self.teacher_a, self.teacher_b)


class UnmatchedOut(BaseModel):
    school_id: str
    teacher_id: str
    reason: str
    code: str
    teacher_name: str = Field("", description="from the teacher file; \"\" if not given (the id stands alone)")
    school_name: str = Field("", description="from the teacher file; \"\" if not given (the id stands alone)")


class TeacherOut(BaseModel):
    teacher_id: str
    teacher_name: str = Field("", description="from the teacher file; \"\" if not given (the id stands alone)")
    email: str = ""
    role: str = ""
    subject: str
    grades: str
    years_experience: float | None
    opt_out: bool
    scores: dict[str, float | None] = Field(description="per indicator, the school view's `aggregate` of the "
                                                        "teacher's observations; null when not observed")
    observations: dict[str, int] = Field(default_factory=dict,
                                         description="per indicator, how many observations the score rests on")
    refinement_areas: list[str] = Field(default_factory=list,
                                        description="indicators that are the teacher's refinement areas under the "
                                                    "run's policy (its `areas`)")
    reinforcement_areas: list[str] = Field(default_factory=list,
                                           description="indicators that are the teacher's reinforcement areas")


class BrokenPair(BaseModel):
    teacher_a: str
    teacher_b: str
    reason: str
    teacher_a_name: str = Field("", description="from the teacher file; \"\" if not given (the id stands alone)")
    teacher_b_name: str = Field("", description="from the teacher file; \"\" if not given (the id stands alone)")


class Diff(BaseModel):
    kept: list[list[str]]
    broken: list[BrokenPair]
    new: list[BrokenPair]


class CarriedOut(BaseModel):
    school_id: str
    kind: Literal["refused", "kept", "removed"] = Field(description="a refused pair, a kept pair, a removed teacher")
    teacher_ids: list[str] = Field(description="the pair's two teachers, or the removed teacher")
    teacher_names: list[str] = Field(description="their names (\"\" where the file gave none)")
    made_at: datetime = Field(description="when the re-match that made the decision was saved")
    made_by: str = Field(description="the label of the key that asked (its role where it has none)")
    pairing_id: Id = Field(description="the run whose re-match made it")
    revision: int = Field(description="the school's revision in that run")
    held: bool = Field(description="whether it holds in this run")
    reason: str = Field("", description="why not, where it does not hold")


class SchoolOut(BaseModel):
    pairing_id: Id
    school_id: str
    key: str = SCHOOL_KEY
    school_name: str = Field("", description="from the teacher file; \"\" if not given (the id stands alone)")
    aggregate: str = Field("mean", description="how each teacher's observations became one score per indicator "
                                               "(the run's policy): mean, median or latest")
    revision: int
    latest_revision: int
    mode: str
    value: float
    value_counts: str = Field("", description="the total value and what it counts, e.g. \"total value 12: "
                                              "indicators where one can support the other, added up over the pairs\"")
    pairs: list[PairOut]
    unmatched: list[UnmatchedOut]
    teachers: list[TeacherOut]
    areas_rule: str = Field("", description="how the run chose refinement and reinforcement areas, in words")
    diff: Diff | None = Field(None, description="what this revision changed against the one before")
    carried: list[CarriedOut] = Field([], description="this school's decisions the run carried from the run it "
                                                      "started from (never another school's)")


# A school's teachers, at most: a re-match's lists are bounded by it, and ids by the teacher file's limit.
MAX_REMATCH_ITEMS = 5000
TeacherRef = Annotated[str, Field(min_length=1, max_length=200)]


class RematchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    revision: int = Field(ge=0, le=2**31 - 1, description="the revision the principal saw")
    forbid: list[tuple[TeacherRef, TeacherRef]] = Field([], max_length=MAX_REMATCH_ITEMS,
                                                        description="pairs never to form")
    keep: list[tuple[TeacherRef, TeacherRef]] = Field([], max_length=MAX_REMATCH_ITEMS,
                                                      description="pairs that must stay (or form)")
    remove: list[TeacherRef] = Field([], max_length=MAX_REMATCH_ITEMS, description="teachers who leave")
    add: list[dict[str, Any]] = Field([], max_length=MAX_REMATCH_ITEMS,
                                      description="teachers who join: teacher CSV columns as keys")
    stability: Literal["keep_untouched", "balanced", "full"] = Field(
        "keep_untouched", description="the other pairs: keep every one the request does not touch (keep_untouched), "
                                      "keep them unless changing them raises the school's value (balanced), or "
                                      "suggest the whole school again (full)")
    note: str | None = Field(None, max_length=2000, description="why, for the audit trail")


class RematchOut(BaseModel):
    pairing_id: Id
    school_id: str
    revision: int
    value: float
    n_pairs: int
    n_unmatched: int
    pairs: list[PairOut]
    unmatched: list[UnmatchedOut]
    diff: Diff


class RevisionOut(BaseModel):
    revision: int
    created_at: datetime
    created_by: str | None = Field(description="the key's id, for the state office's audit (null for principals)")
    created_by_label: str = Field("", description="who asked: the key's label (its role where it has none)")
    request: dict[str, Any] | None
    diff: Diff | None
    value: float
    n_pairs: int
    n_unmatched: int


class RevisionList(BaseModel):
    pairing_id: Id
    school_id: str
    revisions: list[RevisionOut]
    names: dict[str, str] = Field(default_factory=dict,
                                  description="teacher_id -> name for the school's named teachers in any of its "
                                              "revisions, those a re-match removed included")


class AuditOut(BaseModel):
    id: int
    at: datetime
    key_id: str
    role: str
    action: str
    target: str
    status: int
    detail: dict[str, Any]


class AuditList(BaseModel):
    entries: list[AuditOut]


class Health(BaseModel):
    status: str
    database: str | None = None
    schema_revision: str | None = None


class NetworkSchoolOut(BaseModel):
    school_id: str
    school_name: str = Field(description="the school's name in the schools file (\"\" if blank there)")
    role: Literal["host", "partner", "peer"]
    pod: str
    explanation: str


class NetworkOut(BaseModel):
    network_id: str
    leader: str = Field(description="the host (or a peer group's first school)")
    leader_name: str = Field(description="the leader's name")
    members: list[str]
    focus_area: str
    schools: list[NetworkSchoolOut]


class NetworkFacilitatorOut(BaseModel):
    facilitator_id: str
    facilitator_name: str = Field(description="from the facilitators file (\"\" when it gives none)")
    network_id: str
    km_to_host: float = Field(description="km from the facilitator to the network's host (or first school)")


class NetworkRunOut(BaseModel):
    id: Id
    name: str
    revision: int
    latest_revision: int
    policy: dict[str, Any] = Field(description="the run's policy (for a principal or facilitator key, `avoid` and "
                                               "`stay` name only schools it sees)")
    summary: dict[str, Any] = Field(description="the revision's counts (of every network) and solve details")
    networks: list[NetworkOut] = Field(description="every network (state keys); a principal key: those holding one "
                                                   "of its schools, with all their schools; a facilitator key: those "
                                                   "assigned to it")
    left_out: dict[str, str] = Field(description="school_id -> why it is in no network (a principal key: its own "
                                                 "schools; a facilitator key: none)")
    school_names: dict[str, str] = Field(description="school_id -> name, for every school of this revision the key "
                                                     "sees (in a network or left out)")
    facilitators: list[NetworkFacilitatorOut] | None = Field(
        None, description="each network's facilitator at this revision (of the networks shown), by facilitator; "
                          "null when none were assigned")
    created_at: datetime
    created_by: str


class NetworkRematchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    revision: int = Field(ge=0, le=2**31 - 1, description="the revision the district office saw")
    network_id: str = Field(max_length=50, description="the network to form again; the others are kept")
    remove: list[str] = Field([], description="schools that leave the program")
    avoid: list[tuple[str, str]] = Field([], description="schools that must not be together")
    note: str | None = Field(None, max_length=2000)
