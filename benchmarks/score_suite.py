"""Scoring a full pass@64 run of the pack: `midrl runs regrade` vs plain sequential math-verify, and HumanEval.

Builds lm-eval-shaped run directories (`results_<date>.json` + `samples_<task>_<date>.jsonl`, as `lm_eval
--log_samples` writes them) for the pack's maths and MuSR tasks (2,061 documents x 64 responses = 131,904) and
for HumanEval (164 x 64 = 10,496 programs). Responses are drawn, seeded, from templates of what models write
(Qwen-style boxed, Llama-3 "The final answer is: $\\boxed{}$", Minerva "Final Answer: ... I hope it is correct.",
R1-style `<think>` blocks, GSM8K `####`, an intermediate box before the final answer, answers without a marker,
unfinished responses), with the gold answer, a perturbed one or another document's answer; MuSR with right, wrong
or missing `Answer:` letters; HumanEval with the canonical solution (with one of a few comments), a wrong body, a
syntax error, a chat answer in a fenced block, or nothing: about 14 distinct programs per problem, each run once
(identical responses share a run). Then it times:
1. `midrl runs regrade` on the maths + MuSR run: every verdict and every metric (pass@k, maj@k, avg@n, 95%
   bootstrap intervals, rates, length percentiles), written as new files;
2. the baseline: plain sequential math-verify (`verify(parse(gold), parse(response))`, one response after another
   in one process) on the same maths responses, plus the same MuSR letter check sequentially; with
   `--baseline-sample N` only N seeded random maths responses are timed and the total extrapolated (said so);
3. `midrl runs regrade` on the HumanEval run (every program through the sandbox).
Goal: the suite (1 + 3) under 5 minutes on 2 cores, and 1 at least 2x faster than 2.

    python benchmarks/score_suite.py [--repeats 64] [--baseline-sample N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from verify_throughput import perturb  # benchmarks/ is on sys.path when a benchmark runs as a script

MATH_TASKS = ("midrl_math500", "midrl_aime24", "midrl_aime25", "midrl_amc23", "midrl_hmmt25", "midrl_olympiadbench")
MUSR_TASKS = ("midrl_musr_murder", "midrl_musr_object", "midrl_musr_team")
DATE = "2026-01-01T00-00-00.000000"
FILLER = ["First, let us restate the problem.", "We set up the equation carefully.", "Expanding gives 3x + 12 = 27.",
          "Checking the edge cases, nothing changes.", "Substituting back, both sides agree.",
          "Let me double-check the arithmetic: 12 * 7 = 84."]


def math_response(gold: str, other: str, rng: random.Random) -> str:
    roll = rng.random()
    answer = gold if roll < 0.5 else perturb(gold, rng) if roll < 0.8 else other
    body = " ".join(rng.sample(FILLER, 3))
    shapes = [
        f"{body}\n\nTherefore, the final answer is $\\boxed{{{answer}}}$.",  # Qwen2.5-Math
        f"## Step 1: Understand the problem\n{body}\n\n## Step 2: Solve\nThe final answer is: $\\boxed{{{answer}}}$",
        f"Solution: {body}\nFinal Answer: The final answer is ${answer}$. I hope it is correct.",  # Minerva
        f"<think>\n{body} Maybe it is {other}? No.\n</think>\n\n{body}\nSo the answer is $\\boxed{{{answer}}}$.",
        f"{body}\n#### {answer}",  # GSM8K
        f"{body} We first get $\\boxed{{{other}}}$, but that misses a case. The final answer is ${answer}$.",
        f"{body} Therefore ${answer}$ is the solution.",  # no marker: found by the standard policy only
        f"{body} I need to reconsider the second case, where",  # unfinished: no answer
    ]
    return rng.choice(shapes)


def musr_response(right: int, n_choices: int, rng: random.Random) -> str:
    letter = "ABCDE"[right if rng.random() < 0.55 else rng.randrange(n_choices)]
    body = "Looking at the story, the suspect had both motive and opportunity, while the alibi does not hold."
    return rng.choice([f"{body}\nAnswer: {letter}", f"{body}\n\n**Answer:** {letter}",
                       f"{body} The answer is $\\boxed{{{letter}}}$.", f"{body} It is hard to decide."])


NOTES = ["straightforward", "linear scan", "handle the empty case", "use a helper", "keep it simple", "O(n)"]


def code_response(doc: dict, rng: random.Random) -> str:
    """A program; sampled answers to one problem repeat often, with small variations (here: a comment)."""
    body = f"    # {rng.choice(NOTES)}\n{doc['canonical_solution']}"
    return rng.choices([
        body,  # a completion model's continuation
        "    return None\n",  # wrong
        "    return (\n",  # syntax error
        f"Here is the solution:\n```python\n{doc['prompt']}{body}```\nIt runs in linear time.",  # a chat answer
        "",  # nothing
    ], weights=[40, 30, 10, 15, 5])[0]


def _row(doc_id: int, doc: dict, responses: list[str]) -> dict:
    from midrl_bench.tasks.registry import doc_hash

    return {"doc_id": doc_id, "doc": doc, "target": "", "arguments": [], "resps": [[r] for r in responses],
            "filtered_resps": [responses], "filter": "all", "metrics": [], "doc_hash": doc_hash(doc)}


def write_run(folder: Path, tasks: tuple[str, ...], repeats: int, seed: int) -> int:
    """An lm-eval-shaped run of `tasks`; returns the number of responses."""
    from midrl_bench.tasks.registry import load_docs, spec

    rng, total, results, versions = random.Random(seed), 0, {}, {}
    folder.mkdir(parents=True)
    for task in tasks:
        docs, kind = load_docs(task), spec(task).checker
        rows = []
        for doc_id, doc in enumerate(docs):
            if kind == "math":
                other = str(docs[(doc_id + 7) % len(docs)]["answer"])
                responses = [math_response(str(doc["answer"]), other, rng) for _ in range(repeats)]
            elif kind == "choice":
                responses = [musr_response(doc["answer_index"], len(doc["choices"]), rng) for _ in range(repeats)]
            else:
                responses = [code_response(doc, rng) for _ in range(repeats)]
            rows.append(_row(doc_id, doc, responses))
            total += repeats
        (folder / f"samples_{task}_{DATE}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        results[task], versions[task] = {"alias": task}, spec(task).version
    (folder / f"results_{DATE}.json").write_text(json.dumps({"results": results, "versions": versions,
                                                             "configs": {}, "group_subtasks": {}}))
    return total


def baseline(folder: Path, sample: int | None, seed: int) -> tuple[float, int, int]:
    """(seconds, maths responses timed, maths responses in all) of plain sequential math-verify on the maths
    responses (extrapolated to all of them when sampled) + the MuSR letter check on every MuSR response."""
    from math_verify import parse, verify

    from midrl_bench.verify.choice import check_choice

    math_pairs, musr_items = [], []
    for path in sorted(folder.glob(f"samples_*_{DATE}.jsonl")):  # the run's own files, not the regrade's
        for line in path.read_text().splitlines():
            row = json.loads(line)
            for response in row["filtered_resps"][0]:
                if "answer" in row["doc"]:
                    math_pairs.append((str(row["doc"]["answer"]), response))
                else:
                    musr_items.append((row["doc"]["answer_index"], len(row["doc"]["choices"]), response))
    timed = random.Random(seed).sample(math_pairs, sample) if sample and sample < len(math_pairs) else math_pairs
    verify(parse("$1$"), parse("$\\boxed{1}$"))  # imports and grammar warmed, as for the project's checker
    started = time.perf_counter()
    for gold, response in timed:
        verify(parse(f"${gold}$"), parse(response))
    math_seconds = (time.perf_counter() - started) * len(math_pairs) / len(timed)
    started = time.perf_counter()
    for answer_index, n_choices, response in musr_items:
        check_choice(answer_index, n_choices, response)
    return math_seconds + time.perf_counter() - started, len(timed), len(math_pairs)


def distinct_programs(folder: Path) -> int:
    path = folder / f"samples_midrl_humaneval_{DATE}.jsonl"
    return sum(len(set(json.loads(line)["filtered_resps"][0])) for line in path.read_text().splitlines())


def timed_regrade(folder: Path) -> tuple[float, dict]:
    from midrl_bench.runs.regrade import regrade_run

    started = time.perf_counter()
    _, record = regrade_run(folder)
    return time.perf_counter() - started, record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=64)
    parser.add_argument("--baseline-sample", type=int, default=None, help="time only N maths responses, extrapolate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="build the runs here (a new folder) instead of a temporary one")
    args = parser.parse_args()
    if args.keep:
        run_suite(args, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="score-suite-") as scratch:
            run_suite(args, Path(scratch))


def run_suite(args, root: Path) -> None:
    import os

    from midrl_bench.verify.math import check_answer

    responses = write_run(root / "pack", MATH_TASKS + MUSR_TASKS, args.repeats, args.seed)
    programs = write_run(root / "humaneval", ("midrl_humaneval",), args.repeats, args.seed)
    check_answer("1", "\\boxed{1}")  # start the worker pool and its self-test outside the clock, like the baseline
    ours, _ = timed_regrade(root / "pack")
    code_seconds, code_record = timed_regrade(root / "humaneval")
    base_seconds, timed, total = baseline(root / "pack", args.baseline_sample, args.seed)
    print(f"maths + MuSR: {responses} responses of {len(MATH_TASKS + MUSR_TASKS)} tasks")
    print(f"  midrl runs regrade (all verdicts + all metrics): {ours:.1f} s ({responses / ours:.0f} responses/s)")
    how = ("measured on every response" if timed == total else
           f"maths: extrapolated from a seeded sample of {timed} of {total} responses; MuSR: all measured")
    print(f"  plain sequential math-verify (verdicts only): {base_seconds:.1f} s ({how})")
    print(f"  ratio: {base_seconds / ours:.2f}x (goal >= 2x)")
    scored = code_record["tasks"]["midrl_humaneval"]["responses"]
    runs = distinct_programs(root / "humaneval")
    print(f"HumanEval: {programs} programs ({scored} scored; {runs} distinct, each run once) through the sandbox in "
          f"{code_seconds:.1f} s ({programs / code_seconds:.0f} programs/s, {runs / code_seconds:.0f} runs/s)")
    print(f"suite (regrade of both runs): {ours + code_seconds:.1f} s (goal < 300 s) on "
          f"{len(os.sched_getaffinity(0))} cores; one run, timings on a shared machine vary")


if __name__ == "__main__":
    main()
