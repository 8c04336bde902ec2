"""The lm-eval task class of the pack.

It is lm-eval's own ConfigurableTask plus the pack's scoring (`midrl_bench.tasks.scoring`), bound from
`dataset_kwargs.pack_task`. Settings come from the task's `metadata` (its YAML, overridden by lm-eval's
`--metadata '{...}'` or `TaskManager(metadata=...)`; lm-eval also merges `--model_args` into it):
- `repeats`: samples per problem (pass@k / maj@k for k = 1, 2, 4, ... <= repeats; larger k are absent);
- `extraction`: `standard` (default) or `strict` math answer extraction;
- `bootstrap_iters` / `bootstrap_seed`: size and seed of the 95% bootstrap intervals over problems;
- `checker_timeout_s`: the math checker's hard per-answer timeout;
- `tokenizer` / `pretrained` (from `--model_args`): the tokenizer response lengths are counted in; without one
  lengths are whitespace words and `truncation_rate` is not reported (`length_unit` says which was used).
What scored the task (checker settings; the sandbox for code tasks; the length unit) is added to the task's
metadata, which lm-eval writes into the results file under `configs`.
"""

from __future__ import annotations

import math
from functools import lru_cache

from lm_eval.api.task import ConfigurableTask

WORDS = "whitespace_words"
TRUNCATION_SLACK = 1  # tokens; see response_lengths


class MidrlTask(ConfigurableTask):
    def __init__(self, config: dict | None = None, **kwargs) -> None:
        from midrl_bench.tasks import registry, scoring

        config = dict(config or {})
        config.pop("class", None)
        self.pack_task = (config.get("dataset_kwargs") or {}).get("pack_task")
        if not self.pack_task:
            raise ValueError(f"task {config.get('task')!r}: dataset_kwargs.pack_task must name a pack task")
        metadata = dict(config.get("metadata") or {})
        self.settings = _settings(self.pack_task, metadata)
        name = metadata.get("tokenizer") or metadata.get("pretrained")
        self._tokenizer_spec = (str(name), metadata.get("revision") if not metadata.get("tokenizer") else None)
        self.length_unit = _length_unit(*self._tokenizer_spec) if name else WORDS
        repeats = self.settings["repeats"]
        if repeats is not None:
            config["repeats"] = repeats
        n = int(config.get("repeats") or 1)
        lookup = scoring.aggregations(self.settings["bootstrap_iters"], self.settings["bootstrap_seed"])
        names = scoring.metric_names(n, with_truncation=self.length_unit != WORDS)
        config["metric_list"] = [{"metric": name, "aggregation": lookup(name),
                                  "higher_is_better": scoring.higher_is_better(name)} for name in names]
        config["metadata"] = {**metadata, **_scoring_provenance(self.pack_task, self.settings, self.length_unit)}
        config["process_results"] = self._process_results  # lm-eval calls it per document
        registry.spec(self.pack_task)  # an unknown pack task fails here, before any data is read
        super().__init__(config=config, **kwargs)

    def _process_results(self, doc, results):
        """Per-document metrics of every kept repeat (lm-eval logs them in the samples row)."""
        from midrl_bench.tasks import scoring

        responses = [str(r) for r in (results[0] if results and isinstance(results[0], list) else results)]
        scores = scoring.score_doc(self.pack_task, doc, responses, policy=self.settings["extraction"],
                                   timeout_s=self.settings["checker_timeout_s"])
        lengths, truncated = response_lengths(responses, self.length_unit, self._tokenizer_spec,
                                              self.config.generation_kwargs or {})
        return scoring.doc_values(scores, lengths, truncated, self.length_unit)


def _settings(pack_task: str, metadata: dict) -> dict:
    """The pack's settings from the task metadata, each checked by name (one-line errors)."""
    from midrl_bench import stats
    from midrl_bench.tasks.scoring import POLICIES

    def integer(name: str, default, minimum: int):
        value = metadata.get(name, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit() \
                or int(value) < minimum:
            raise ValueError(f"{pack_task}: metadata.{name} must be an integer >= {minimum}, got {value!r}")
        return int(value)

    extraction = metadata.get("extraction", "standard")
    if extraction not in POLICIES:
        raise ValueError(f"{pack_task}: metadata.extraction must be one of {POLICIES}, got {extraction!r}")
    timeout = metadata.get("checker_timeout_s")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or not math.isfinite(timeout) or timeout <= 0):
        raise ValueError(f"{pack_task}: metadata.checker_timeout_s must be a finite number > 0, got {timeout!r}")
    return {"repeats": integer("repeats", None, 1), "extraction": extraction, "checker_timeout_s": timeout,
            "bootstrap_iters": integer("bootstrap_iters", stats.DEFAULT_BOOTSTRAP, 1),
            "bootstrap_seed": integer("bootstrap_seed", stats.DEFAULT_SEED, 0)}


@lru_cache(maxsize=8)
def _tokenizer(name: str, revision: str | None):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(name, revision=revision)


def _length_unit(name: str, revision: str | None) -> str:
    """"tokens:<name>" when the model's tokenizer loads here (offline included), else whitespace words."""
    try:
        _tokenizer(name, revision)
    except Exception:  # noqa: BLE001  (any failure to load a tokenizer means: count words, and say so)
        return WORDS
    return f"tokens:{name}"


def response_lengths(responses: list[str], unit: str, tokenizer: tuple[str, str | None],
                     generation_kwargs: dict) -> tuple[list[int], list[bool] | None]:
    """(length of each response, whether it hit max_gen_toks) — truncation only when counted in tokens.

    Lengths are the re-tokenised response (no special tokens). Decoding drops special tokens the model generated,
    so the count can be one short of the generated ids: a response within one token of `max_gen_toks` counts as
    truncated (a response that ends on its own exactly one token before the limit is the rare false positive).
    """
    if unit == WORDS:
        return [len(r.split()) for r in responses], None
    encoded = _tokenizer(*tokenizer)(responses, add_special_tokens=False)["input_ids"]
    lengths = [len(ids) for ids in encoded]
    limit = generation_kwargs.get("max_gen_toks")
    return lengths, [limit is not None and length >= int(limit) - TRUNCATION_SLACK for length in lengths]


def _scoring_provenance(pack_task: str, settings: dict, length_unit: str) -> dict:
    """What scored the task, recorded in the task's config and so in lm-eval's results file ("configs")."""
    from midrl_bench.tasks import registry

    record = {"scoring": {**{k: v for k, v in settings.items() if k != "repeats"}, "length_unit": length_unit,
                          "checker": registry.checker_settings(pack_task, settings["extraction"],
                                                               settings["checker_timeout_s"])}}
    if registry.spec(pack_task).checker == "code":
        from midrl_bench.tasks.code_scoring import sandbox_description

        record["sandbox"] = sandbox_description()
    return record
