"""The gate check, run right after pre-training: can this world test the paper's claims at all?

A gated world is only informative when its pre-trained model has the shape the claims need (issue 13):
- on each gated sub-type the default strategy fails (tagged default <= 10% per sample) and the matching alternative
  works (tagged alternative >= 50%), so strategy diversity is worth something;
- on each friendly sub-type the default works (>= 80%), so the default is a sensible default;
- untagged pass@k at the largest k (the pack's prompt) lies in [40%, 75%]: headroom above, and enough mass on the
  alternatives that RL under a unimodal prior can lower it;
- under 1% of untagged composite traces mix strategies, so composition after RL is something RL found.
Thresholds and sample sizes are the `gate` block of the toy config. The measurement goes through the project's own
parts (hf backend, math checker, cue detector) and is cached next to the model (`gate-<key>.json`), so every
preset with the same model reuses it. A failed gate is printed loudly and every claim reads
"not testable: gate failed" (`toyworld.claims`).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

from midrl_bench.toyworld.config import ToyConfig
from midrl_bench.toyworld.traces import DEFAULT_STRATEGY, MATCHING

_Z95 = 1.959964


def wilson(successes: int, trials: int) -> tuple[float, float]:
    """Wilson score 95% interval of a proportion (0, 1 for no trials)."""
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    centre = (p + _Z95**2 / (2 * trials)) / (1 + _Z95**2 / trials)
    half = _Z95 * math.sqrt(p * (1 - p) / trials + _Z95**2 / (4 * trials**2)) / (1 + _Z95**2 / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def gate_key(config: ToyConfig) -> str:
    from midrl_bench.config import to_dict
    from midrl_bench.provenance import sha256_text

    payload = {"gate": to_dict(config.gate), "max_new_tokens": config.eval_spec.max_gen_toks, "version": 1}
    return sha256_text(json.dumps(payload, sort_keys=True))[:12]


def gate_result(config: ToyConfig, model_dir: Path, log=print) -> dict:
    """The gate of the model in `model_dir` (measured now, or read from its cache file)."""
    if not config.gate.enabled:
        return {"enabled": False, "passed": None, "checks": [],
                "note": "no gate: this world has no gated sub-types (classic world)"}
    from midrl_bench.toyworld.model import build_lock

    path = Path(model_dir) / f"gate-{gate_key(config)}.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    with build_lock(path.with_suffix(".lock")):  # two workers or demos measure it once
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
        log("[toyworld] gate check of the pre-trained model ...")
        started = time.monotonic()
        result = measure_gate(config, Path(model_dir))
        result["seconds"] = time.monotonic() - started
        staging = path.with_suffix(".tmp")
        staging.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        staging.rename(path)
    log(f"[toyworld] gate {'PASSED' if result['passed'] else 'FAILED'} in {result['seconds']:.0f} s")
    return result


def _families(config: ToyConfig) -> tuple[list[str], list[str], bool]:
    families = list(dict.fromkeys(config.world.families))
    gated = [f for f in families if f in MATCHING]
    friendly = [f for f in families if f not in MATCHING and f != "composite"]
    return gated, friendly, "composite" in families


def measure_gate(config: ToyConfig, model_dir: Path) -> dict:
    from midrl_bench.heuristics import load_library
    from midrl_bench.toyworld.corpus import math_messages, tagged_messages
    from midrl_bench.toyworld.probe import sample_rows
    from midrl_bench.toyworld.problems import generate_splits

    gate, world = config.gate, config.world
    library = load_library(world.strategies_dir)
    problems = generate_splits(world.families, world.sizes(), world.seed, world.difficulty)["eval"]
    gated, friendly, composite = _families(config)
    per_family = {f: [p for p in problems if p.family == f][: gate.problems_per_subtype] for f in gated + friendly}
    tags = {f: [DEFAULT_STRATEGY, MATCHING[f]] for f in gated} | {f: [DEFAULT_STRATEGY] for f in friendly}
    items = [(tag, p, tagged_messages(p, library.get(tag))) for f, names in tags.items() for tag in names
             for p in per_family[f]]
    options = {"temperature": gate.temperature, "max_new_tokens": config.eval_spec.max_gen_toks,
               "batch_size": config.eval_spec.batch_size,
               "cache_implementation": config.eval_spec.cache_implementation}  # not in the key: same samples
    tagged = sample_rows(model_dir, items, library, gate.tagged_samples, seed=11, **options)
    untagged_problems = problems[: gate.untagged_problems]
    untagged = sample_rows(model_dir, [(None, p, math_messages(p)) for p in untagged_problems], library,
                           gate.untagged_samples, seed=13, **options)
    checks = []
    for family in gated:
        checks.append(_rate_check(f"{family}: tagged {DEFAULT_STRATEGY} per-sample accuracy", tagged, family,
                                  DEFAULT_STRATEGY, "<=", gate.gated_default_max))
        checks.append(_rate_check(f"{family}: tagged {MATCHING[family]} per-sample accuracy", tagged, family,
                                  MATCHING[family], ">=", gate.gated_alternative_min))
    for family in friendly:
        checks.append(_rate_check(f"{family}: tagged {DEFAULT_STRATEGY} per-sample accuracy", tagged, family,
                                  DEFAULT_STRATEGY, ">=", gate.friendly_default_min))
    checks.append(_pass_at_k_check(untagged, gate))
    if composite:
        rows = [r for r in untagged if r.problem.family == "composite"]
        mixed = sum(len(r.strategies) >= 2 for r in rows)
        checks.append(_check("composite: untagged mixed-strategy traces", mixed, len(rows), "<", gate.mixed_max))
    return {"enabled": True, "passed": all(c["passed"] for c in checks), "checks": checks,
            "samples": len(tagged) + len(untagged), "settings": {"temperature": gate.temperature,
                                                                  "max_new_tokens": config.eval_spec.max_gen_toks}}


def _check(name: str, successes: int, trials: int, op: str, bound: float) -> dict:
    value = successes / trials if trials else 0.0
    passed = {"<=": value <= bound, "<": value < bound, ">=": value >= bound}[op] and trials > 0
    low, high = wilson(successes, trials)
    return {"name": name, "value": value, "ci95": [low, high], "n": trials, "count": successes, "op": op,
            "bound": bound, "passed": passed, "interval": "Wilson 95% over samples"}


def _rate_check(name, rows, family, tag, op, bound) -> dict:
    chosen = [r for r in rows if r.problem.family == family and r.tag == tag]
    return _check(name, sum(r.correct is True for r in chosen), len(chosen), op, bound)


def _pass_at_k_check(rows, gate) -> dict:
    from midrl_bench.metrics import pass_at_k
    from midrl_bench.stats import bootstrap_ci

    by_problem: dict[str, list[bool]] = {}
    for row in rows:
        by_problem.setdefault(row.problem.id, []).append(row.correct is True)
    k = gate.untagged_samples
    values = [pass_at_k(len(v), sum(v), k) for v in by_problem.values()]
    value = sum(values) / len(values)
    low, high = bootstrap_ci(values, seed=7)
    passed = gate.pass_at_k_min <= value <= gate.pass_at_k_max
    return {"name": f"untagged pass@{k} (pack prompt, {len(values)} problems)", "value": value, "ci95": [low, high],
            "n": len(values), "op": "in", "bound": [gate.pass_at_k_min, gate.pass_at_k_max], "passed": passed,
            "interval": "bootstrap 95% over problems"}


def gate_text(result: dict) -> str:
    """The gate as markdown lines; a failed gate is impossible to miss."""
    if not result.get("enabled"):
        return f"Gate: not run ({result.get('note', 'disabled')})."
    head = ("**Gate PASSED**: this world can test the claims." if result["passed"] else
            "**GATE FAILED: every claim below is 'not testable: gate failed'.** The world does not have the shape "
            "the claims need; change the world or pre-training (docs/toyworld.md).")
    lines = [head, "", "| check | measured | 95% interval | n | needed | |", "|---|---|---|---|---|---|"]
    for c in result["checks"]:
        bound = f"{c['op']} {100 * c['bound']:.0f}%" if c["op"] != "in" else \
            f"in [{100 * c['bound'][0]:.0f}%, {100 * c['bound'][1]:.0f}%]"
        lines.append(f"| {c['name']} | {100 * c['value']:.1f}% | {100 * c['ci95'][0]:.1f}-{100 * c['ci95'][1]:.1f}% "
                     f"({c['interval']}) | {c['n']} | {bound} | {'ok' if c['passed'] else 'FAIL'} |")
    return "\n".join(lines)
