"""What a pair's value counts, in words: every page that shows a value says what it counts (issue 13).

One rule for the school page, the API (which sends the words, so the web page never repeats the rule) and the
runs overview: under the IPI policy (every indicator weighs 1, gaps not sized) a value is a number of indicators;
under indicator or domain weights it is a sum of weights, and with `weigh_gap_size` a sum of score gaps.
"""

from __future__ import annotations

from ..policy import Policy


def counts_indicators(policy: Policy) -> bool:
    """Whether a value is a plain number of indicators: no gap sizing, and every weight 1 (or 0, which leaves an
    indicator out of the count)."""
    weights = [w for _, w in (*policy.indicator_weights, *policy.domain_weights)]
    return not policy.weigh_gap_size and all(w in (0.0, 1.0) for w in weights)


def _where(policy: Policy) -> str:
    return "where one supports the other" if policy.mode == "one_way" else "where one can support the other"


def unit(policy: Policy) -> str:
    """What one value counts, without the number: for a column heading or a note beside a table of values."""
    if policy.weigh_gap_size:
        weights = " and the indicator's weight" if not counts_indicators(policy.replace(weigh_gap_size=False)) else ""
        return f"indicators {_where(policy)}, each counted by the gap between the two scores{weights}"
    if counts_indicators(policy):
        return f"indicators {_where(policy)}"
    return f"weighted indicators {_where(policy)}"


def areas_rule(policy: Policy, weak_below: float, strong_at_least: float) -> str:
    """How the run chose each teacher's refinement and reinforcement areas, as a sentence for the pages (the
    thresholds being the run's: the policy's, else the rubric's)."""
    gap = f"at least {_n(policy.min_gap)} point{'' if policy.min_gap == 1 else 's'} higher"
    if policy.areas == "relative":
        k = policy.areas_per_teacher
        return (f"each teacher's refinement areas are their {k} lowest-scored indicators and their reinforcement "
                f"areas their {k} highest (ties included), and one can support the other on an indicator where "
                f"their score is {gap}")
    if policy.areas == "designated":
        return ("each teacher's refinement and reinforcement areas are the ones named after their observations, "
                f"and one can support the other on an indicator where their score is {gap} (where both are scored)")
    return (f"a refinement area is a score below {_n(weak_below)}, a reinforcement area a score of "
            f"{_n(strong_at_least)} or above")


def _n(value: float) -> str:
    return f"{value:g}"


def value_counts(value: float, policy: Policy) -> str:
    """A pair's value and what it counts: "3 indicators where one can support the other" (mutual), "supports in
    3 indicators" (one-way), "value 4.5: weighted indicators where one can support the other" (weights or gaps)."""
    if counts_indicators(policy):
        many = "indicator" if value == 1 else "indicators"
        if policy.mode == "one_way":
            return f"supports in {_n(value)} {many}"
        return f"{_n(value)} {many} where one can support the other"
    return f"value {_n(value)}: {unit(policy)}"


def total_counts(value: float, policy: Policy) -> str:
    """A school's (or a run's) total value and what it counts: "total value 12: indicators where one can support
    the other, added up over the pairs"."""
    return f"total value {_n(value)}: {unit(policy)}, added up over the pairs"
