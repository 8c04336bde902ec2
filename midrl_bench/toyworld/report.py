"""The demo's report: the gate, tables with intervals, per-sub-type tables, and a verdict per claim with its MDE.

Every number carries its uncertainty: means over problems (and seeds) with a two-level cluster bootstrap 95%
interval (`toyworld.stats`), rates of the gate with Wilson intervals, and for each claim its paired estimate,
interval and minimum detectable effect. Writes OUT/summary.md, OUT/claims.json, OUT/tables.json and the plots.
"""

from __future__ import annotations

import json
from pathlib import Path

from midrl_bench.toyworld.claims import Outcomes, evaluate_claims, load_outcomes, mixed, pass_at
from midrl_bench.toyworld.stats import cluster_bootstrap
from midrl_bench.toyworld.traces import MATCHING

PHASES = (("before_rl", "before RL"), ("after_rl", "after RL"))


def _estimate(outcomes: Outcomes, arm: str, phase: str, metric, families=None, resamples: int = 2000):
    table = outcomes.values(arm, phase, metric, families)
    if table is None:
        return None
    problems = sorted(set.intersection(*(set(row) for row in table.values())))
    if not problems:
        return None
    return cluster_bootstrap([[table[s][p] for p in problems] for s in sorted(table)], resamples)


def cell(estimate) -> str:
    """'mean [low, high]' in percent, or a dash."""
    if estimate is None:
        return "—"
    return f"{100 * estimate.mean:.1f} [{100 * estimate.low:.1f}, {100 * estimate.high:.1f}]"


def main_table(outcomes: Outcomes, resamples: int) -> tuple[str, dict]:
    k = outcomes.k
    columns = [("pass@1", pass_at(1), None), (f"pass@{k}", pass_at(k), None),
               ("mixed traces, composite problems", mixed, {"composite"})]
    lines = ["| arm | phase | " + " | ".join(name for name, _, _ in columns) + " |", "|---|---|" + "---|" * len(columns)]
    data: dict = {}
    for arm in outcomes.by_arm:
        for phase, label in PHASES:
            if phase not in outcomes.by_arm[arm]:
                continue
            found = [_estimate(outcomes, arm, phase, metric, families, resamples) for _, metric, families in columns]
            data[f"{arm}:{phase}"] = {name: e.as_dict() if e else None for (name, _, _), e in zip(columns, found, strict=True)}
            shown = "base model" if arm == "base" else label
            lines.append(f"| {arm} | {shown} | " + " | ".join(cell(e) for e in found) + " |")
    lines.append(f"\nPercent, mean over eval problems (and seeds) [two-level cluster bootstrap 95% interval]; pass@{k} "
                 "is the largest k measured (the pack's unbiased estimator per problem). Mixed traces: share of a "
                 "composite problem's sampled traces in which the rules labeller finds two or more strategies.")
    return "\n".join(lines), data


def subtype_table(outcomes: Outcomes, resamples: int) -> tuple[str, dict]:
    """pass@K per sub-type (family) after RL (and for the base model)."""
    k = outcomes.k
    families = sorted({o.family for seeds in outcomes.by_arm["base"]["after_rl"].values() for o in seeds.values()})
    lines = ["| arm | " + " | ".join(families) + " |", "|---|" + "---|" * len(families)]
    data: dict = {}
    for arm in outcomes.by_arm:
        found = [_estimate(outcomes, arm, "after_rl", pass_at(k), {f}, resamples) for f in families]
        data[arm] = {f: e.as_dict() if e else None for f, e in zip(families, found, strict=True)}
        lines.append(f"| {arm} | " + " | ".join(cell(e) for e in found) + " |")
    gated = ", ".join(f"{family} (needs {strategy})" for family, strategy in MATCHING.items() if family in families)
    lines.append(f"\npass@{k} after RL (base: the pre-trained model) by sub-type, percent [cluster bootstrap 95%]. "
                 f"Gated sub-types: {gated or 'none'}; composite needs a switch of strategy between its parts.")
    return "\n".join(lines), data


