"""What each effect in a rollout's summary is an effect on, and the textbook formula's MDES and power beside the
simulated ones, with the reasons the two differ.

Three scales, all in standard deviations of the student outcome:
- the effect set in the design (outcome.effect_target): on students of a target teacher who gets a partner;
- intent to treat (ITT): on every student of the schools (or teachers) assigned to the program, i.e. the set
  effect diluted by the share of those students whose teacher is a paired target (take-up included);
- the complier effect (CACE): on students of the schools (teachers) that actually take the program up.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .analytic import school_level, teacher_level
from .design import Design
from .population import Population
from .replicate import Prepared

ESTIMANDS = {"itt": "intent to treat: every student of the schools assigned to the program",
             "cace": "complier effect: students of the schools assigned to the program that implement it"}


def _only_target_effect(design: Design) -> bool:
    o = design.outcome
    return o.effect_target != 0 and o.effect_partner == 0 and o.spillover == 0 and not o.effect_by_areas


def scales_summary(design: Design, rows: pd.DataFrame, estimators: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The set effect, the share it is diluted by, the ITT and complier effects it becomes; each estimator's MDES
    is also put on the set effect's scale (`mdes_effect_target`) when the design sets no other effect."""
    o = design.outcome
    first = rows[rows["estimator"] == design.estimators[0]]
    share = float(first["paired_target_share"].mean()) if len(first) else float("nan")
    truths = {oc["estimand"]: oc["truth_mean"] for oc in estimators.values() if oc.get("replications")}
    unit = "teachers" if design.assignment.unit == "teacher" else "schools"
    lines = [f"The design sets {o.effect_target:g} SD on the students of a target teacher who gets a partner"
             + (f", {o.effect_partner:g} SD on students of a teacher who supports one" if o.effect_partner else "")
             + (f", {o.spillover:g} SD on every student of a school where the program runs" if o.spillover else "")
             + "."]
    lines.append(f"Among the students of the {unit} assigned to the program, {share:.1%} have a target teacher "
                 "with a partner (take-up included): the intent-to-treat effect on all of them is "
                 + (f"{truths['itt']:.4g} SD." if "itt" in truths else "not estimated here."))
    if "cace" in truths:
        lines.append(f"On the students of the {unit} that take the program up (the compliers) it is "
                     f"{truths['cace']:.4g} SD: the complier effect.")
    for oc in estimators.values():
        if not oc.get("replications"):
            continue
        oc["estimand_label"] = ESTIMANDS[oc["estimand"]]
        ratio = oc["truth_mean"] / o.effect_target if _only_target_effect(design) else float("nan")
        mdes = oc.get("mdes")
        oc["mdes_effect_target"] = (mdes / ratio if mdes is not None and np.isfinite(ratio) and ratio > 0
                                    else None)
    return {"effect_target": o.effect_target, "effect_partner": o.effect_partner, "spillover": o.spillover,
            "effect_by_areas": list(o.effect_by_areas), "paired_target_share": share,
            "itt": truths.get("itt"), "cace": truths.get("cace"), "explanation": lines}


def analytic_summary(design: Design, pop: Population, prep: Prepared,
                     estimators: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Bloom's (2006) / PowerUp!'s MDES and power for the design's closest textbook case, per estimator, beside the
    simulated ones, and why they differ; each estimator's summary also gets its `analytic_mdes` and
    `analytic_power`, so the table beside the simulated numbers needs no second lookup."""
    a, o, t = design.assignment, design.outcome, design.takeup
    sizes = pop.teachers_per_school.astype(float)
    n = float(sizes.mean())
    cv = float(sizes.std() / n) if n > 0 else 0.0
    teacher = prep.teacher_level
    out: dict[str, Any] = {}
    case = None
    for name, oc in estimators.items():
        if not oc.get("replications"):
            continue
        covariates = int(name != "difference_in_means" and design.analysis.covariate)
        blocks = (prep.blocks.count if name != "difference_in_means" or prep.paired else 1)
        # The complier effect's first stage: the share of the assigned that take the program up.
        first_stage = t.principals * (t.teachers if teacher else 1.0) if name == "complier_iv" else 1.0
        itt_effect = oc["truth_mean"] * first_stage
        formula = teacher_level if teacher else school_level
        an = formula(schools=pop.n_schools, blocks=pop.n_schools if teacher else blocks, teachers_per_school=n,
                     students_per_teacher=o.students_per_teacher, icc_school=o.icc_school,
                     icc_teacher=o.icc_teacher, r2=o.covariate_r2 if covariates else 0.0, covariates=covariates,
                     share=a.treated_share, alpha=design.analysis.alpha, power=design.analysis.power,
                     effect=itt_effect)
        case = an.formula
        out[name] = {"df": an.df, "se": an.se / first_stage, "mdes": an.mdes / first_stage, "power": an.power,
                     "simulated_sd_over_formula_se": (oc["sd_estimate"] / (an.se / first_stage)
                                                      if an.se > 0 else None)}
        oc["analytic_mdes"], oc["analytic_power"] = out[name]["mdes"], an.power
    return {"case": case, "teachers_per_school": n, "cv_teachers_per_school": cv,
            "estimators": out, "differences": _differences(design, prep, cv, estimators)}


def _differences(design: Design, prep: Prepared, cv: float, estimators: dict[str, dict[str, Any]]) -> list[str]:
    a, t = design.assignment, design.takeup
    why = []
    if cv > 0.05 and not prep.teacher_level:
        why.append(f"School sizes differ (coefficient of variation {cv:.2f}); the formula assumes equal schools. "
                   f"Unequal clusters inflate the variance by about 1 + CV^2 = {1 + cv**2:.2f} at most.")
    if t.principals < 1 or t.teachers < 1:
        why.append(f"Take-up (principals {t.principals:g}, teachers {t.teachers:g}) dilutes the intent-to-treat "
                   "effect the formula's power is computed for; the complier effect's MDES is the ITT one divided "
                   "by the share taking the program up.")
    if a.method == "matched_pairs":
        why.append("Matched pairs: the formula counts each pair as a fixed block (it costs degrees of freedom); "
                   "it credits no gain from matching, which the simulation shows only where the matching "
                   "variables predict the outcome.")
    if a.method == "rerandomized":
        why.append("Re-randomization balances the assignment on its covariates; the formula ignores it.")
    if design.repairs_each_replication:
        why.append("The pairing changes with each draw, so the share of students with a paired target varies.")
    why.append("The formula's MDES is on the estimand's scale (ITT or complier effect), as the simulated MDES; "
               "on the set effect's scale both are divided by the share of students with a paired target "
               "(see scales).")
    return why
