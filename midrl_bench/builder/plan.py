"""Plan stage: which problems, which heuristics, and one generation request per (problem, heuristic, sample).

The plan is a pure function of the config (and the source rows and library it names): problems in source
order (the first `limit` of each source); per problem, heuristics ordered by id with `samples_per_pair` samples
each, then `star_samples` untargeted samples. Every request has a stable key and its own seed derived from the
build seed and the key, so a sample never depends on batching or on which shard it lands in.

Shards hold whole problems (`shard_layout`): a problem's candidates are never split, so selection and
decontamination run shard by shard, and `--shard i/N` (`part_shards`) hands each machine a contiguous range of
shards, i.e. of problems. A part feeds its backend exactly the batches the unsharded build would, so parts merge
to the same bytes.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from midrl_bench.builder.config import BuildConfig
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


def problem_plan(config: BuildConfig, problem_id: str, heuristic_ids: list[str]) -> list[PlanItem]:
    """One problem's requests: heuristics (by id) x samples, then the untargeted samples."""
    targets = [(heuristic_id, sample) for heuristic_id in heuristic_ids
               for sample in range(config.generation.samples_per_pair)]
    targets += [(None, sample) for sample in range(config.generation.star_samples)]
    items = []
    for heuristic_id, sample in targets:
        key = request_key(problem_id, heuristic_id, sample)
        items.append(PlanItem(key, problem_id, heuristic_id, sample, request_seed(config.seed, key)))
    return items


def make_plan(config: BuildConfig, problems: list[dict[str, Any]], heuristic_ids: list[str]) -> list[PlanItem]:
    return [item for problem in problems for item in problem_plan(config, problem["problem_id"], heuristic_ids)]


def requests_per_problem(config: BuildConfig, heuristic_count: int) -> int:
    return heuristic_count * config.generation.samples_per_pair + config.generation.star_samples


def shard_layout(problem_count: int, per_problem: int, shard_size: int) -> list[tuple[int, int]]:
    """Problem ranges [start, end) of the shards: as many whole problems as fit `shard_size` requests (>= 1).

    >>> shard_layout(5, 3, 7)
    [(0, 2), (2, 4), (4, 5)]
    """
    step = max(1, shard_size // max(1, per_problem))
    return [(start, min(start + step, problem_count)) for start in range(0, problem_count, step)]


def part_shards(shard_count: int, part: int, parts: int) -> range:
    """The contiguous shard indices of part `part` of `parts` (`--shard part/parts`); balanced to within one.

    >>> [list(part_shards(5, i, 2)) for i in range(2)]
    [[0, 1, 2], [3, 4]]
    """
    if not 0 <= part < parts:
        raise ConfigError(f"--shard {part}/{parts}: need 0 <= i < N")
    base, extra = divmod(shard_count, parts)
    start = part * base + min(part, extra)
    return range(start, start + base + (1 if part < extra else 0))


def parse_part(text: str) -> tuple[int, int]:
    """`"i/N"` -> (i, N), zero-based: `--shard 0/4` is the first of four parts."""
    head, _, tail = text.partition("/")
    if not (head.isdigit() and tail.isdigit()) or int(tail) < 1 or int(head) >= int(tail):
        raise ConfigError(f"--shard {text!r}: expected i/N with 0 <= i < N (e.g. 0/4)")
    return int(head), int(tail)
