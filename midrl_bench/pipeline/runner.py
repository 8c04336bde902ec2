"""Run a recipe on a backend: plan -> midtrain -> rl, in one run directory with provenance.

Run directory (`out_dir`):
    spec.yaml            the recipe as given            plan.json        every stage's command and config
    provenance.json      code/library versions, spec, resolved plans, seeds, data hashes, reward counts
    base-model/          the built tiny model (recipes with `model.build_tiny` only)
    data/                midtrain.jsonl, rl_prompts.jsonl (the same files for every backend)
    midtrain/, rl/       stage dirs: checkpoint/ (final HF model), metrics.json, stage.json, DONE
A stage whose DONE marker exists is not run again, so re-running after a failure never redoes finished work. A run
directory made by another recipe or backend (per its plan.json) is refused, never reused under new provenance.
"""

from __future__ import annotations

import importlib
import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from midrl_bench.config import ConfigError, to_dict
from midrl_bench.jsonl import write_jsonl
from midrl_bench.pipeline import data as pipeline_data
from midrl_bench.pipeline.spec import STAGES, PipelineSpec
from midrl_bench.provenance import provenance_record, sha256_file

BACKENDS = {"trl": "midrl_bench.adapters.trl.backend", "openrlhf": "midrl_bench.adapters.openrlhf.backend",
            "verl": "midrl_bench.adapters.verl.backend"}
DONE_MARKER = "DONE"


@dataclass
class StagePlan:
    stage: str  # "midtrain" | "rl"
    backend: str
    model_in: str  # the model the stage starts from (a path or Hub id)
    checkpoint: str  # where the stage leaves its final Hugging Face model
    command: list[str]  # the launch command (run in-process instead when `in_process`)
    config: dict[str, Any]  # everything the stage reads: trainer arguments, data and reward files
    in_process: bool = False
    env: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RunContext:
    spec: PipelineSpec
    out_dir: Path
    base_model: str  # path or Hub id of the starting model
    base_revision: str | None

    def stage_dir(self, stage: str) -> Path:
        return self.out_dir / stage

    def data_file(self, name: str) -> Path:
        return self.out_dir / "data" / name


class Backend(Protocol):
    name: str

    def plan(self, ctx: RunContext, stages: list[str]) -> list[StagePlan]: ...

    def prepare(self, ctx: RunContext, plan: StagePlan) -> None: ...

    def run(self, ctx: RunContext, plan: StagePlan) -> dict[str, Any]: ...


def get_backend(name: str, spec: PipelineSpec) -> Backend:
    if name not in BACKENDS:
        raise ConfigError(f"backend: unknown backend {name!r}; known: {sorted(BACKENDS)}")
    return importlib.import_module(BACKENDS[name]).make_backend(spec)


@dataclass
class RunResult:
    out_dir: Path
    plans: list[StagePlan]
    checkpoints: dict[str, str]  # "base" / "midtrain" / "rl" -> model path or id
    metrics: dict[str, Any]


def resolve_stages(stage: str) -> list[str]:
    if stage == "all":
        return list(STAGES)
    if stage not in STAGES:
        raise ConfigError(f"--stage: {stage!r} is not one of {[*STAGES, 'all']}")
    return [stage]


def make_context(spec: PipelineSpec, out_dir: str | Path, build: bool) -> RunContext:
    out_dir = Path(out_dir).resolve()
    if spec.model.build_tiny is not None:
        base = out_dir / "base-model"
        if build:
            from midrl_bench.pipeline.tiny import build_tiny_model

            build_tiny_model(spec.model.build_tiny, base)
        return RunContext(spec, out_dir, str(base), None)
    local = spec.local_path(spec.model.id_or_path)
    return RunContext(spec, out_dir, str(local) if local else spec.model.id_or_path, spec.model.revision)


def plan_pipeline(spec: PipelineSpec, backend_name: str, stage: str, out_dir: str | Path
                  ) -> tuple[RunContext, Backend, list[StagePlan]]:
    """The plan only: nothing is built, downloaded or written."""
    ctx = make_context(spec, out_dir, build=False)
    backend = get_backend(backend_name, spec)
    return ctx, backend, backend.plan(ctx, resolve_stages(stage))


