"""Synthetic network applicants: a city's schools applying to a host/partner program, as a schools file with every
optional column a program collects (population, superintendent, prior and named partners, host capacity, years
hosting, school type, a ranking of the criteria).

Unlike the statewide district of matcher.synth (districts spread over a state, each with its own focus taxonomy),
a city's applicants are dense: community districts of a few km across inside one metro area of about 2 schools per
km2 (NYC's density), one program taxonomy, and the grade mix of a large city (about 55% elementary, 20% middle,
20% high, 5% K-8)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .focus import FRAMEWORK_FOCUS
from .io.atomic import write_text_atomic
from .io.schools import CRITERIA

_LEVELS = ("elementary", "middle", "high", "k8")
_LEVEL_P = (0.55, 0.20, 0.20, 0.05)
_GRADES = {"elementary": ((0, 5), (-1, 5), (0, 4)), "middle": ((6, 8), (5, 8)), "high": ((9, 12),),
           "k8": ((0, 8), (-1, 8))}
_WORD = {"elementary": "Elementary School", "middle": "Middle School", "high": "High School", "k8": "K-8 School"}
_NAMES = ("Harbor", "Bridge", "Garden", "Park", "River", "Hudson", "Liberty", "Union", "Washington", "Lincoln",
          "Douglass", "Tubman", "Hamilton", "Jefferson", "Roosevelt", "King", "Parks", "Hughes", "Ellington", "Baldwin",
          "Morrison", "Angelou", "Clemente", "Sotomayor", "Chisholm", "Einstein", "Curie", "Carver", "Franklin",
          "Whitman", "Emerson", "Audubon", "Olmsted", "Fulton", "Astor", "Crown", "Bay", "Hill", "Ocean", "Grand")
_SUFFIX = ("", "Heights", "Park", "Academy", "Community", "Prep", "Collegiate", "Gateway")
_TYPES = ("district", "charter", "transfer")
_TYPE_P = (0.85, 0.10, 0.05)
_ROLE_P = (0.30, 0.50, 0.20)  # host, partner, either
CENTRE = (40.72, -73.95)
SCHOOLS_PER_KM2 = 2.0
MAX_APPLICANTS = 20_000


def generate_city(n_applicants: int, seed: int) -> pd.DataFrame:
    """A city's applicants as a schools-file frame (every required and optional column), reproducible from the
    seed."""
    if not 1 <= n_applicants <= MAX_APPLICANTS:
        raise ValueError(f"n_applicants must be between 1 and {MAX_APPLICANTS:,}")
    rng = np.random.default_rng(seed)
    n = n_applicants
    radius = float(np.sqrt(n / SCHOOLS_PER_KM2 / np.pi))  # km: 190 schools in 5.5 km, 1,800 in 17
    n_d = max(1, round(n / 45))
    # community districts: centres spread over the city, schools within a few km of their centre
    d_r = radius * np.sqrt(rng.uniform(0, 1, n_d)) * 0.8
    d_a = rng.uniform(0, 2 * np.pi, n_d)
    district = rng.integers(0, n_d, n)
    spread = max(1.5, radius / np.sqrt(n_d))
    r = spread * np.sqrt(rng.uniform(0, 1, n))
    a = rng.uniform(0, 2 * np.pi, n)
    dx = d_r[district] * np.cos(d_a[district]) + r * np.cos(a)
    dy = d_r[district] * np.sin(d_a[district]) + r * np.sin(a)
    lat = CENTRE[0] + dy / 111.2
    lon = CENTRE[1] + dx / (111.2 * np.cos(np.radians(CENTRE[0])))
    level = rng.choice(_LEVELS, size=n, p=_LEVEL_P)
    spans = [_GRADES[lv][rng.integers(len(_GRADES[lv]))] for lv in level]
    role = rng.choice(("host", "partner", "either"), size=n, p=_ROLE_P)
    strengths, needs = [], []
    for i in range(n):
        order = rng.permutation(len(FRAMEWORK_FOCUS))
        k_s = int(rng.integers(1, 4)) + (1 if role[i] == "host" and rng.random() < 0.4 else 0)
        k_n = int(rng.integers(1, 4))
        k_s, k_n = min(k_s, 4), min(k_n, len(FRAMEWORK_FOCUS) - min(k_s, 4))
        strengths.append(";".join(FRAMEWORK_FOCUS[j] for j in order[:k_s]))
        needs.append(";".join(FRAMEWORK_FOCUS[j] for j in order[k_s:k_s + k_n]))
    ids = [f"C{i + 1:04d}" for i in range(n)]
    used: set[str] = set()
    names = []
    for lv in level:
        for _ in range(50):
            name = f"{rng.choice(_NAMES)} {rng.choice(_SUFFIX)}".strip() + f" {_WORD[lv]}"
            if name not in used:
                break
        else:
            name = f"{name} {len(used) + 1}"
        used.add(name)
        names.append(name)
    hosts = role != "partner"
    # hosts say how many partners they can take (blank: the program's default), and how long they have hosted
    capacity = np.where(hosts & (rng.random(n) < 0.4), rng.choice((1, 2, 2, 3, 3, 4), size=n), 0)
    years = np.where(hosts, np.minimum(rng.geometric(0.45, n) - 1, 6), 0)
    ranks = []
    for _ in range(n):
        if rng.random() < 0.4:
            ranks.append("")
            continue
        weights = np.array([3.0, 1.5, 1.0, 1.2, 1.0])  # proximity is most often ranked first
        order = rng.choice(len(CRITERIA), size=int(rng.integers(2, 6)), replace=False, p=weights / weights.sum())
        ranks.append(";".join(CRITERIA[j] for j in order))
    prior = ["" for _ in range(n)]
    named = ["" for _ in range(n)]
    for i in rng.choice(n, size=n // 6, replace=False):
        j = int(np.argmin(np.where(np.arange(n) == i, np.inf, (lat - lat[i]) ** 2 + (lon - lon[i]) ** 2)))
        named[i] = ids[j]
    for i in rng.choice(n, size=n // 10, replace=False):
        prior[i] = ids[int(rng.integers(n))] if ids[int(rng.integers(n))] != ids[i] else ""
    return pd.DataFrame({
        "school_id": ids, "name": names, "district_id": [f"CD{d + 1:02d}" for d in district], "level": level,
        "grade_min": [g for g, _ in spans], "grade_max": [g for _, g in spans], "latitude": np.round(lat, 5),
        "longitude": np.round(lon, 5), "role": role, "strengths": strengths, "needs": needs,
        "enrollment": rng.integers(180, 1600, n),
        "pct_poverty": np.round(np.clip(rng.beta(5, 3, n), 0.05, 0.98), 3),
        "pct_ell": np.round(np.clip(rng.beta(1.5, 8, n), 0.0, 0.9), 3),
        "pct_swd": np.round(np.clip(rng.normal(0.2, 0.04, n), 0.05, 0.45), 3),
        "superintendent": [f"Supt-CD{d + 1:02d}" for d in district], "prior_partners": prior,
        "named_schools": named, "host_capacity": [str(c) if c else "" for c in capacity],
        "years_hosting": [str(y) if h else "" for y, h in zip(years, hosts, strict=True)],
        "school_type": rng.choice(_TYPES, size=n, p=_TYPE_P), "criteria_rank": ranks,
    })


def write_city(path: str | Path, n_applicants: int, seed: int) -> int:
    """Write generate_city's applicants as a schools CSV (atomically); returns the number of schools."""
    frame = generate_city(n_applicants, seed)
    write_text_atomic(Path(path), frame.to_csv(index=False, lineterminator="\n"))
    return len(frame)