def claims_text(items: list[dict]) -> str:
    lines = []
    for item in items:
        estimate = item["estimate"]
        if estimate:
            low, high = estimate["ci95"]
            mde = (f"MDE {100 * estimate['mde']:.1f} points" if estimate["mde"] is not None else
                   "MDE not estimable: every paired difference is the same")
            numbers = (f"difference {100 * estimate['mean']:+.1f} points [{100 * low:+.1f}, {100 * high:+.1f}], "
                       f"{mde} ({estimate['problems']} problems x {estimate['seeds']} seed(s))")
        else:
            numbers = "no estimate"
        lines.append(f"- {item['claim']}: **{item['verdict']}** — {numbers}; {item['evidence']}")
        for kind, found in (item.get("composed_vs_single") or {}).items():
            if found:
                lines.append(f"  - {kind}-strategy traces on composite problems after RL: accuracy "
                             f"{100 * found['accuracy']:.1f}% [{100 * found['ci95'][0]:.1f}, {100 * found['ci95'][1]:.1f}] "
                             f"over {found['traces']} traces (bootstrap by problem)")
            else:
                lines.append(f"  - {kind}-strategy traces on composite problems after RL: none")
    lines.append("\nVerdicts: held (95% interval on the predicted side of 0), contradicted (on the other side), "
                 "inconclusive (covers 0; MDE = 2.8 x SE, the effect found 80% of the time at 5%), not testable.")
    return "\n".join(lines)


def shares_text(results: dict, every: int) -> str:
    from midrl_bench.toyworld.reward import read_shares

    lines = []
    for run in results["runs"]:
        points = read_shares(Path(run.get("strategy_shares", "")), every)
        if points:
            first, last = points[0], points[-1]
            top = lambda p: ", ".join(f"{s} {100 * v:.0f}%" for s, v in sorted(p["shares"].items()))  # noqa: E731
            lines.append(f"- {run['variant']} (seed {run['seed']}): steps 1-{first['step']}: {top(first)}, mixed "
                         f"{100 * first['mixed']:.0f}% -> steps to {last['step']}: {top(last)}, mixed "
                         f"{100 * last['mixed']:.0f}%")
    return "\n".join(lines) or "- (no GRPO strategy log)"


def write_report(config, results: dict, out: Path) -> str:
    """summary.md, claims.json, tables.json and plots; returns the summary text."""
    from midrl_bench.sources.toy import use_world
    from midrl_bench.toyworld.gate import gate_text
    from midrl_bench.toyworld.outcomes import eval_families
    from midrl_bench.toyworld.plots import plot_before_after_rl, plot_pass_at_k_by_n, plot_strategy_shares

    resamples = config.demo.bootstrap
    with use_world(results["config"]):
        outcomes = load_outcomes(results, eval_families())
    gate = results.get("gate") or {}
    items = evaluate_claims(outcomes, gate.get("passed"), resamples)
    table, table_data = main_table(outcomes, resamples)
    subtypes, subtype_data = subtype_table(outcomes, resamples)
    plots = [plot_pass_at_k_by_n(results, out / "pass_at_k_by_n.png"),
             plot_before_after_rl(results, out / "before_after_rl.png"),
             plot_strategy_shares(results, out / "strategy_shares.png", config.demo.share_log_every)]
    skipped = "".join(f"\n- {name}: not run ({why})" for name, why in results.get("skipped_variants", {}).items())
    timing = "\n".join(f"- {stage}: {seconds:.0f} s" for stage, seconds in results["timings_s"].items())
    if results.get("wall_s") is not None:  # runs before 2026-12-01 recorded no wall time
        workers = results.get("workers", 1)
        summed = f"; arm stages summed over {workers} worker processes" if workers > 1 else ""
        timing += f"\n- wall clock of this sitting: {results['wall_s']:.0f} s{summed}"
    text = (f"# midrl demo — {config.demo.seeds} seed(s)\n\n## Gate\n{gate_text(gate)}\n\n## Arms\n{table}\n\n"
            f"## By sub-type\n{subtypes}\n\n## The paper's claims in this run\n{claims_text(items)}{skipped}\n\n"
            f"## Strategy shares during GRPO (rollouts, cue detector)\n"
            f"{shares_text(results, config.demo.share_log_every)}\n\n## Time per stage\n{timing}\n\n"
            f"Plots: {', '.join(p.name for p in plots if p)}; leaderboard site: {results['leaderboard_site']}/index.html\n")
    (out / "summary.md").write_text(text, encoding="utf-8")
    (out / "claims.json").write_text(json.dumps(items, indent=2) + "\n", encoding="utf-8")
    (out / "tables.json").write_text(json.dumps({"arms": table_data, "by_subtype": subtype_data}, indent=2) + "\n",
                                     encoding="utf-8")
    return text
