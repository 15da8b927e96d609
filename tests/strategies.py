"""Hypothesis strategies: small random schools on a small rubric, so ties and odd cycles are common."""

from __future__ import annotations

import math

from hypothesis import strategies as st

from matcher.rubric import Rubric

SMALL = Rubric("small test rubric", 1, 5, 3, 4, (("a", ("i1", "i2", "i3")), ("b", ("i4", "i5"))))
SCORES = st.sampled_from([1.0, 2.0, 2.5, 2.99, 3.0, 3.5, 3.99, 4.0, 4.5, 5.0, math.nan])


@st.composite
def teacher_rows(draw, min_size: int = 1, max_size: int = 10, schools: int = 2) -> list[dict]:
    n = draw(st.integers(min_size, max_size))
    rows = []
    for i in range(n):
        rows.append({
            "teacher_id": f"T{i:02d}",
            "school_id": f"S{draw(st.integers(1, schools))}",
            "district_id": "D1",
            "subject": draw(st.sampled_from(["math", "english", "science"])),
            "grades": draw(st.sampled_from(["K", "3", "5", "6-8", "9;10", "12"])),
            "years": draw(st.integers(0, 30)),
            "opt_out": draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans()),
            "scores": [draw(SCORES) for _ in SMALL.indicators],
        })
    return rows
