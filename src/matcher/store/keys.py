"""API keys: made at random, shown once, stored as a SHA-256 hash (a 256-bit random key needs no slow hash)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select, update

from ..errors import InputError, Problem
from .tables import api_keys

ROLES = ("state", "principal", "researcher", "facilitator")
PREFIX = "mk_"


@dataclass(frozen=True)
class Caller:
    """Who is asking: the key's public id, its role, (for a principal) the schools it may see and (for a
    facilitator) the facilitator ids it stands for. A facilitator sees the school networks assigned to its ids and
    no school's pairing data."""

    key_id: str
    role: str
    schools: frozenset[str]
    facilitators: frozenset[str] = frozenset()

    def sees_school(self, school_id: str) -> bool:
        if self.role == "facilitator":
            return False
        return self.role != "principal" or school_id in self.schools


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(engine: Engine, role: str, schools: list[str] | tuple[str, ...] = (), label: str = "",
               facilitators: list[str] | tuple[str, ...] = ()) -> str:
    """Store a new key's hash and return the key itself (the only time it exists in clear). A principal key names
    its schools, a facilitator key its facilitator ids (as the facilitators file gives them)."""
    problems = []
    if role not in ROLES:
        problems.append(Problem("keys", f"must be one of {', '.join(ROLES)}", column="role", value=role))
    schools = [s.strip() for s in schools]
    facilitators = [f.strip() for f in facilitators]
    if role == "principal" and not schools:
        problems.append(Problem("keys", "a principal key must name at least one school (--school ID)",
                                column="school"))
    if role != "principal" and schools:
        problems.append(Problem("keys", f"a {role} key sees every school it may; --school is for principal keys",
                                column="school", value=";".join(schools)))
    if role == "facilitator" and not facilitators:
        problems.append(Problem("keys", "a facilitator key must name at least one facilitator (--facilitator ID)",
                                column="facilitator"))
    if role != "facilitator" and facilitators:
        problems.append(Problem("keys", "--facilitator is for facilitator keys", column="facilitator",
                                value=";".join(facilitators)))
    for col, values in (("school", schools), ("facilitator", facilitators)):
        for v in values:
            if not v:
                problems.append(Problem("keys", "must not be blank", column=col, value=v))
    if problems:
        raise InputError(problems)
    key_id = secrets.token_hex(6)
    key = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    with engine.begin() as conn:
        conn.execute(insert(api_keys).values(id=key_id, key_hash=hash_key(key), role=role,
                                             schools=sorted(set(schools)), label=label,
                                             facilitators=sorted(set(facilitators)) if facilitators else None,
                                             created_at=datetime.now(UTC)))
    return key


def caller_for(engine: Engine, key: str) -> Caller | None:
    """The caller a presented key belongs to, or None if it is unknown or revoked."""
    if not key.startswith(PREFIX):
        return None
    with engine.connect() as conn:
        row = conn.execute(select(api_keys.c.id, api_keys.c.role, api_keys.c.schools, api_keys.c.facilitators)
                           .where(api_keys.c.key_hash == hash_key(key), api_keys.c.revoked_at.is_(None))).first()
    if row is None:
        return None
    return Caller(row.id, row.role, frozenset(row.schools), frozenset(row.facilitators or ()))


def list_keys(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        rows = conn.execute(select(api_keys.c.id, api_keys.c.role, api_keys.c.schools, api_keys.c.facilitators,
                                   api_keys.c.label, api_keys.c.created_at, api_keys.c.revoked_at)
                            .order_by(api_keys.c.created_at))
        return [{**r._mapping, "facilitators": r.facilitators or []} for r in rows]


def revoke_key(engine: Engine, key_id: str) -> bool:
    with engine.begin() as conn:
        n = conn.execute(update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                         .values(revoked_at=datetime.now(UTC))).rowcount
    return n == 1
