"""Grade strings ("K", "3", "6-8", "9;10", "PK") as bitmasks over PK..12 (bit g+1 for grade g)."""

from __future__ import annotations

import numpy as np

LOWEST, HIGHEST = -1, 12  # PK .. grade 12
_NAMED = {"PK": -1, "K": 0, "KG": 0}


def _grade(token: str) -> int:
    t = token.strip().upper()
    if t in _NAMED:
        return _NAMED[t]
    g = int(t)  # ValueError for anything else
    if not LOWEST <= g <= HIGHEST:
        raise ValueError(t)
    return g


def parse_grades(text: str) -> int:
    """Bitmask of the grades named by text; raises ValueError on anything unparseable."""
    mask = 0
    if not text.strip():
        raise ValueError(text)
    for part in text.split(";"):
        part = part.strip()
        if "-" in part[1:]:
            lo_s, hi_s = part.split("-", 1) if not part.startswith("-") else (part, "")
            lo, hi = _grade(lo_s), _grade(hi_s)
            if lo > hi:
                raise ValueError(part)
            for g in range(lo, hi + 1):
                mask |= 1 << (g - LOWEST)
        else:
            mask |= 1 << (_grade(part) - LOWEST)
    return mask


def grade_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise smallest |grade_a - grade_b| between two arrays of masks (0 when they share a grade)."""
    a = a.astype(np.int64)
    b = b.astype(np.int64)
    out = np.full(np.broadcast(a, b).shape, HIGHEST - LOWEST + 1, dtype=np.int64)
    spread = b.copy()
    for d in range(HIGHEST - LOWEST + 1):
        hit = (a & spread) != 0
        out = np.where(hit & (out > d), d, out)
        spread = spread | (spread << 1) | (spread >> 1)
    return out
