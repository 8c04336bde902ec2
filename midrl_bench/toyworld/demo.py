"""`midrl demo`: the paper's pipeline in the tiny world, run by the project's own parts.

Stages (each writes under OUT and is skipped when its output is already there, so a re-run resumes):
1. pre-trained tiny model (cached by config hash)              `toyworld.model.pretrained_model`
2. gate check of that model (cached with it; printed)          `toyworld.gate.gate_result`
3. self-generated dataset: per-strategy generation with the hf backend, verification, rules adherence,
   selection, configs n1..nK, incorrect-nK, star, fixed-budget pair     `midrl build` (`builder.runner.build`)
4. per arm and seed: mid-training then GRPO from one pipeline recipe    `midrl train` (`pipeline.run_pipeline`, trl)
   (the `toy_correctness` reward logs the strategies of the rollouts per step); `demo.workers` at a time, each
   arm with its evaluations and judging (5, 6) in a worker process, the base model's evaluation as one more job
5. pass@k on `midrl_toy` of every checkpoint                            `midrl eval` (lm-eval, the pack)
6. composition labels of every evaluated checkpoint's samples           `midrl judge --labeller rules`
7. leaderboard entries of the final checkpoints                         `midrl leaderboard submit` / `build`
8. statistics, tables, plots, claims                                     `toyworld.claims`, `report`, `plots`
The run's whole config is OUT/toy.yaml: the builder reads its world through `sources.toy.use_world`, lm-eval through
the task metadata `toy_config` (and `size`, the world's eval split size).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from midrl_bench.toyworld.config import ToyConfig

_TASK_MANAGERS: dict[str, object] = {}  # lm-eval TaskManagers of this process by task metadata (`_task_manager`)


@dataclass
class Variant:
    name: str  # the dataset config mid-trained on, or "rl-only"
    dataset_config: str | None  # None: no mid-training (RL from the base model)


@dataclass
class DemoContext:
    config: ToyConfig
    out: Path
    base_model: Path | None = None
    config_file: Path | None = None  # OUT/toy.yaml: the config of this run, read by the builder and lm-eval
    timings_s: dict[str, float] = field(default_factory=dict)
    log: object = print

    def stage(self, name: str):
        return _Timer(self, name)


class _Timer:
    def __init__(self, ctx: DemoContext, name: str) -> None:
        self.ctx, self.name = ctx, name

    def __enter__(self):
        self.started = time.monotonic()
        self.ctx.log(f"[demo] {self.name} ...")
        return self

    def __exit__(self, *exc) -> None:
        seconds = time.monotonic() - self.started
        self.ctx.timings_s[self.name] = self.ctx.timings_s.get(self.name, 0.0) + seconds
        self.ctx.log(f"[demo] {self.name}: {seconds:.0f} s")


def variants(config: ToyConfig, strategy_count: int) -> list[Variant]:
    """The arms: star (the unimodal anchor), the n-curve n1..nK, the incorrect control, a fixed-budget pair (few
    problems x n vs many problems x 1, equal rows), RL only; those the build writes, filtered by `demo.arms`."""
    write = config.build_config({"model": "M"}).write
    top = min(write.max_n, strategy_count)
    ns = [n for n in (1, 2, 4, 8, 16, 32, 64) if n <= top]
    names = (["star"] if write.star else []) + [f"n{n}" for n in ns]
    if write.incorrect_max_n:
        names.append(f"incorrect-n{min(write.incorrect_max_n, top)}")
    for n in write.fixed_budget:
        names += [f"budget-n{n}-few", f"budget-n{n}-many"]
    every = [Variant(name, name) for name in names] + [Variant("rl-only", None)]
    if config.demo.arms is None:
        return every
    unknown = sorted(set(config.demo.arms) - {v.name for v in every})
    if unknown:
        raise ValueError(f"demo.arms: unknown {unknown}; choose from {[v.name for v in every]}")
    return [v for v in every if v.name in config.demo.arms]


# ------------------------------------------------------------------------------------------------ dataset
def build_dataset(ctx: DemoContext) -> Path:
    from midrl_bench.builder.runner import build
    from midrl_bench.config import to_dict
    from midrl_bench.sources.toy import use_world

    out = ctx.out / "dataset"
    config = ctx.config.build_config({"model": str(ctx.base_model)})
    (ctx.out / "build.yaml").write_text(yaml.safe_dump(to_dict(config), sort_keys=False), encoding="utf-8")
    with use_world(ctx.config_file):
        build(config, out, log=ctx.log)
    return out


def _library(ctx: DemoContext):
    from midrl_bench.heuristics import load_library

    return load_library(ctx.config.world.strategies_dir)


# ------------------------------------------------------------------------------------------------ training
def write_rl_prompts(ctx: DemoContext) -> Path:
    """The RL split as the pipeline's prompt file (problem/answer rows)."""
    from midrl_bench.jsonl import write_jsonl
    from midrl_bench.sources.toy import source

    path = ctx.out / "rl_prompts.jsonl"
    write_jsonl(path, source("rl", config=str(ctx.config_file)).load_rows())
    return path


