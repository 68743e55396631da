"""The claims table: each claim of the paper (and of the study), the evidence from our runs, and a verdict.

A claim (:class:`study.task.Claim`, which tasks fill in) is checked on per-seed numbers (:func:`study.tables.per_seed`:
one number per training seed, e.g. the
share of the 15 held-out mazes a student solves) with a seeded 95% bootstrap CI over seeds. Verdicts follow explicit,
CI-based rules; the threshold and the minimum number of seeds are part of each claim:

Level claims (``kind="level"``: "the DAgger student fails", "the SITT teacher detours"), metric m of (arm, policy):

* fewer than ``min_seeds`` seeds with data (default 3), or no runs at all -> **inconclusive**;
* ``direction="high"``: CI low > threshold -> **reproduced**; CI high < threshold -> **not reproduced**;
* ``direction="low"``: CI high < threshold -> **reproduced**; CI low > threshold -> **not reproduced**;
* otherwise (the CI contains the threshold) -> **inconclusive**.

Comparison claims (``kind="better"``: "SITT's student beats BC's"), arm X against each arm Y of ``others``, via the
probability of improvement P(X > Y) + 0.5 P(X = Y) over seed pairs and its bootstrap CI (``direction="low"``: lower
is better, e.g. "makes fewer grasp attempts", and the probability of improvement is P(X < Y) + 0.5 P(X = Y)):

* PoI CI low > 0.5 against every Y -> **reproduced**;
* PoI CI high <= 0.5 against some Y (X never does better in any resample, ties included) -> **not reproduced**;
* fewer than ``min_seeds`` seeds on either side, no runs, or any other case -> **inconclusive**;
* *reproduced* by the two rules above, against an arm of the claim's ``untuned`` (a baseline that had fewer tuning
  configurations than the tuned method, ``fair_comparison.md`` section 2) -> **held (baseline untuned)** (:data:`HELD`):
  the numbers favour the method, and the claim may read *reproduced* once that baseline got the same tuning effort.

"Better" is "higher" unless the claim says ``direction="low"`` (a metric where lower is better, e.g. the flight
task's velocity angle): then the PoI is P(X < Y) + 0.5 P(X = Y), the same rule on the negated values. The same holds
for ``kind="better_metric"`` (the metric against another metric of the same runs).

The default threshold 0.5 reads "succeeds" as "solves more than half of the held-out mazes" and "fails" as "solves
fewer than half"; "goes through the path" / "detours" as "takes that route on more than half of the mazes".
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from study.registry import get_task, task_names
from study.stats import DegenerateIntervalWarning, bootstrap_ci, probability_of_improvement_ci
from study.tables import format_ci, per_seed, resolve_task
from study.task import Claim

__all__ = ["VERDICTS", "HELD", "all_claims", "ablation_claims", "level_verdict", "better_verdict",
           "evaluate_claim", "claims_table", "verdict_changes"]

#: the verdict of a comparison reproduced on the numbers against a baseline tuned less than the method (module
#: docstring; :attr:`study.task.Claim.untuned`)
HELD = "held (baseline untuned)"
VERDICTS = ("reproduced", "not reproduced", "inconclusive", HELD)


def all_claims() -> tuple[Claim, ...]:
    """The claims of every registered task (:attr:`study.task.Task.claims`), in registry order."""
    return tuple(c for name in task_names() for c in get_task(name).claims)


def ablation_claims(
    arms: Sequence[str], reference: str = "sitt_release", labels: Mapping[str, str] | None = None,
    experiment: str = "ablations", paper_ablations: Sequence[str] | None = None,
) -> tuple[Claim, ...]:
    """One comparison claim per ablation arm: "full SITT's student beats <arm>'s" (the paper's manipulation ablation:
    every component helps). With ``paper_ablations``, only those arms make claims (e.g. the maze's lambda1 sweep and
    quirk arms are measurements, not claims of the paper)."""
    labels = dict(labels or {})
    if paper_ablations is not None:
        arms = [a for a in arms if a in paper_ablations]
    return tuple(
        Claim(f"abl:{arm}", f"Full SITT ({reference}) beats the ablation '{arm}' ({labels.get(arm, arm)})",
              experiment, reference, "student", "success", kind="better", others=(arm,),
              source="paper Table (ablation, manipulation)")
        for arm in arms if arm != reference
    )


def level_verdict(lo: float, hi: float, threshold: float, direction: str, n: int, min_seeds: int = 3) -> str:
    """The level rule (module docstring) on a CI ``[lo, hi]`` over ``n`` seeds."""
    if direction not in ("high", "low"):
        raise ValueError(f"direction: got {direction!r}; allowed: high, low")
    if n < min_seeds or not (np.isfinite(lo) and np.isfinite(hi)):
        return "inconclusive"
    above, below = lo > threshold, hi < threshold
    if direction == "high":
        return "reproduced" if above else "not reproduced" if below else "inconclusive"
    return "reproduced" if below else "not reproduced" if above else "inconclusive"


def better_verdict(pois: Sequence[tuple[float, float]], ns: Sequence[tuple[int, int]], min_seeds: int = 3) -> str:
    """The comparison rule (module docstring): ``pois`` the PoI CIs ``(lo, hi)`` of X against each Y, ``ns`` the
    seed counts ``(n_x, n_y)``."""
    if not pois or any(min(n) < min_seeds for n in ns) or any(not np.all(np.isfinite(p)) for p in pois):
        return "inconclusive"
    if any(hi <= 0.5 for _, hi in pois):
        return "not reproduced"
    if all(lo > 0.5 for lo, _ in pois):
        return "reproduced"
    return "inconclusive"


def _values(seeds_df: pd.DataFrame, arm: str, policy: str, metric: str) -> np.ndarray:
    sel = seeds_df[(seeds_df["arm"] == arm) & (seeds_df["policy"] == policy)]
    return sel[metric].dropna().to_numpy(dtype=float)


def evaluate_claim(
    claim: Claim, eval_df: pd.DataFrame | None, *, min_seeds: int = 3, n_boot: int = 2000, seed: int = 0
) -> dict:
    """Check one claim on the eval rows of its experiment: a dict with ``id, claim, experiment, evidence, verdict,
    source`` and the numbers behind the verdict (``arm, n_seeds, mean, ci_low, ci_high``)."""
    row = dict(id=claim.id, claim=claim.claim, experiment=claim.experiment, source=claim.source,
               arm=claim.arms()[0], n_seeds=0, mean=np.nan, ci_low=np.nan, ci_high=np.nan)
    if eval_df is None or len(eval_df) == 0:
        return dict(row, evidence=f"no runs of experiment '{claim.experiment}'", verdict="inconclusive")
    task = resolve_task(eval_df)
    seeds_df = per_seed(eval_df, task)
    arm = next((a for a in claim.arms() if len(_values(seeds_df, a, claim.policy, claim.metric))), None)
    if arm is None:
        have = ", ".join(sorted(set(seeds_df["arm"])))
        return dict(row, evidence=f"no {claim.policy} runs of {' / '.join(claim.arms())} in '{claim.experiment}' "
                                  f"(arms with runs: {have})", verdict="inconclusive")
    if claim.direction not in ("high", "low"):
        raise ValueError(f"claim {claim.id}: direction {claim.direction!r}; allowed: high, low")
    sign = -1.0 if claim.direction == "low" else 1.0  # comparisons: lower is better -> compare the negated values
    x = _values(seeds_df, arm, claim.policy, claim.metric)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateIntervalWarning)
        ci = bootstrap_ci(x, "mean", n_boot=n_boot, seed=seed)
    row.update(arm=arm, n_seeds=len(x), mean=ci[0], ci_low=ci[1], ci_high=ci[2])
    what = f"{arm} {claim.policy} {task.metric_label(claim.metric)} {format_ci(*ci)}"
    few = f"; only {len(x)} seed(s), rule needs {min_seeds}" if len(x) < min_seeds else ""

    if claim.kind == "level":
        verdict = level_verdict(ci[1], ci[2], claim.threshold, claim.direction, len(x), min_seeds)
        side = ">" if claim.direction == "high" else "<"
        evidence = f"{what} over {len(x)} seeds (claim: {side} {claim.threshold:g}){few}"
        return dict(row, evidence=evidence, verdict=verdict)

    lower = " (lower is better)" if claim.direction == "low" else ""
    if claim.kind == "better_metric":  # the same runs, metric vs another metric (paired by seed)
        other = claim.others[0]
        y = _values(seeds_df, arm, claim.policy, other)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DegenerateIntervalWarning)
            p = probability_of_improvement_ci(sign * x, sign * y, n_boot=n_boot, seed=seed)
            cy = bootstrap_ci(y, "mean", n_boot=n_boot, seed=seed)
        verdict = better_verdict([(p[1], p[2])], [(len(x), len(y))], min_seeds)
        evidence = (f"{what} vs {task.metric_label(other)} {format_ci(*cy)} over {len(x)} seeds; "
                    f"PoI{lower} {format_ci(*p)}{few}")
        return dict(row, evidence=evidence, verdict=verdict)

    if claim.kind == "better":
        pois, ns, parts = [], [], []
        for other in claim.others:
            y = _values(seeds_df, other, claim.policy, claim.metric)
            if len(y) == 0:
                parts.append(f"no runs of {other}")
                pois.append((np.nan, np.nan))
                ns.append((len(x), 0))
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DegenerateIntervalWarning)
                p = probability_of_improvement_ci(sign * x, sign * y, n_boot=n_boot, seed=seed)
                cy = bootstrap_ci(y, "mean", n_boot=n_boot, seed=seed)
            pois.append((p[1], p[2]))
            ns.append((len(x), len(y)))
            parts.append(f"{other} {format_ci(*cy)}, PoI{lower} {format_ci(*p)}")
        verdict = better_verdict(pois, ns, min_seeds)
        evidence = f"{what} ({len(x)} seeds) vs " + "; ".join(parts) + few
        held = [o for o in claim.others if o in claim.untuned]
        if verdict == "reproduced" and held:
            verdict = HELD
            evidence += (f"; held until {', '.join(held)} get(s) the tuning effort {arm} had "
                         "(fair_comparison.md section 2)")
        return dict(row, evidence=evidence, verdict=verdict)

    raise ValueError(f"claim {claim.id}: kind {claim.kind!r}; allowed: level, better, better_metric")


def claims_table(
    evals: Mapping[str, pd.DataFrame | None],
    claims: Sequence[Claim] | None = None,
    *,
    min_seeds: int = 3,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """The claims table: one row per claim with ``id, claim, experiment, evidence, verdict, source, arm, n_seeds,
    mean, ci_low, ci_high``. ``evals`` maps an experiment name to its eval rows (None or missing: no runs)."""
    claims = all_claims() if claims is None else claims
    rows = [evaluate_claim(c, evals.get(c.experiment), min_seeds=min_seeds, n_boot=n_boot, seed=seed) for c in claims]
    cols = ["id", "claim", "experiment", "evidence", "verdict", "source", "arm", "n_seeds", "mean", "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=cols)


def verdict_changes(
    evals: Mapping[str, pd.DataFrame | None],
    claims: Sequence[Claim],
    before_seeds: Sequence[int],
    *,
    min_seeds: int = 3,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Each claim's verdict on the seeds an earlier report had (``before_seeds``) beside its verdict on every seed:
    one row per claim with ``id, claim, experiment, n_seeds_before, verdict_before, n_seeds, verdict, changed``
    (``changed``: the two verdicts differ). ``evals`` as :func:`claims_table`; the rows of each experiment are cut to
    ``before_seeds`` for the earlier verdict, with the same bootstrap seed, so only the added seeds differ."""
    wanted = {int(s) for s in before_seeds}
    before_evals = {name: (None if df is None else df[df["seed"].astype(int).isin(wanted)])
                    for name, df in evals.items()}
    kw = dict(min_seeds=min_seeds, n_boot=n_boot, seed=seed)
    before, after = claims_table(before_evals, claims, **kw), claims_table(evals, claims, **kw)
    out = after[["id", "claim", "experiment", "n_seeds", "verdict"]].copy()
    out.insert(3, "n_seeds_before", before["n_seeds"].to_numpy())
    out.insert(4, "verdict_before", before["verdict"].to_numpy())
    out["changed"] = out["verdict_before"] != out["verdict"]
    return out
