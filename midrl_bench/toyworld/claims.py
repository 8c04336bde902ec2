"""The paper's claims tested on the demo's per-problem outcomes, with paired cluster-bootstrap intervals.

(a) post-RL pass@K rises with strategy diversity: a trend (least-squares slope per problem and seed) over
    star <= n1 <= n2 <= n4, using every arm on that axis, not two end points;
(b) mid-training on incorrect chains hurts: n4 - incorrect-n4, post-RL pass@K, paired by problem and seed;
(c) several strategies per problem beat one strategy on more problems at equal rows: budget-few - budget-many;
(d) composition rises after RL: on composite problems only, the share of mixed-strategy traces after RL minus
    before RL (n4), paired by problem; with the accuracy of mixed vs single-strategy traces after RL.
Context (not a claim of the paper, the mechanism the world is built for): RL under a unimodal prior (star) lowers
pass@K, star after RL - star before RL.
K is the largest k the evaluation measured. Every verdict is "not testable: gate failed" when the gate failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from midrl_bench.toyworld.outcomes import ProblemOutcome, read_outcomes
from midrl_bench.toyworld.stats import cluster_bootstrap, paired, ratio_bootstrap, trend, verdict

Table = dict[int, dict[str, float]]  # seed -> problem id -> value


@dataclass
class Outcomes:
    """arm -> phase ("before_rl" | "after_rl") -> seed -> problem id -> outcome; the base model as arm "base"."""

    by_arm: dict[str, dict[str, dict[int, dict[str, ProblemOutcome]]]] = field(default_factory=dict)
    k: int = 1

    def values(self, arm: str, phase: str, metric, families: set[str] | None = None) -> Table | None:
        seeds = self.by_arm.get(arm, {}).get(phase)
        if not seeds:
            return None
        table = {seed: {pid: metric(o) for pid, o in problems.items() if families is None or o.family in families}
                 for seed, problems in seeds.items()}
        table = {seed: {p: v for p, v in row.items() if v is not None} for seed, row in table.items()}
        return table if any(table.values()) else None


def load_outcomes(results: dict, families: dict[str, str]) -> Outcomes:
    found = Outcomes()
    runs = [("base", "after_rl", 0, results["base"])] + [
        (run["variant"], phase, run["seed"], run[phase]) for run in results["runs"]
        for phase in ("before_rl", "after_rl") if phase in run]
    for arm, phase, seed, record in runs:
        found.by_arm.setdefault(arm, {}).setdefault(phase, {})[seed] = read_outcomes(Path(record["eval_dir"]), families)
    ks = [k for outcome in next(iter(found.by_arm["base"]["after_rl"].values())).values() for k in outcome.pass_at_k]
    found.k = max(ks) if ks else 1
    return found


def pass_at(k: int):
    return lambda outcome: outcome.pass_at_k.get(k)


def mixed(outcome: ProblemOutcome) -> float | None:
    return outcome.mixed_share


def _claim(name: str, estimate, predicted: int, evidence: str, why_not: str | None) -> dict:
    return {"claim": name, "verdict": verdict(estimate, predicted, why_not),
            "estimate": None if estimate is None else estimate.as_dict(), "evidence": evidence}


def _paired_claim(name, outcomes, a, b, phase_a, phase_b, metric, resamples, why_not, families=None) -> dict:
    first, second = outcomes.values(a, phase_a, metric, families), outcomes.values(b, phase_b, metric, families)
    if first is None or second is None:
        missing = f"{a} ({phase_a.replace('_', ' ')})" if first is None else f"{b} ({phase_b.replace('_', ' ')})"
        return _claim(name, None, 1, f"{a} vs {b}", why_not or f"{missing} was not evaluated in this run")
    estimate = cluster_bootstrap(paired(first, second), resamples)
    return _claim(name, estimate, 1, f"{a} ({phase_a}) - {b} ({phase_b})", why_not)


def evaluate_claims(outcomes: Outcomes, gate_passed: bool | None, resamples: int = 2000) -> list[dict]:
    """Every claim's verdict, estimate (mean, 95% interval, SE, MDE) and what it compares."""
    why_not = "gate failed" if gate_passed is False else None
    k = outcomes.k
    metric = pass_at(k)
    out = []
    axis = {arm: outcomes.values(arm, "after_rl", metric) for arm in outcomes.by_arm if _on_axis(arm)}
    axis = {arm: table for arm, table in axis.items() if table}
    name = f"(a) post-RL pass@{k} rises with strategy diversity (trend over {' <= '.join(_axis_order(axis))})"
    if len(axis) >= 2:
        out.append(_claim(name, cluster_bootstrap(trend(axis), resamples), 1,
                          "least-squares slope per problem and seed over the arms' positions (star 0, nk 1+log2 k)",
                          why_not))
    else:
        out.append(_claim(name, None, 1, "needs two of star, n1, n2, n4", why_not or "fewer than two arms on the axis"))
    tops = sorted((int(a[1:]), a) for a in outcomes.by_arm if a.startswith("n") and a[1:].isdigit())
    top = tops[-1][1] if tops else "n4"
    out.append(_paired_claim("(b) mid-training on incorrect chains hurts", outcomes, top, f"incorrect-{top}",
                             "after_rl", "after_rl", metric, resamples, why_not))
    few = next((a for a in sorted(outcomes.by_arm) if a.startswith("budget-") and a.endswith("-few")), "budget-n4-few")
    out.append(_paired_claim("(c) several strategies per problem beat one strategy on more problems (equal rows)",
                             outcomes, few, few.replace("-few", "-many"), "after_rl", "after_rl", metric, resamples,
                             why_not))
    composite = {"composite"}
    has_composites = any(o.family == "composite" for seeds in outcomes.by_arm["base"]["after_rl"].values()
                         for o in seeds.values())
    out.append(_paired_claim("(d) composition rises after RL (mixed-strategy traces on composite problems)", outcomes,
                             top, top, "after_rl", "before_rl", mixed, resamples,
                             why_not or (None if has_composites else "this world has no composite problems"),
                             families=composite))
    out[-1]["composed_vs_single"] = composed_accuracy(outcomes, top, resamples)
    context = _paired_claim(f"(context) RL under a unimodal prior lowers pass@{k}: star after - before RL", outcomes,
                            "star", "star", "after_rl", "before_rl", metric, resamples, None)
    context["verdict"] = context["verdict"].replace("held", "rose").replace("contradicted", "fell")
    out.append(context)
    return out