def pipeline_spec_dict(ctx: DemoContext, variant: Variant, seed: int, dataset: Path, prompts: Path) -> dict:
    """The pipeline recipe of one arm: mid-train on its dataset config, then GRPO on the RL split."""
    from midrl_bench.config import to_dict

    spec = ctx.config.pipeline_spec({
        "name": f"toy-{variant.name}-seed{seed}", "seed": str(seed), "model": str(ctx.base_model),
        "dataset": str(dataset), "config": variant.dataset_config or "n1", "prompts": str(prompts),
        "reward_log": str(shares_log(ctx, variant, seed))})
    data = to_dict(spec)
    data.pop("recipe_path", None)
    return data


def shares_log(ctx: DemoContext, variant: Variant, seed: int) -> Path:
    """Where the `toy_correctness` reward logs the strategy shares of this arm's GRPO rollouts."""
    return ctx.out / "runs" / f"{variant.name}-seed{seed}" / "strategy_shares.jsonl"


def train_variant(ctx: DemoContext, variant: Variant, seed: int, dataset: Path, prompts: Path) -> dict[str, str]:
    """Run the variant's recipe with the TRL backend; returns checkpoints by stage ("midtrain", "rl")."""
    from midrl_bench.pipeline.runner import run_pipeline
    from midrl_bench.pipeline.spec import load_spec

    run_dir = ctx.out / "runs" / f"{variant.name}-seed{seed}"
    run_dir.mkdir(parents=True, exist_ok=True)
    recipe = run_dir.parent / f"{variant.name}-seed{seed}.yaml"
    recipe.write_text(yaml.safe_dump(pipeline_spec_dict(ctx, variant, seed, dataset, prompts), sort_keys=False),
                      encoding="utf-8")
    stages = "all" if variant.dataset_config else "rl"
    if not (run_dir / "rl" / "DONE").is_file():
        shares_log(ctx, variant, seed).unlink(missing_ok=True)  # GRPO (re)starts: its log starts empty
    result = run_pipeline(load_spec(recipe), "trl", stages=stages, out_dir=run_dir)
    return {stage: path for stage, path in result.checkpoints.items() if stage != "base"}


# ------------------------------------------------------------------------------------------------ evaluation
def evaluate(ctx: DemoContext, checkpoint: str, out_dir: Path, seed: int) -> Path:
    """pass@k on `midrl_toy` by lm-eval with the pack; results and samples saved as `lm_eval --output_path
    --log_samples` saves them (what `midrl judge` and `midrl leaderboard submit` read). The lm-eval TaskManager is
    built once per demo, since indexing lm-eval's task registry dominates a tiny model's evaluation time."""
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker

    if _eval_files(out_dir):
        return out_dir
    spec = ctx.config.eval_spec
    tracker = EvaluationTracker(output_path=str(out_dir))
    results = simple_evaluate(
        model="hf", model_args={"pretrained": checkpoint, "dtype": "float32"}, device="cpu",
        tasks=list(spec.tasks), task_manager=_task_manager(ctx), apply_chat_template=True, log_samples=True,
        batch_size=spec.batch_size, limit=ctx.config.demo.eval_problems, gen_kwargs=eval_gen_kwargs(ctx),
        random_seed=seed, numpy_random_seed=seed, torch_random_seed=seed, fewshot_random_seed=seed,
        evaluation_tracker=tracker,
    )
    samples = results.pop("samples")
    tracker.save_results_aggregated(results=results, samples=samples)
    for task_name in results["configs"]:
        tracker.save_results_samples(task_name=task_name, samples=samples[task_name])
    if not _eval_files(out_dir):
        raise RuntimeError(f"lm-eval wrote no results for {checkpoint} under {out_dir}")
    return out_dir


def eval_gen_kwargs(ctx: DemoContext) -> dict:
    """lm-eval `--gen_kwargs` of every evaluation, declared in each submission (the recipe's `eval` block)."""
    return ctx.config.eval_spec.gen_kwargs()


