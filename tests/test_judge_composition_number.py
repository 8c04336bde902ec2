"""One composition number per run: the demo's summary and the leaderboard's composed column agree.

A small toy run — `midrl_toy` samples of the toy world's own trace writers, one strategy per trace plus traces
that solve with one strategy and check with another — is judged by the demo's code path (`toyworld.demo.judge`,
i.e. `midrl judge --labeller rules --library <toy strategies>`), and its composition is computed by the
leaderboard's code path (`leaderboard.store._composition`, the figure `leaderboard.site` puts in the "composed"
column). Before the fix the leaderboard re-judged the toy traces with the packaged 64-heuristic math library and
showed another number; the last assertion pins that the two libraries really do disagree on these traces.
"""

from __future__ import annotations

import pytest
from _judge_fixtures import write_samples

DATE = "2026-01-01T00-00-00.000000"


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    from midrl_bench.tasks.registry import load_docs
    from midrl_bench.toyworld.config import ToyConfig
    from midrl_bench.toyworld.problems import generate_splits
    from midrl_bench.toyworld.traces import STRATEGIES, combined_trace, write_trace

    world = ToyConfig().world
    # the first three eval problems (mul, series, series_long): a composite has no solve-and-check trace
    problems = generate_splits(list(world.families), {"eval": 3}, world.seed, world.difficulty)["eval"][:3]
    assert "composite" not in {p.family for p in problems}
    pairs = [("pair_terms", "place_value"), ("column_method", "round_adjust")]  # solve with one, check with another
    responses = [[write_trace(p, s) for s in STRATEGIES] + [combined_trace(p, a, b) for a, b in pairs]
                 for p in problems]
    eval_dir = tmp_path_factory.mktemp("toy-eval")
    write_samples(eval_dir / f"samples_midrl_toy_{DATE}.jsonl", "midrl_toy", load_docs("midrl_toy")[:3], responses)
    return eval_dir


def test_leaderboard_column_shows_the_demo_summary_figure(toy_run, tmp_path):
    from midrl_bench.leaderboard.rundir import RunDir, TaskFiles
    from midrl_bench.leaderboard.site import _group_values
    from midrl_bench.leaderboard.store import _composition
    from midrl_bench.leaderboard.validate import ValidatedRun

    from midrl_bench.heuristics import load_library
    from midrl_bench.judge.labellers import RulesLabeller
    from midrl_bench.judge.report import composition_stats
    from midrl_bench.judge.traces import load_traces
    from midrl_bench.toyworld.config import ToyConfig
    from midrl_bench.toyworld.demo import DemoContext, judge

    report = judge(DemoContext(config=ToyConfig(), out=tmp_path), toy_run)  # the demo's stage 5
    summary = report["composition"]["rules"]["composed_share"]["mean"]  # what the demo's summary records
    (samples,) = toy_run.glob("samples_*.jsonl")
    run = RunDir(root=toy_run, submission={}, results={}, tasks={"midrl_toy": TaskFiles("midrl_toy", samples, samples)})
    composition = _composition(ValidatedRun(run=run, tasks={}), "midrl_toy")  # the leaderboard's submit path
    entry = {"tasks": {"midrl_toy": {"pass_at_k": {"pass@1": {"mean": 0.5, "stderr": 0.1}},
                                     "composition": composition}}}
    _, _, shares = _group_values(entry, ["midrl_toy"])  # the "composed" column's value
    assert shares == [pytest.approx(summary)]
    assert composition["library"]["content_hash"] == report["library"]["content_hash"]
    assert composition["library"]["name"] == report["library"]["name"] == "toyworld"
    traces = load_traces([samples])
    math = load_library()
    old = composition_stats(RulesLabeller(math).label(traces), [None] * len(traces), math.ids)
    assert old["composed_share"]["mean"] != pytest.approx(summary)  # the second number the old code showed
