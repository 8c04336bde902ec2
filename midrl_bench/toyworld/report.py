"""The demo's summary: a table (pass@1/8/64 before and after RL per variant, composition rates), plots, and a plain
statement of whether each of the paper's claims held in this run.

Uncertainty: with several seeds, a variant's number is the mean over seeds with a 95% t-interval; with one seed,
the interval is 1.96 x lm-eval's standard error over eval problems. A claim "held" when the difference it predicts
has the predicted sign and exceeds the combined interval, "did not hold" when it has the opposite sign and
exceeds it, and is "inconclusive" otherwise — the demo never rounds noise up into support.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

from midrl_bench.metrics import mean_and_stderr

KS = (1, 8, 64)  # table columns; with fewer samples per problem the largest measured k replaces 64
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}


def interval(values: Sequence[float], single_stderr: float | None = None) -> tuple[float, float]:
    """(mean, half-width of the 95% interval)."""
    mean, stderr = mean_and_stderr(list(values))
    if len(values) == 1:
        return mean, 1.96 * (single_stderr or 0.0)
    return mean, _T95.get(len(values) - 1, 1.96) * stderr


def _metric(run: dict, phase: str, key: str) -> float | None:
    if phase not in run:
        return None
    return run[phase]["composed_share"] if key == "composition" else run[phase]["pass_at_k"].get(key)


def _single_stderr(run: dict, phase: str, key: str) -> float | None:
    if phase not in run:
        return None
    if key == "composition":
        return run[phase].get("composed_share_stderr")
    value = run[phase]["pass_at_k"].get(f"{key}_stderr")
    return value if isinstance(value, float) else None


def table_ks(results: dict) -> tuple[int, ...]:
    """(1, 8, 64), with 64 replaced by the largest k measured when the evaluation drew fewer samples."""
    measured = [int(key[5:]) for key in results["base"]["pass_at_k"] if key.startswith("pass@") and "_" not in key]
    top = max(measured)
    return tuple(sorted({k for k in KS if k < top} | {min(top, KS[-1])}))


def aggregate(results: dict) -> dict[str, dict[str, tuple[float, float] | None]]:
    """variant -> {"<phase>:<metric>": (mean, ci95)} over seeds, for pass@1/8/max and the composition rate."""
    by_variant: dict[str, list[dict]] = defaultdict(list)
    for run in results["runs"]:
        by_variant[run["variant"]].append(run)
    table: dict[str, dict[str, tuple[float, float] | None]] = {}
    base_row = {"variant": "base", "after_rl": results["base"]}
    for name, runs in [("base", [base_row]), *by_variant.items()]:
        row: dict[str, tuple[float, float] | None] = {}
        for phase in ("before_rl", "after_rl"):
            for key in [*(f"pass@{k}" for k in table_ks(results)), "composition"]:
                values = [v for v in (_metric(run, phase, key) for run in runs) if v is not None]
                stderr = _single_stderr(runs[0], phase, key)
                row[f"{phase}:{key}"] = interval(values, stderr) if values else None
        table[name] = row
    return table


def _cell(value: tuple[float, float] | None) -> str:
    if value is None:
        return "—"
    mean, half = value
    return f"{100 * mean:5.1f} ± {100 * half:4.1f}" if half else f"{100 * mean:5.1f}"


def summary_table(table: dict) -> str:
    """A markdown table; numbers in percent."""
    columns = list(next(iter(table.values())))
    header = "| variant | " + " | ".join(c.replace("_rl:", " RL ").replace("_", " ") for c in columns) + " |"
    lines = [header, "|" + "---|" * (len(columns) + 1)]
    for name, row in table.items():
        lines.append(f"| {name} | " + " | ".join(_cell(row.get(c)) for c in columns) + " |")
    lines.append("")
    lines.append("base: the pre-trained model (shown under 'after RL' columns: it had neither stage). "
                 "composition: share of judged eval traces combining >= 2 strategies (rules labeller).")
    return "\n".join(lines)


def _n_variants(table: dict) -> list[tuple[int, str]]:
    return sorted((int(name[1:]), name) for name in table if name.startswith("n") and name[1:].isdigit())


def _compare(a: tuple[float, float] | None, b: tuple[float, float] | None) -> str:
    """'held' if a > b beyond the combined interval, 'did not hold' if a < b beyond it, else 'inconclusive'."""
    if a is None or b is None:
        return "not measured"
    difference = a[0] - b[0]
    noise = math.hypot(a[1], b[1])
    if difference > noise:
        return "held"
    if -difference > noise:
        return "did not hold"
    return "inconclusive"


def claims(table: dict) -> list[tuple[str, str, str]]:
    """(claim, verdict, evidence) for the paper's claims (a)-(d); pass@64 is the largest k measured."""
    out = []
    ns = _n_variants(table)
    top_k = max(int(c.split("@")[1]) for c in next(iter(table.values())) if "pass@" in c)
    key = f"after_rl:pass@{top_k}"
    if len(ns) >= 2:
        first, last = table[ns[0][1]].get(key), table[ns[-1][1]].get(key)
        steps = [_compare(table[b].get(key), table[a].get(key)) for (_, a), (_, b) in zip(ns, ns[1:], strict=False)]
        verdict = _compare(last, first)
        if verdict == "held" and "did not hold" in steps:
            verdict = "partly held (not monotonic)"
        evidence = ", ".join(f"{name} {_cell(table[name].get(key))}" for _, name in ns)
        out.append((f"(a) post-RL pass@{top_k} rises with n", verdict, evidence))
    top = ns[-1][1] if ns else None
    wrong = f"incorrect-{top}" if top else None
    if wrong in table:
        verdict = _compare(table[top].get(key), table[wrong].get(key))
        out.append(("(b) mid-training on incorrect chains hurts", verdict,
                    f"{top} {_cell(table[top].get(key))} vs {wrong} {_cell(table[wrong].get(key))}"))
    few = next((n for n in table if n.startswith("budget-") and n.endswith("-few")), None)
    if few:
        many = few.replace("-few", "-many")
        verdict = _compare(table[few].get(key), table.get(many, {}).get(key))
        out.append(("(c) several strategies per problem beat one strategy on more problems (equal rows)", verdict,
                    f"{few} {_cell(table[few].get(key))} vs {many} {_cell(table.get(many, {}).get(key))}"))
    if top:
        before, after = table[top].get("before_rl:composition"), table[top].get("after_rl:composition")
        out.append(("(d) composition rises after RL", _compare(after, before),
                    f"{top}: {_cell(before)} before RL -> {_cell(after)} after RL"))
    return out


def claims_text(items: list[tuple[str, str, str]]) -> str:
    return "\n".join(f"- {claim}: **{verdict}** ({evidence})" for claim, verdict, evidence in items)