def _task_manager(ctx: DemoContext):
    """lm-eval's TaskManager for this run's metadata, built once per process (indexing lm-eval's task registry takes
    about 6 s; a worker process reuses it for every job it runs)."""
    key = json.dumps(task_metadata(ctx), sort_keys=True)
    if key not in _TASK_MANAGERS:
        from lm_eval.tasks import TaskManager

        from midrl_bench.tasks import include_path

        _TASK_MANAGERS[key] = TaskManager(include_path=include_path(), metadata=task_metadata(ctx))
    return _TASK_MANAGERS[key]


def task_metadata(ctx: DemoContext) -> dict:
    """lm-eval metadata of `midrl_toy` in this run: samples per problem, and the world whose eval split it serves."""
    return {"repeats": ctx.config.eval_spec.repeats, "toy_config": str(ctx.config_file),
            "size": ctx.config.world.eval_problems}


def _eval_files(out_dir: Path) -> list[Path]:
    from midrl_bench.tasks.lm_eval_files import results_files

    return results_files(out_dir) if out_dir.is_dir() else []


def read_pass_at_k(out_dir: Path) -> dict[str, float]:
    from midrl_bench.tasks.lm_eval_files import parse_metric_key

    results = json.loads(_eval_files(out_dir)[-1].read_text(encoding="utf-8"))["results"]["midrl_toy"]
    return {parsed.metric + ("_stderr" if parsed.part == "stderr" else ""): value for key, value in results.items()
            if (parsed := parse_metric_key(key)) and parsed.family == "pass" and parsed.part in ("value", "stderr")
            and isinstance(value, float)}  # pass@k and pass@k_stderr