def _on_axis(arm: str) -> bool:
    from midrl_bench.toyworld.stats import arm_position

    return arm_position(arm) is not None


def _axis_order(axis: dict) -> list[str]:
    from midrl_bench.toyworld.stats import arm_position

    return sorted(axis, key=arm_position)


def composed_accuracy(outcomes: Outcomes, arm: str, resamples: int) -> dict:
    """Accuracy of mixed vs single-strategy traces on composite problems after RL (bootstrap by problem)."""
    seeds = outcomes.by_arm.get(arm, {}).get("after_rl", {})
    out = {}
    for kind, keep in (("mixed", lambda ids: len(ids) >= 2), ("single", lambda ids: len(ids) == 1)):
        right: dict[str, float] = {}
        total: dict[str, float] = {}
        for seed, problems in seeds.items():
            for pid, outcome in problems.items():
                if outcome.family != "composite":
                    continue
                chosen = [c for c, ids in outcome.judged if keep(ids)]
                key = f"{seed}/{pid}"
                right[key], total[key] = float(sum(c is True for c in chosen)), float(len(chosen))
        found = ratio_bootstrap(right, total, resamples)
        out[kind] = None if found is None else {"accuracy": found[0], "ci95": [found[1], found[2]],
                                                "traces": int(sum(total.values()))}
    return out
