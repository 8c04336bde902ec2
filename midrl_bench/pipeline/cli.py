"""`midrl train`: mid-train then RL from one recipe, on TRL, OpenRLHF or verl.

    midrl train --spec recipes/tiny-cpu.yaml --backend trl --out runs/tiny
    midrl train --spec recipes/paper-llama-3.2-3b.yaml --backend openrlhf --dry-run
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys

from midrl_bench.config import ConfigError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="midrl train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", required=True, help="recipe YAML (see recipes/)")
    parser.add_argument("--backend", required=True, choices=["trl", "openrlhf", "verl"])
    parser.add_argument("--stage", default="all", choices=["midtrain", "rl", "all"])
    parser.add_argument("--dry-run", action="store_true", help="print every command and config, run nothing")
    parser.add_argument("--out", default=None, help="run directory (default runs/<recipe name>-<backend>)")
    return parser


def format_plans(plans) -> str:
    """Human-readable plan: per stage the launch command and the full config it runs with."""
    blocks = []
    for plan in plans:
        mode = "in-process (the command runs the same stage file)" if plan.in_process else "launched"
        env = " ".join(f"{key}={shlex.quote(value)}" for key, value in plan.env.items())
        blocks.append("\n".join([
            f"== {plan.backend} {plan.stage}: {plan.model_in} -> {plan.checkpoint} [{mode}]",
            f"$ {env + ' ' if env else ''}{shlex.join(plan.command)}",
            "config:", json.dumps({k: v for k, v in plan.config.items() if k != "argv"}, indent=2, default=str),
        ]))
    return "\n\n".join(blocks)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from midrl_bench.pipeline.runner import run_pipeline
    from midrl_bench.pipeline.spec import load_spec

    try:
        spec = load_spec(args.spec)
        out = args.out or f"runs/{spec.name}-{args.backend}"
        result = run_pipeline(spec, args.backend, args.stage, out, dry_run=args.dry_run)
    except ConfigError as error:
        print(f"midrl train: error: {error}", file=sys.stderr)
        return 2
    except RuntimeError as error:  # a stage failed; finished stages stay in the run directory
        print(f"midrl train: failed: {error}", file=sys.stderr)
        return 1
    if args.dry_run:
        from midrl_bench.pipeline.grpo_mapping import plan_settings

        for plan in result.plans:  # the GRPO objective as this backend receives it, stated in the plan
            if plan.stage == "rl":
                plan.config["grpo_settings"] = plan_settings(spec, args.backend)
        print(format_plans(result.plans))
        return 0
    print(json.dumps({"out_dir": str(result.out_dir), "checkpoints": result.checkpoints}, indent=2))
    return 0
