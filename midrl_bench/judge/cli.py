"""`midrl judge SAMPLES... [--labeller rules|embed|llm|both|A,B] -o OUT_DIR`: composition of heuristics in lm-eval traces.

SAMPLES are lm-eval `samples_<task>_<date>.jsonl` files (from `--log_samples`) or directories searched for them.
Labellers: `rules` (cues + structural patterns, calibrated on the validation dev split), `embed` (sentence
embeddings, `--embed-model`), `llm` (any OpenAI-compatible server, `--judge-base-url`, e.g. vLLM or
`transformers serve`); `both` is `rules,llm`; a comma list runs several and reports their agreement.
The library defaults to the samples' task (`midrl_toy`: the toy world's strategies; otherwise the packaged math
library). Every figure comes with the labeller's measured quality on the validation `test` split (or on
`--validation FILE`) and the composed share corrected for it (docs/judge.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from midrl_bench.judge.measure import LABELLER_NAMES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="midrl judge", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("samples", nargs="+", type=Path, help="samples_*.jsonl files or directories holding them")
    parser.add_argument("-o", "--out", type=Path, required=True,
                        help="output directory (report.json, labels.jsonl, composition.png, disagreements.jsonl)")
    parser.add_argument("--labeller", default="rules", help="rules | embed | llm | both (= rules,llm) | a comma list")
    parser.add_argument("--library", default=None,
                        help="heuristic library: math | toyworld | a directory (default: the samples' task's)")
    parser.add_argument("--validation", type=Path, default=None,
                        help="your labelled traces (JSONL/YAML: id, text, heuristics, split) to measure on")
    parser.add_argument("--min-hits", type=int, default=1,
                        help="rules without calibration rows (a library the validation set does not cover)")
    parser.add_argument("--embed-model", default="minilm",
                        help="embed: minilm (all-MiniLM-L6-v2, offline) or a sentence-transformers model name")
    parser.add_argument("--judge-model", default=None, help="llm: model name the server serves")
    parser.add_argument("--judge-base-url", default="http://127.0.0.1:8000/v1", help="llm: OpenAI-compatible base URL")
    parser.add_argument("--max-attempts", type=int, default=3, help="llm: tries per trace before it counts as unjudged")
    parser.add_argument("--judge-max-new-tokens", type=int, default=256, help="llm: reply length limit (tokens)")
    parser.add_argument("--max-docs-per-task", type=int, default=None, help="judge only the first N documents per task")
    return parser


def expand_sample_paths(paths: list[Path]) -> list[Path]:
    from midrl_bench.tasks.lm_eval_files import samples_files

    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = samples_files(path)
            if not inside:
                raise FileNotFoundError(f"{path}: directory holds no samples_<task>_<date>.jsonl file")
            found.extend(inside)
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or directory")
    return found


def labeller_names(spec: str) -> list[str]:
    names = ["rules", "llm"] if spec == "both" else [part.strip() for part in spec.split(",") if part.strip()]
    unknown = [name for name in names if name not in LABELLER_NAMES]
    if not names or unknown or len(set(names)) != len(names):
        raise ValueError(f"--labeller {spec!r}: use rules, embed, llm, both, or a comma list of distinct names")
    return names


def _options(args):
    from midrl_bench.judge.labellers import LLMJudgeSettings
    from midrl_bench.judge.measure import LabellerOptions

    backend = None
    if "llm" in labeller_names(args.labeller):
        from midrl_bench.generation import get_backend

        if not args.judge_model:
            raise ValueError("--judge-model is required with --labeller llm")
        backend = get_backend("openai", base_url=args.judge_base_url, model=args.judge_model)
    settings = LLMJudgeSettings(max_attempts=args.max_attempts, max_new_tokens=args.judge_max_new_tokens)
    return LabellerOptions(min_hits=args.min_hits, embed_model=args.embed_model, llm_backend=backend,
                           llm_settings=settings)


def _setup(args):
    """(sample paths, library record, library, validation, labellers); raises OSError/ValueError on bad input."""
    from midrl_bench.heuristics import load_library
    from midrl_bench.judge.libraries import library_record, resolve_library
    from midrl_bench.judge.measure import load_validation, make_labeller
    from midrl_bench.judge.traces import task_of_samples_file

    if args.min_hits < 1:
        raise ValueError(f"--min-hits: must be >= 1, got {args.min_hits}")
    names = labeller_names(args.labeller)
    paths = expand_sample_paths(args.samples)
    name, directory = resolve_library(args.library, [task_of_samples_file(p) for p in paths])
    library = load_library(directory)
    validation = load_validation(library, args.validation)
    options = _options(args)
    labellers = [make_labeller(n, library, validation, options) for n in names]
    return paths, library_record(name, library), library, validation, labellers


def _pct(value) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _interval(bounds) -> str:
    return "" if not bounds else f" [95% CI {100 * bounds[0]:.1f}-{100 * bounds[1]:.1f}]"


def summary_line(name: str, stats: dict) -> str:
    rate, quality = stats["composed_rate"], stats["quality"]
    line = (f"{name}: {stats['n_judged']}/{stats['n_traces']} traces judged; composed (>= 2 heuristics): raw "
            f"{_pct(rate.get('raw'))}{_interval(rate.get('raw_interval'))}")
    if rate.get("corrected") is not None:
        line += f", corrected {_pct(rate['corrected'])}{_interval(rate.get('corrected_interval'))} (Rogan-Gladen)"
    if quality["available"]:
        c = quality["composed"]
        shown = {k: "n/a" if c[k] is None else f"{c[k]:.2f}" for k in ("accuracy", "precision", "recall", "kappa")}
        line += (f"; labeller quality on {quality['validation']} test (n={quality['n_judged']}): composed accuracy "
                 f"{shown['accuracy']}, precision {shown['precision']}, recall {shown['recall']}, "
                 f"kappa {shown['kappa']}")
    else:
        line += f"; corrected: n/a (labeller quality not measured: {quality['reason']})"
    return line


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from midrl_bench.judge.run import judge_samples

    labellers = []
    try:
        paths, record, library, validation, labellers = _setup(args)
        report = judge_samples(paths, labellers, args.out, library.ids, args.max_docs_per_task,
                               validation=validation, library=record)
    except (OSError, ValueError, KeyError) as error:
        message = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
        print(f"midrl judge: {' '.join(message.split())}", file=sys.stderr)
        return 2
    finally:
        for labeller in labellers:
            backend = getattr(labeller, "backend", None)
            if backend is not None:
                backend.close()
    print(f"library {record['name']} ({record['size']} heuristics, hash {record['content_hash'][:12]})")
    for name, stats in report["composition"].items():
        print(summary_line(name, stats))
    for pair in report["agreement"] or []:
        composed, mean = (("n/a" if v is None else f"{v:.2f}") for v in (pair["composed_kappa"], pair["mean_kappa"]))
        print(f"agreement {pair['first']} vs {pair['second']} on {pair['n_both_judged']} traces: composed kappa "
              f"{composed}, mean per-heuristic kappa {mean}")
    extra = f", {args.out / 'disagreements.jsonl'}" if report["agreement"] else ""
    print(f"wrote {args.out / 'report.json'}, {args.out / 'labels.jsonl'}, {args.out / 'composition.png'}{extra}")
    return 0
