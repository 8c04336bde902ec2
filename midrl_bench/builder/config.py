"""The builder's config: one strict YAML file (unknown keys rejected with their dotted path).

```yaml
name: midrl-heuristic-math          # dataset name, used in the card
version: 0.1.0                      # dataset version (X.Y.Z); `midrl publish` tags it as vX.Y.Z
seed: 1234                          # every random choice of the build derives from it
sources:                            # seed problems, in this order
  - {name: gsm8k_train, limit: 8}   # module midrl_bench.sources.<name>; limit = first N rows in source order
heuristics: {ids: [working_backwards, analogy], exemplars: 2}   # ids: null = the whole library
generation:
  backend: hf                       # hf | vllm | openai | ray | file (midrl_bench.generation.get_backend)
  options: {model: HuggingFaceTB/SmolLM2-135M-Instruct}
  sampling: {temperature: 0.8, top_p: 0.95, max_new_tokens: 384}
  samples_per_pair: 4               # candidates per problem x heuristic
  star_samples: 4                   # untargeted candidates per problem (the STaR baseline)
  shard_size: 64                    # target requests per resumable shard (whole problems; see plan.py)
  chat_template_kwargs: {date_string: 26 Jul 2024}   # pinned into every chat template (Llama-3.2 stamps a date)
adherence: {scorer: rules}          # rules | reward_model | judge
write: {max_n: 64, fixed_budget: [16], incorrect_max_n: 16, star: true}
```
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from midrl_bench.config import ConfigError, from_yaml, to_dict
from midrl_bench.provenance import sha256_text

VERSION_PATTERN = re.compile(r"^\d+\.\d+\.\d+$")
_DEVICE = re.compile(r"^(auto|cpu|cuda|cuda:\d+)$")
PINNED_TEMPLATE_DATE = "26 Jul 2024"  # Llama-3.x templates' own fallback date
DEFAULT_BENCHMARKS = ["math500", "aime24", "aime25", "amc23", "hmmt25", "olympiadbench",
                      "musr_murder", "musr_object", "musr_team"]


@dataclass
class SourceSpec:
    name: str  # a module of midrl_bench.sources defining SOURCE, e.g. gsm8k_train
    limit: int | None = None  # keep the first `limit` rows (in source order); null = all

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"sources.{self.name}.limit: must be >= 1, got {self.limit}")


@dataclass
class HeuristicsSpec:
    ids: list[str] | None = None  # null = every heuristic of the library, ordered by id
    library_dir: Path | None = None  # null = the packaged library
    exemplars: int = 2  # few-shot exemplars per prompt, taken from the heuristic's own YAML

    def __post_init__(self) -> None:
        if self.exemplars < 0:
            raise ConfigError(f"heuristics.exemplars: must be >= 0, got {self.exemplars}")
        if self.ids is not None and len(set(self.ids)) != len(self.ids):
            raise ConfigError(f"heuristics.ids: duplicates in {self.ids}")


@dataclass
class SamplingSpec:
    temperature: float = 0.8
    top_p: float = 0.95
    max_new_tokens: int = 1024
    stop: list[str] = field(default_factory=list)


@dataclass
class GenerationSpec:
    backend: Literal["hf", "vllm", "openai", "file", "ray"]  # ray = Ray Data LLM over a cluster (generation/ray_llm.py)
    options: dict[str, Any] = field(default_factory=dict)  # passed to get_backend(backend, **options)
    sampling: SamplingSpec = field(default_factory=SamplingSpec)
    samples_per_pair: int = 4  # candidates per (problem, heuristic)
    star_samples: int = 4  # untargeted candidates per problem, for the `star` config; 0 = none
    shard_size: int = 64  # target requests per shard (whole problems per shard): the unit of resumption and of --shard
    # Extra variables for the model's chat template. The date is pinned because Llama-3.2 templates otherwise stamp
    # today's date (strftime_now) into every prompt, so the same config would render different prompts each day.
    chat_template_kwargs: dict[str, Any] = field(default_factory=lambda: {"date_string": PINNED_TEMPLATE_DATE})

    def __post_init__(self) -> None:
        from midrl_bench.generation.base import validate_backend_options

        validate_backend_options(self.backend, self.options, where="generation.options")
        for name in ("samples_per_pair", "shard_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"generation.{name}: must be >= 1, got {getattr(self, name)}")
        if self.star_samples < 0:
            raise ConfigError(f"generation.star_samples: must be >= 0, got {self.star_samples}")


@dataclass
class AdherenceSpec:
    scorer: Literal["rules", "reward_model", "judge"] = "rules"
    model: str | None = None  # reward_model: a local folder or Hub id of a sequence-classification RM
    revision: str | None = None  # reward_model: pinned Hub revision
    batch_size: int = 8  # reward_model: pairs per forward pass (per device)
    max_length_tokens: int = 2048  # reward_model: truncation length
    # reward_model: devices holding one replica each ("auto" = every visible GPU, else CPU); e.g. [cuda:0, cuda:1]
    devices: list[str] = field(default_factory=lambda: ["auto"])
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"  # reward_model: auto = bf16 on GPU, fp32 on CPU
    backend: Literal["hf", "vllm", "openai", "file", "ray"] | None = None  # judge: generation backend
    options: dict[str, Any] = field(default_factory=dict)  # judge: get_backend options
    sampling: SamplingSpec = field(default_factory=lambda: SamplingSpec(temperature=0.0, top_p=1.0, max_new_tokens=64))

    def __post_init__(self) -> None:
        if self.scorer == "reward_model" and not self.model:
            raise ConfigError("adherence.model: required when adherence.scorer is 'reward_model'")
        if self.scorer == "judge" and not self.backend:
            raise ConfigError("adherence.backend: required when adherence.scorer is 'judge'")
        if self.batch_size < 1 or self.max_length_tokens < 1:
            raise ConfigError("adherence: batch_size and max_length_tokens must be >= 1")
        if not self.devices or any(not _DEVICE.match(d) for d in self.devices):
            raise ConfigError(f"adherence.devices: expected 'auto', 'cpu', 'cuda' or 'cuda:N' entries, got {self.devices}")
        if "auto" in self.devices and len(self.devices) > 1:
            raise ConfigError("adherence.devices: 'auto' cannot be combined with other devices")
        if self.backend:
            from midrl_bench.generation.base import validate_backend_options

            validate_backend_options(self.backend, self.options, where="adherence.options")


@dataclass
class VerifySpec:
    timeout_s: float = 5.0  # hard per-item limit of the math checker, seconds (finite, > 0)

    def __post_init__(self) -> None:
        if isinstance(self.timeout_s, bool) or not math.isfinite(self.timeout_s) or self.timeout_s <= 0:
            raise ConfigError(f"verify.timeout_s: must be a finite number of seconds > 0, got {self.timeout_s!r}")


@dataclass
class DecontaminationSpec:
    benchmarks: list[str] = field(default_factory=lambda: list(DEFAULT_BENCHMARKS))
    ngram_size: int = 13  # word n-grams (lower-cased, punctuation stripped)
    min_shared_ngrams: int = 1  # a row sharing at least this many distinct n-grams with one benchmark text is dropped

    def __post_init__(self) -> None:
        if self.ngram_size < 1 or self.min_shared_ngrams < 1:
            raise ConfigError("decontamination: ngram_size and min_shared_ngrams must be >= 1")


@dataclass
class DiversitySpec:
    embedder: str = "minilm"  # "minilm" (offline package), any sentence-transformers name, or "ngram" (no model)
    ngram_n: int = 3  # n of the n-gram kernel (always reported, needs no model)


@dataclass
class WriteSpec:
    max_n: int = 64  # configs n1, n2, n4, ... up to min(max_n, number of heuristics)
    fixed_budget: list[int] = field(default_factory=lambda: [16])  # n of each fixed-budget pair
    incorrect_max_n: int = 16  # configs incorrect-n1 ... (heuristic-guided wrong answers); 0 = none
    star: bool = True  # the `star` config (untargeted correct solutions)
    rows_per_file: int = 100_000  # parquet rows per data file

    def __post_init__(self) -> None:
        if self.max_n < 1 or self.rows_per_file < 1 or self.incorrect_max_n < 0:
            raise ConfigError("write: max_n and rows_per_file must be >= 1, incorrect_max_n >= 0")
        if any(n < 2 for n in self.fixed_budget):
            raise ConfigError(f"write.fixed_budget: every n must be >= 2, got {self.fixed_budget}")


@dataclass
class BuildConfig:
    name: str
    version: str
    sources: list[SourceSpec]
    generation: GenerationSpec
    seed: int = 0
    description: str = ""  # one paragraph for the dataset card
    repo_id: str | None = None  # the Hub dataset repo (ORG/NAME) it is published to, for the card's load example
    license: str = "other"  # HF licence id of the released data (mind the sources' and the generator's terms)
    changelog: Path | None = None  # the dataset CHANGELOG shipped with it; null = datasets_cards/CHANGELOG.md
    heuristics: HeuristicsSpec = field(default_factory=HeuristicsSpec)
    verify: VerifySpec = field(default_factory=VerifySpec)
    adherence: AdherenceSpec = field(default_factory=AdherenceSpec)
    decontamination: DecontaminationSpec = field(default_factory=DecontaminationSpec)
    diversity: DiversitySpec = field(default_factory=DiversitySpec)
    write: WriteSpec = field(default_factory=WriteSpec)

    def __post_init__(self) -> None:
        if not VERSION_PATTERN.match(self.version):
            raise ConfigError(f"version: {self.version!r} is not X.Y.Z")
        if not self.sources:
            raise ConfigError("sources: at least one source is required")
        if self.generation.star_samples == 0 and self.write.star:
            raise ConfigError("write.star: needs generation.star_samples >= 1 (untargeted generation)")

    def config_hash(self) -> str:
        """sha256 of the canonical config; a build directory only resumes with the same hash."""
        import json

        return sha256_text(json.dumps(to_dict(self), sort_keys=True, ensure_ascii=False))


def load_config(path: str | Path) -> BuildConfig:
    return from_yaml(BuildConfig, path)
