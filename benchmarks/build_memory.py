"""Peak memory of the builder's selection -> decontamination -> diversity -> writing on a synthetic candidate store.

The paper-scale build has ~1.9 M candidates; these stages used to hold all of them (and re-read the whole stage
files three times). Now they stream shard by shard, so their peak memory should not grow with the store. This
benchmark writes a synthetic store of N candidates (GSM8K-train problems x library heuristics x samples, texts of
~2 KB, verdicts and adherence scores drawn from a seeded RNG — no model, no checker), then resumes the build at
`select` in a child process (`python -m midrl_bench.cli build`) and reports that child's own peak RSS
(`os.wait4` rusage `ru_maxrss`, one run per size, Linux). Run it at two sizes: a flat peak means bounded.

    MIDRL_DATA_DIR=../shared/data python benchmarks/build_memory.py --candidates 50000 200000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEURISTICS = 16  # heuristics per problem
SAMPLES = 4  # samples per (problem, heuristic), as in the paper recipe
STAR = 4  # untargeted samples per problem
WORDS = ("first we note that the total is the sum of the parts so we add them and check the result against the "
         "question before writing the answer carefully").split()


def write_config(folder: Path, problems: int) -> Path:
    from midrl_bench.heuristics import load_library

    ids = sorted(load_library().ids)[:HEURISTICS]
    config = {
        "name": "build-memory-benchmark", "version": "0.0.1", "seed": 1, "license": "mit",
        "sources": [{"name": "gsm8k_train", "limit": problems}], "heuristics": {"ids": ids, "exemplars": 0},
        "generation": {"backend": "file", "options": {"paths": [str(folder / "unused.jsonl")]},
                       "samples_per_pair": SAMPLES, "star_samples": STAR, "shard_size": 4096},
        "decontamination": {"benchmarks": ["math500", "aime24"], "ngram_size": 13},
        "diversity": {"embedder": "ngram", "ngram_n": 3},
        "write": {"max_n": 16, "fixed_budget": [4], "incorrect_max_n": 16, "rows_per_file": 100_000},
    }
    path = folder / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def _text(rng: random.Random, answer: str) -> str:
    body = " ".join(rng.choice(WORDS) + (f" {rng.randint(1, 999)}" if rng.random() < 0.1 else "") for _ in range(330))
    return f"{body}. So the answer is \\boxed{{{answer}}}."


def synthesize_store(config_path: Path, out: Path) -> int:
    """Plan with the real builder, then write generate/verify/adherence shards as a build would; returns candidates."""
    from midrl_bench.builder.config import load_config
    from midrl_bench.builder.runner import open_context
    from midrl_bench.builder.stages import STAGES
    from midrl_bench.builder.store import Store
    from midrl_bench.config import to_dict

    config = load_config(config_path)
    store = Store(out)
    store.open(config.config_hash(), to_dict(config))
    ctx = open_context(config, store)
    rng, total = random.Random(0), 0
    STAGES[0].run(ctx)
    for index in range(ctx.shard_count):
        plan = ctx.plan_rows(index)
        generated, verified, scored = [], [], []
        for item in plan:
            gold = ctx.problems[item["problem_id"]]["answer"]
            correct = rng.random() < 0.5
            answer = gold if correct else str(rng.randint(1000, 9999))
            generated.append({"key": item["key"], "text": _text(rng, answer), "prompt_tokens": 300,
                              "completion_tokens": 500, "finish_reason": "stop"})
            verified.append({"key": item["key"], "correct": correct, "reason": "synthetic", "extracted": answer})
            scored.append({"key": item["key"], "adherence": round(rng.random(), 6) if item["heuristic_id"] else None})
        for stage, rows in (("generate", generated), ("verify", verified), ("adherence", scored)):
            store.write_shard(stage, index, rows)
        total += len(plan)
    for stage in STAGES[:4]:  # plan, generate, verify, adherence: done, with their real counts
        store.mark_done(stage.name, stage.counts(ctx))
    return total


def measure(candidates: int, folder: Path) -> dict[str, float]:
    per_problem = HEURISTICS * SAMPLES + STAR
    problems = max(1, candidates // per_problem)
    config = write_config(folder, problems)
    out = folder / "out"
    made = synthesize_store(config, out)
    store_mib = sum(p.stat().st_size for p in (out / ".midrl").rglob("*") if p.is_file()) / 2**20
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        child = subprocess.Popen([sys.executable, "-m", "midrl_bench.cli", "build", str(config), "--out", str(out),
                                  "--counts-json"], stdout=stdout, stderr=stderr, text=True,
                                 env={**os.environ, "OMP_NUM_THREADS": "1"})
        _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage: its peak RSS alone
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        stdout.seek(0), stderr.seek(0)
        output, errors = stdout.read(), stderr.read()
    if child.returncode != 0:
        raise SystemExit(f"build failed:\n{errors[-3000:]}")
    rows = json.loads(output)["write"]["rows"]
    return {"candidates": made, "problems": problems, "store_mib": store_mib, "rows_written": rows,
            "peak_rss_mib": usage.ru_maxrss / 1024, "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, nargs="+", default=[50_000, 200_000],
                        help="store sizes to measure, ascending (each in a fresh child process)")
    args = parser.parse_args(argv)
    print("peak RSS of `midrl build` resuming at select (select, decontaminate, diversity, write), one run each;")
    print("ru_maxrss of that child alone (os.wait4; Linux, KiB -> MiB); the store is synthetic (~2 KB texts)")
    print(f"{'candidates':>10} {'problems':>8} {'store MiB':>9} {'rows out':>8} {'peak RSS MiB':>12} {'seconds':>8}")
    for size in sorted(args.candidates):
        with tempfile.TemporaryDirectory(prefix="midrl-build-memory-") as tmp:
            r = measure(size, Path(tmp))
        print(f"{r['candidates']:>10} {r['problems']:>8} {r['store_mib']:>9.0f} {r['rows_written']:>8} "
              f"{r['peak_rss_mib']:>12.0f} {r['seconds']:>8.1f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