def judge(ctx: DemoContext, eval_dir: Path) -> dict:
    """Composition labels of an evaluation's samples with the rules labeller and the toy strategy library."""
    from midrl_bench.judge.cli import main as judge_main

    out = eval_dir / "judge"
    report = out / "report.json"
    if not report.is_file():
        code = judge_main([str(eval_dir), "-o", str(out), "--labeller", "rules",
                           "--library", str(ctx.config.world.strategies_dir)])
        if code != 0:
            raise RuntimeError(f"midrl judge failed on {eval_dir} (exit {code})")
    return json.loads(report.read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------------ leaderboard
def submission(ctx: DemoContext, variant: Variant, seed: int, parameters: int) -> dict:
    """submission.json of one final checkpoint (the toy models live only on this machine: revision `local`)."""
    recipe = f"{ctx.out.name}/runs/{variant.name}-seed{seed}.yaml"
    mid = None if variant.dataset_config is None else {
        "dataset": "midrl-toy/heuristic-solutions", "config": variant.dataset_config, "version": "0.1.0"}
    return {"schema_version": 1,
            "model": {"id": f"midrl-toy/{variant.name}-seed{seed}-rl", "revision": "local",
                      "display_name": f"toy {variant.name} + GRPO (seed {seed})", "parameters": parameters},
            "mid_training": mid, "rl": {"backend": "trl", "recipe": recipe}, "contact": "midrl demo (local run)",
            "generation": eval_gen_kwargs(ctx),  # evaluate()'s --gen_kwargs, declared
            "notes": "Embedded tiny world; produced by `midrl demo`."}


def submit_entry(ctx: DemoContext, eval_dir: Path, payload: dict) -> bool:
    """Copy the lm-eval files beside a submission.json (a run directory holds nothing else: the judge's outputs stay
    in `eval_dir`) and submit it to the demo's local store."""
    import shutil

    from midrl_bench.leaderboard.cli import main as leaderboard_main
    from midrl_bench.leaderboard.store import ENTRIES_DIR, entry_id_for
    from midrl_bench.tasks.lm_eval_files import results_files, samples_files

    store = ctx.out / "leaderboard" / "store"
    if (store / ENTRIES_DIR / entry_id_for(payload, allow_local=True) / "entry.json").is_file():
        return True  # accepted by an earlier, interrupted run of this demo (the store takes one entry per revision)
    run_dir = ctx.out / "leaderboard" / "submissions" / eval_dir.name
    run_dir.mkdir(parents=True, exist_ok=True)
    for path in [*results_files(eval_dir), *samples_files(eval_dir)]:
        (run_dir / path.relative_to(eval_dir)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, run_dir / path.relative_to(eval_dir))
    (run_dir / "submission.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    code = leaderboard_main(["submit", str(run_dir), "--store", str(store), "--allow-partial", "--allow-local"])
    return code == 0


def build_leaderboard_site(ctx: DemoContext) -> Path:
    from midrl_bench.leaderboard.cli import main as leaderboard_main

    site = ctx.out / "leaderboard" / "site"
    leaderboard_main(["build", "--store", str(ctx.out / "leaderboard" / "store"), "-o", str(site)])
    return site


def parameter_count(model_dir: Path) -> int:
    from transformers import AutoModelForCausalLM

    return sum(p.numel() for p in AutoModelForCausalLM.from_pretrained(str(model_dir)).parameters())


# ------------------------------------------------------------------------------------------------ the run
def evaluate_checkpoint(ctx: DemoContext, checkpoint: str, name: str, seed: int) -> dict:
    """pass@k and composition of one checkpoint."""
    with ctx.stage("evaluate (lm-eval, midrl_toy)"):
        eval_dir = evaluate(ctx, checkpoint, ctx.out / "evals" / name, seed)
    with ctx.stage("judge (rules labeller)"):
        report = judge(ctx, eval_dir)
    composition = report["composition"]["rules"]
    return {"eval_dir": str(eval_dir), "pass_at_k": read_pass_at_k(eval_dir),
            "composed_share": composition["composed_share"]["mean"],
            "composed_share_stderr": composition["composed_share"]["stderr"],
            "frequencies": composition["frequencies"],
            "composition_judged_with": {"library": report["library"], "labeller": report["labellers"]["rules"]}}


def train_and_evaluate(ctx: DemoContext, variant: Variant, seed: int, dataset: Path, prompts: Path) -> dict:
    """One arm: mid-training + GRPO, then its evaluations and composition labels (before RL where asked)."""
    with ctx.stage("mid-train + GRPO (trl)"):
        checkpoints = train_variant(ctx, variant, seed, dataset, prompts)
    result = {"variant": variant.name, "seed": seed, "strategy_shares": str(shares_log(ctx, variant, seed))}
    before = ctx.config.demo.before_rl
    if "midtrain" in checkpoints and (before is None or variant.name in before):
        result["before_rl"] = evaluate_checkpoint(ctx, checkpoints["midtrain"], f"{variant.name}-seed{seed}-mid", seed)
    result["after_rl"] = evaluate_checkpoint(ctx, checkpoints["rl"], f"{variant.name}-seed{seed}-rl", seed)
    return result


def submit_arm(ctx: DemoContext, variant: Variant, seed: int, result: dict) -> dict:
    """The arm's final checkpoint into the demo's leaderboard store (one writer: always this process)."""
    with ctx.stage("leaderboard submit"):
        payload = submission(ctx, variant, seed, parameter_count(ctx.base_model))
        result["leaderboard_accepted"] = submit_entry(ctx, Path(result["after_rl"]["eval_dir"]), payload)
    return result


def evaluate_base_and_run_arms(ctx: DemoContext, arms: list[tuple[Variant, int]], dataset: Path,
                               prompts: Path) -> tuple[dict, list[dict]]:
    """The base model's evaluation and every (variant, seed) arm, `demo.workers` at a time; the arms' results in
    the order of `arms`. A job that fails is raised only once the others have finished, so a re-run resumes with
    all of their work kept."""
    seed = ctx.config.demo.seed
    workers = min(ctx.config.demo.workers, len(arms) + 1)
    if workers <= 1:
        base = evaluate_checkpoint(ctx, str(ctx.base_model), "base", seed)
        return base, [submit_arm(ctx, variant, arm_seed, train_and_evaluate(ctx, variant, arm_seed, dataset, prompts))
                      for variant, arm_seed in arms]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, wait

    import torch

    threads = max(1, torch.get_num_threads() // workers)
    ctx.log(f"[demo] the base evaluation and {len(arms)} arms, {workers} at a time in worker processes of "
            f"{threads} torch thread(s) each")
    shared = (ctx.config, ctx.out, ctx.base_model, ctx.config_file)
    jobs = {"base": (1, _base_in_worker, (*shared, seed))}
    jobs |= {index: (_arm_work(ctx, variant), _arm_in_worker, (*shared, variant, arm_seed, dataset, prompts))
             for index, (variant, arm_seed) in enumerate(arms)}
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no torch or lm-eval state inherited
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(threads,)) as pool:
        futures = {key: pool.submit(function, *args)  # the longest first: no long job left alone at the end
                   for key, (_, function, args) in sorted(jobs.items(), key=lambda item: -item[1][0])}
        wait(futures.values())
    outcomes = {key: future.result() for key, future in futures.items()}
    for _, timings in outcomes.values():  # stage times summed over workers (the report says so)
        for name, seconds in timings.items():
            ctx.timings_s[name] = ctx.timings_s.get(name, 0.0) + seconds
    runs = [submit_arm(ctx, variant, arm_seed, outcomes[index][0]) for index, (variant, arm_seed) in enumerate(arms)]
    return outcomes["base"][0], runs


def _arm_work(ctx: DemoContext, variant: Variant) -> int:
    """Stages an arm runs (GRPO, its evaluation after RL, mid-training, its evaluation before RL); the base
    evaluation is 1."""
    before = ctx.config.demo.before_rl
    evaluated_before = variant.dataset_config is not None and (before is None or variant.name in before)
    return 2 + (variant.dataset_config is not None) + evaluated_before


def _init_worker(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def _worker_context(config: ToyConfig, out: Path, base_model: Path, config_file: Path, label: str) -> DemoContext:
    """A demo context in a worker process; its log lines carry the job's name."""
    import sys

    return DemoContext(config=config, out=out, base_model=base_model, config_file=config_file,
                       log=lambda line: print(f"[{label}] {line}", file=sys.stderr, flush=True))  # as the CLI's log


def _base_in_worker(config: ToyConfig, out: Path, base_model: Path, config_file: Path,
                    seed: int) -> tuple[dict, dict[str, float]]:
    ctx = _worker_context(config, out, base_model, config_file, "base")
    return evaluate_checkpoint(ctx, str(base_model), "base", seed), ctx.timings_s


def _arm_in_worker(config: ToyConfig, out: Path, base_model: Path, config_file: Path, variant: Variant, seed: int,
                   dataset: Path, prompts: Path) -> tuple[dict, dict[str, float]]:
    ctx = _worker_context(config, out, base_model, config_file, f"{variant.name}-seed{seed}")
    return train_and_evaluate(ctx, variant, seed, dataset, prompts), ctx.timings_s


def write_run_config(config: ToyConfig, out: Path) -> Path:
    """OUT/toy.yaml: this run's whole config (re-loadable with `midrl demo --config`); a resumed run must match it."""
    from midrl_bench.config import to_dict
    from midrl_bench.toyworld.config import load_toy_config

    path = out / "toy.yaml"
    if path.is_file():  # resuming: the same world, model, builder and recipe (the demo block may differ: --seeds)
        old = load_toy_config(path)
        changed = [name for name in ("world", "model", "pretrain", "gate", "build", "train")
                   if getattr(old, name) != getattr(config, name)]
        if changed:
            raise ValueError(f"{path}: this output directory holds a run with another {', '.join(changed)}; "
                             "use a new --out")
    path.write_text(yaml.safe_dump(to_dict(config), sort_keys=False), encoding="utf-8")
    return path


def run_demo(config: ToyConfig, out: Path, log=print) -> dict:
    """Run every stage; returns the results record (also written to OUT/results.json) for the report."""
    from midrl_bench.provenance import provenance_record
    from midrl_bench.toyworld.gate import gate_result, gate_text
    from midrl_bench.toyworld.model import pretrained_model

    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    ctx = DemoContext(config=config, out=out, log=log, config_file=write_run_config(config, out))
    with ctx.stage("pre-trained tiny model"):
        ctx.base_model = pretrained_model(config, log=log)
    with ctx.stage("gate check"):
        gate = gate_result(config, ctx.base_model, log=log)
    log(gate_text(gate))
    with ctx.stage("self-generated dataset (midrl build)"):
        dataset = build_dataset(ctx)
    prompts = write_rl_prompts(ctx)
    written = set(json.loads((dataset / "manifest.json").read_text(encoding="utf-8"))["configs"])
    skipped = {}
    for variant in variants(config, len(_library(ctx))):
        if variant.dataset_config is not None and variant.dataset_config not in written:
            skipped[variant.name] = "the build wrote no such config (too few correct self-generated solutions)"
            log(f"[demo] skipping {variant.name}: {skipped[variant.name]}")
    arms = [(variant, config.demo.seed + offset) for offset in range(config.demo.seeds)
            for variant in variants(config, len(_library(ctx))) if variant.name not in skipped]
    base, runs = evaluate_base_and_run_arms(ctx, arms, dataset, prompts)
    with ctx.stage("leaderboard site"):
        site = build_leaderboard_site(ctx)
    record = {"base": base, "runs": runs, "skipped_variants": skipped, "dataset": str(dataset), "gate": gate,
              "config": str(ctx.config_file),
              "leaderboard_site": str(site),
              "timings_s": ctx.timings_s, "wall_s": time.monotonic() - started, "workers": config.demo.workers,
              "provenance": provenance_record(artefact="midrl-demo", base_model=str(ctx.base_model))}
    (out / "results.json").write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")
    return record
