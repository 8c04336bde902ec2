"""`midrl demo [--preset NAME | --quick | --config TOY.yaml] [--out DIR] [--seeds N]`: the whole pipeline in the tiny world.

Runs offline on a CPU: pre-trains (or reuses) the tiny model, checks the gate, builds the self-generated heuristic
dataset, mid-trains and runs GRPO for every arm, evaluates with the `midrl_toy` task, judges composition, fills a
local leaderboard, then prints the gate, the tables and a verdict with interval and MDE for each of the paper's
claims. Presets: `full` (the default: gated world, all arms, one seed), `quick` (CI-sized), `study` (4 seeds, 200
GRPO steps, every arm: hours) and `classic` (the world of midrl-bench 0.1). Re-running with the same --out resumes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PRESETS_DIR = Path(__file__).resolve().parent / "presets"
PRESETS = ("full", "quick", "study", "classic")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="midrl demo", description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=PRESETS, default=None, help="a packaged preset (default: full)")
    parser.add_argument("--quick", action="store_true", help="the CI-sized preset (same as --preset quick)")
    parser.add_argument("--config", type=Path, default=None,
                        help="a toy config YAML (copy presets/full.yaml to change the world, model or budgets)")
    parser.add_argument("--out", type=Path, default=Path("midrl-demo"), help="output directory (resumable)")
    parser.add_argument("--seeds", type=int, default=None, help="training seeds per arm (paired in the statistics)")
    parser.add_argument("--rebuild-model", action="store_true", help="pre-train the tiny model again even if cached")
    parser.add_argument("--prepare", action="store_true",
                        help="only pre-train the tiny model and measure its gate (both cached for later runs and the "
                             "tests), print the gate, and stop")
    parser.add_argument("--threads", default=None,
                        help="torch CPU threads for every stage: a number, or `all` for every core this process may "
                             "use (default: torch's own, i.e. OMP_NUM_THREADS or every core); the samples and the "
                             "trained weights do not depend on it")
    return parser


def config_path(args: argparse.Namespace) -> Path:
    chosen = [name for name, given in (("--preset", args.preset), ("--quick", args.quick), ("--config", args.config))
              if given]
    if len(chosen) > 1:
        raise ValueError(f"give one of --preset, --quick, --config, not both ({' and '.join(chosen)})")
    if args.config:
        return args.config
    return PRESETS_DIR / f"{'quick' if args.quick else args.preset or 'full'}.yaml"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from midrl_bench.config import ConfigError
    from midrl_bench.toyworld.config import load_toy_config

    try:
        path = config_path(args)
        config = load_toy_config(path)
        if args.seeds is not None and args.seeds < 1:
            raise ValueError("--seeds must be >= 1")
        args.threads = thread_count(args.threads)
        if args.seeds is not None:
            config.demo.seeds = args.seeds
        expected = expected_time(config, args.prepare)  # also checks demo.arms against the arms the build writes
    except (ConfigError, ValueError) as error:
        print(f"midrl demo: {error}", file=sys.stderr)
        return 2
    return _run(config, args, expected)


def thread_count(value: str | None) -> int | None:
    """`--threads`: None (torch's default), `all` (the CPUs this process may run on, whatever OMP_NUM_THREADS says;
    `nproc` would honour it), or a number >= 1."""
    import os

    if value is None:
        return None
    if value == "all":
        return len(os.sched_getaffinity(0))
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"--threads must be a number >= 1 or `all`, got {value!r}")
    return int(value)


def _run(config, args, expected: str) -> int:
    from midrl_bench.toyworld.demo import run_demo
    from midrl_bench.toyworld.model import pretrained_model
    from midrl_bench.toyworld.report import write_report

    out = args.out.resolve()
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    log(f"[demo] {expected}")
    if args.rebuild_model:
        pretrained_model(config, rebuild=True)
    if args.prepare:
        return _prepare(config, log)
    try:
        results = run_demo(config, out, log=log)
    except ValueError as error:  # a resumed --out with another config, an unknown arm: one line, nothing lost
        print(f"midrl demo: {error}", file=sys.stderr)
        return 2
    print(write_report(config, results, out))
    return 0


def _prepare(config, log) -> int:
    """Pre-train (or reuse) the tiny model and measure (or read) its gate; exit 0 whether or not the gate passes."""
    from midrl_bench.toyworld.gate import gate_result, gate_text
    from midrl_bench.toyworld.model import pretrained_model

    model_dir = pretrained_model(config, log=log)
    print(gate_text(gate_result(config, model_dir, log=log)))
    print(f"tiny model: {model_dir}")
    return 0


def expected_time(config, prepare: bool = False) -> str:
    """The run time the preset (or only its preparation) should take, from measured unit costs (printed first)."""
    from midrl_bench.heuristics import load_library
    from midrl_bench.paths import cache_dir
    from midrl_bench.toyworld.budget import estimate
    from midrl_bench.toyworld.demo import variants
    from midrl_bench.toyworld.gate import gate_key

    library = load_library(config.world.strategies_dir)
    arms = len(variants(config, len(library)))
    model_dir = cache_dir("toyworld") / config.pretrained_key(library.content_hash)
    model_cached = (model_dir / "pretrain.json").is_file()
    gate_cached = (model_dir / f"gate-{gate_key(config)}.json").is_file()
    expected = estimate(config, arms, model_cached, gate_cached)
    return (expected.preparation() if prepare else expected).text()
