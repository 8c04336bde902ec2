"""Plan stage: which problems, which heuristics, and one generation request per (problem, heuristic, sample).

The plan is a pure function of the config (and the source rows and library it names): problems in source
order (the first `limit` of each source), heuristics ordered by id, `samples_per_pair` samples per pair, then
`star_samples` untargeted samples per problem. Every request has a stable key and its own seed derived from
the build seed and the key, so a sample never depends on batching or on which shard it lands in.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from midrl_bench.build.config import BuildConfig
from midrl_bench.config import ConfigError
from midrl_bench.provenance import sha256_text

UNTARGETED = "-"  # heuristic id of untargeted (STaR) requests in keys and plan rows


def request_key(problem_id: str, heuristic_id: str | None, sample_index: int) -> str:
    """`<problem_id>|<heuristic_id or ->|<sample_index>` — the key the `file` backend looks completions up by."""
    from midrl_bench.generation.base import sample_key

    return sample_key(problem_id, heuristic_id or UNTARGETED, sample_index)


def request_seed(build_seed: int, key: str) -> int:
    return int(sha256_text(f"{build_seed}:{key}")[:8], 16)


def resolve_source(name: str) -> Any:
    """`midrl_bench.sources.<name>.SOURCE`, or `<module>.source(<suffix>)` for multi-part ones (musr_team)."""
    try:
        return importlib.import_module(f"midrl_bench.sources.{name}").SOURCE
    except ModuleNotFoundError as error:
        if error.name != f"midrl_bench.sources.{name}":
            raise
    prefix, _, suffix = name.rpartition("_")
    if prefix:
        try:
            module = importlib.import_module(f"midrl_bench.sources.{prefix}")
        except ModuleNotFoundError:
            module = None
        if module is not None and hasattr(module, "source"):
            try:
                return module.source(suffix)
            except KeyError:
                pass
    raise ConfigError(f"source {name!r}: no module midrl_bench.sources.{name} with SOURCE")


def load_problems(config: BuildConfig) -> list[dict[str, Any]]:
    """The seed problems: {problem_id, source, problem, answer}, ids unique across sources."""
    problems: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for spec in config.sources:
        rows = resolve_source(spec.name).load_rows()
        for row in rows[: spec.limit] if spec.limit else rows:
            problem_id = str(row["id"])
            if problem_id in seen:
                raise ConfigError(f"sources.{spec.name}: problem id {problem_id!r} also comes from {seen[problem_id]}")
            seen[problem_id] = spec.name
            problems.append({"problem_id": problem_id, "source": spec.name,
                             "problem": row["problem"], "answer": str(row["answer"])})
    return problems


def load_heuristics(config: BuildConfig) -> tuple[Any, list[Any]]:
    """(library, selected heuristics ordered by id)."""
    from midrl_bench.heuristics import load_library

    library = load_library(config.heuristics.library_dir)
    if config.heuristics.ids is None:
        return library, list(library.heuristics)
    unknown = sorted(set(config.heuristics.ids) - set(library.ids))
    if unknown:
        raise ConfigError(f"heuristics.ids: unknown heuristic id(s) {unknown}")
    return library, [library.get(hid) for hid in sorted(config.heuristics.ids)]


@dataclass(frozen=True)
class PlanItem:
    key: str
    problem_id: str
    heuristic_id: str | None  # None = untargeted (STaR)
    sample_index: int
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "problem_id": self.problem_id, "heuristic_id": self.heuristic_id,
                "sample_index": self.sample_index, "seed": self.seed}


def make_plan(config: BuildConfig, problems: list[dict[str, Any]], heuristic_ids: list[str]) -> list[PlanItem]:
    items: list[PlanItem] = []
    for problem in problems:
        for heuristic_id in heuristic_ids:
            for sample in range(config.generation.samples_per_pair):
                key = request_key(problem["problem_id"], heuristic_id, sample)
                items.append(PlanItem(key, problem["problem_id"], heuristic_id, sample, request_seed(config.seed, key)))
    for problem in problems:
        for sample in range(config.generation.star_samples):
            key = request_key(problem["problem_id"], None, sample)
            items.append(PlanItem(key, problem["problem_id"], None, sample, request_seed(config.seed, key)))
    return items


def shard_ranges(total: int, shard_size: int) -> list[tuple[int, int]]:
    return [(start, min(start + shard_size, total)) for start in range(0, total, shard_size)]
