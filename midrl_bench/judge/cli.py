"""`midrl judge SAMPLES... --labeller rules|llm|both -o OUT_DIR`: composition of heuristics in lm-eval traces.

SAMPLES are lm-eval `samples_<task>_<date>.jsonl` files (from `--log_samples`) or directories searched for them.
The `llm` labeller talks to any OpenAI-compatible server (`--judge-base-url`, e.g. vLLM or `transformers serve`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="midrl judge", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("samples", nargs="+", type=Path, help="samples_*.jsonl files or directories holding them")
    parser.add_argument("-o", "--out", type=Path, required=True,
                        help="output directory (report.json, labels.jsonl, composition.png)")
    parser.add_argument("--labeller", choices=("rules", "llm", "both"), default="rules")
    parser.add_argument("--library", type=Path, default=None, help="heuristic library directory (default: packaged)")
    parser.add_argument("--min-hits", type=int, default=1, help="rules: distinct cues needed to count a heuristic")
    parser.add_argument("--judge-model", default=None, help="llm: model name the server serves")
    parser.add_argument("--judge-base-url", default="http://127.0.0.1:8000/v1", help="llm: OpenAI-compatible base URL")
    parser.add_argument("--max-attempts", type=int, default=3, help="llm: tries per trace before it counts as unjudged")
    parser.add_argument("--judge-max-new-tokens", type=int, default=128, help="llm: reply length limit (tokens)")
    parser.add_argument("--max-docs-per-task", type=int, default=None, help="judge only the first N documents per task")
    return parser


def expand_sample_paths(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(path.rglob("samples_*.jsonl")))
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or directory")
    if not found:
        raise FileNotFoundError(f"no samples_*.jsonl under {[str(p) for p in paths]}")
    return found


def _labellers(args, library) -> list:
    from midrl_bench.judge.labellers import LLMJudgeSettings, LLMLabeller, RulesLabeller

    labellers = []
    if args.labeller in ("rules", "both"):
        labellers.append(RulesLabeller(library, min_hits=args.min_hits))
    if args.labeller in ("llm", "both"):
        from midrl_bench.generation import get_backend

        if not args.judge_model:
            raise ValueError("--judge-model is required with --labeller llm|both")
        backend = get_backend("openai", base_url=args.judge_base_url, model=args.judge_model)
        labellers.append(LLMLabeller(backend, library, LLMJudgeSettings(max_attempts=args.max_attempts,
                                                                        max_new_tokens=args.judge_max_new_tokens)))
    return labellers


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from midrl_bench.heuristics import load_library
    from midrl_bench.judge.run import judge_samples

    try:
        paths = expand_sample_paths(args.samples)
        library = load_library(args.library)
        labellers = _labellers(args, library)
    except (OSError, ValueError) as error:
        print(f"midrl judge: {error}", file=sys.stderr)
        return 2
    try:
        report = judge_samples(paths, labellers, args.out, library.ids, args.max_docs_per_task)
    finally:
        for labeller in labellers:
            backend = getattr(labeller, "backend", None)
            if backend is not None:
                backend.close()
    for name, stats in report["composition"].items():
        share = stats["composed_share"]["mean"]
        shown = "n/a" if share is None else f"{100 * share:.1f}% ± {100 * stats['composed_share']['stderr']:.1f}"
        print(f"{name}: {stats['n_judged']}/{stats['n_traces']} traces judged; combining >= 2 heuristics: {shown}")
    if report["agreement"]:
        print(f"agreement: mean Cohen's kappa {report['agreement']['mean_kappa']}")
    print(f"wrote {args.out / 'report.json'}, {args.out / 'labels.jsonl'}, {args.out / 'composition.png'}")
    return 0
