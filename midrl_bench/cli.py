"""The `midrl` command: a thin dispatcher.

Each sub-command lives in its own module exposing `main(argv: list[str]) -> int`; the module is imported only
when its command runs, so `midrl --help` stays instant and heavy libraries load only where used.
"""

from __future__ import annotations

import importlib
import sys

# name -> (module, one-line help). The help text lives here and nowhere else.
COMMANDS: dict[str, tuple[str, str]] = {
    "eval": ("midrl_bench.tasks.cli", "run lm-eval with the midrl task pack included (all lm_eval arguments pass through)"),
    "tasks": ("midrl_bench.tasks.cli", "task pack: `path`, `list`, `install`, `uninstall`"),
    "verify": ("midrl_bench.verify.cli", "check answers: `verify math IN.jsonl -o OUT.jsonl`"),
    "sandbox": ("midrl_bench.verify.sandbox_cli", "run untrusted programs isolated: `run PROGRAM.py`, `check`"),
    "heuristics": ("midrl_bench.heuristics.cli", "the heuristic library: `list`, `show ID`, `validate`"),
    "build": ("midrl_bench.builder.cli", "build a heuristic-diverse dataset: `build CONFIG.yaml --out DIR [--shard i/N]`, `build merge PARTS... --out DIR`"),
    "diversity": ("midrl_bench.diversity_cli", "Vendi-score table of a built dataset: `diversity DIR`"),
    "publish": ("midrl_bench.publish.cli", "upload a built dataset to the Hub: `publish DIR --repo-id ORG/NAME --version X.Y.Z`"),
    "train": ("midrl_bench.pipeline.cli", "mid-train then RL from a recipe: `train --spec RECIPE --backend trl|openrlhf`"),
    "compare": ("midrl_bench.pipeline.compare_cli", "run a recipe on several backends and compare: `compare --spec RECIPE --backends trl,openrlhf`"),
    "judge": ("midrl_bench.judge.cli", "label heuristics in lm-eval samples and report composition: `judge SAMPLES... -o DIR`"),
    "runs": ("midrl_bench.runs.cli", "lm-eval runs of the pack: `compare RUN_A RUN_B`, `regrade RUN_DIR`, `summary RUN`"),
    "leaderboard": ("midrl_bench.leaderboard.cli", "leaderboard: `submit RUN_DIR`, `build`, `serve`"),
    "demo": ("midrl_bench.toyworld.cli", "the whole pipeline in the embedded tiny world, offline on a CPU"),
}


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: midrl COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name.ljust(width)}  {help_text}" for name, (_, help_text) in COMMANDS.items()]
    lines += ["", "`midrl COMMAND --help` shows a command's own options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    if argv[0] == "--version":
        from midrl_bench import __version__

        print(__version__)
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"midrl: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    entry = getattr(module, f"main_{name}", None) or module.main
    return int(entry(rest) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