def run_pipeline(spec: PipelineSpec, backend: str, stages: str = "all", out_dir: str | Path = "runs/run",
                 dry_run: bool = False) -> RunResult:
    """Plan and (unless `dry_run`) run the stages; returns checkpoints and per-stage metrics."""
    ctx, backend_impl, plans = plan_pipeline(spec, backend, stages, out_dir)
    if dry_run:
        return RunResult(ctx.out_dir, plans, {}, {})
    refuse_foreign_run_dir(ctx, backend)
    ctx = make_context(spec, out_dir, build=True)
    _write_run_header(ctx, backend, plans)
    checkpoints, metrics, data_origins = {"base": ctx.base_model}, {}, {}
    for plan in plans:
        stage_dir = ctx.stage_dir(plan.stage)
        if (stage_dir / DONE_MARKER).is_file():
            metrics[plan.stage] = json.loads((stage_dir / DONE_MARKER).read_text(encoding="utf-8"))
        else:
            data_origins[plan.stage] = prepare_stage_data(ctx, plan.stage)
            backend_impl.prepare(ctx, plan)
            metrics[plan.stage] = _summary(backend_impl.run(ctx, plan))
            _write_stage_provenance(ctx, plan, data_origins[plan.stage], metrics[plan.stage])
        checkpoints[plan.stage] = plan.checkpoint
    _write_json(ctx.out_dir / "provenance.json", provenance_record(
        kind="midrl-pipeline-run", backend=backend, spec=to_dict(spec), seed=spec.seed, plans=[p.to_dict() for p in plans],
        checkpoints=checkpoints, data=data_origins, stage_metrics=metrics))
    return RunResult(ctx.out_dir, plans, checkpoints, metrics)


def refuse_foreign_run_dir(ctx: RunContext, backend: str) -> None:
    """An existing run directory is resumed only by the recipe and backend that made it (its plan.json says which):
    finished stages of another recipe must never be reused under this one's provenance. ConfigError otherwise."""
    plan_file = ctx.out_dir / "plan.json"
    if plan_file.is_file():
        try:
            previous = json.loads(plan_file.read_text(encoding="utf-8"))
            old_spec, old_backend = dict(previous["spec"]), previous["backend"]
        except (OSError, ValueError, KeyError, TypeError):
            raise ConfigError(f"--out {ctx.out_dir}: {plan_file.name} is unreadable, so the recipe of the run there is "
                              "unknown; choose a new --out directory") from None
        new_spec = json.loads(json.dumps(to_dict(ctx.spec), default=str))
        differing = sorted(key for key in set(old_spec) | set(new_spec) if old_spec.get(key) != new_spec.get(key))
        differing += ["backend"] if old_backend != backend else []
        if differing:
            raise ConfigError(f"--out {ctx.out_dir}: holds a run of a different recipe (differs in: "
                              f"{', '.join(differing)}); its checkpoints are not reused; choose a new --out directory")
    elif any((ctx.stage_dir(stage) / DONE_MARKER).is_file() for stage in STAGES):
        raise ConfigError(f"--out {ctx.out_dir}: holds finished stages but no plan.json, so their recipe is unknown; "
                          "choose a new --out directory")


def prepare_stage_data(ctx: RunContext, stage: str) -> dict[str, Any]:
    """Write the stage's data file (shared by all backends) and return its origin, hash and row counts."""
    if stage == "midtrain":
        records, origin = pipeline_data.load_midtrain_rows(ctx.spec)
        path = ctx.data_file(pipeline_data.MIDTRAIN_FILE)
        write_jsonl(path, records)
        return {**origin, "file": str(path), "file_sha256": sha256_file(path)}
    records, origin = pipeline_data.load_rl_prompts(ctx.spec)
    kept, dropped = pipeline_data.filter_prompt_length(records, load_tokenizer(ctx), ctx.spec.rl.max_prompt_tokens)
    path = ctx.data_file(pipeline_data.RL_PROMPTS_FILE)
    write_jsonl(path, kept)
    return {**origin, "file": str(path), "file_sha256": sha256_file(path), "kept": len(kept),
            "dropped_too_long": dropped}


def load_tokenizer(ctx: RunContext):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(ctx.base_model, revision=ctx.base_revision)
    template = ctx.spec.chat_template_text()
    if template is not None:
        tokenizer.chat_template = template
    return tokenizer


def stage_start_model(ctx: RunContext, stage: str, stages: list[str], checkpoint_of) -> str:
    """RL starts from the mid-trained model when mid-training is part of this run or already done in `out_dir`."""
    if stage == "rl" and ("midtrain" in stages or (ctx.stage_dir("midtrain") / DONE_MARKER).is_file()):
        return checkpoint_of("midtrain")
    return ctx.base_model


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    """The part of a stage result kept in provenance (the full log history stays in the stage's metrics.json)."""
    return {key: value for key, value in result.items() if key != "log_history"}


def _write_run_header(ctx: RunContext, backend: str, plans: list[StagePlan]) -> None:
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    if ctx.spec.recipe_path:
        shutil.copyfile(ctx.spec.recipe_path, ctx.out_dir / "spec.yaml")
    _write_json(ctx.out_dir / "plan.json", {"backend": backend, "spec": to_dict(ctx.spec),
                                             "plans": [plan.to_dict() for plan in plans]})


def _write_stage_provenance(ctx: RunContext, plan: StagePlan, data: dict[str, Any], metrics: dict[str, Any]) -> None:
    stage_dir = ctx.stage_dir(plan.stage)
    record = provenance_record(kind=f"midrl-{plan.stage}", backend=plan.backend, plan=plan.to_dict(),
                               seed=ctx.spec.seed, data=data, metrics=metrics)
    _write_json(stage_dir / "provenance.json", record)
    _write_json(stage_dir / DONE_MARKER, metrics)


def _write_json(path: Path, payload: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)
