"""Labellers built and measured against a validation set, for every judge report.

- `Validation`: the labelled traces in use — the packaged set (`validation_set.py`) when the library covers its
  labels, or a user's `--validation FILE`. Calibration (rules, embed) uses its `dev` rows (the packaged dev split
  when a user file has none); quality is measured on its `test` rows.
- `make_labeller`: `rules` (calibrated when there are dev rows, the plain cue detector otherwise), `embed`
  (needs dev rows) or `llm`.
- `measure`: the labeller's quality on the test rows (`quality.labeller_quality`); their labels are cached under
  OUT/.midrl like the traces' labels, so an LLM judge is not asked twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from midrl_bench.judge.validation_set import ValidationItem, check_against_library, load_file, load_packaged, of_split

if TYPE_CHECKING:
    from midrl_bench.heuristics.library import HeuristicLibrary

LABELLER_NAMES = ("rules", "embed", "llm")


@dataclass(frozen=True)
class Validation:
    source: str  # "packaged" or the user's file
    dev: tuple[ValidationItem, ...]  # calibration rows
    test: tuple[ValidationItem, ...]  # measurement rows
    unavailable: str | None = None  # why no quality can be measured (then test is empty)

    def describe(self) -> dict[str, Any]:
        from midrl_bench.provenance import sha256_text

        digest = sha256_text("\n".join(f"{i.id}\t{i.split}\t{','.join(i.heuristics)}\t{i.text}"
                                       for i in (*self.dev, *self.test)))
        return {"source": self.source, "n_dev": len(self.dev), "n_test": len(self.test), "sha256": digest,
                "unavailable": self.unavailable}


def load_validation(library: HeuristicLibrary, path: str | Path | None = None) -> Validation:
    """The validation set for `library` (see module doc); `unavailable` says why when none fits."""
    packaged = load_packaged()
    packaged_fits = not check_against_library(packaged, library.ids)
    packaged_dev = tuple(of_split(packaged, "dev")) if packaged_fits else ()
    if path is not None:
        items = load_file(path)
        missing = check_against_library(items, library.ids)
        if missing:
            raise ValueError(f"{path}: field 'heuristics' names ids the library lacks: {missing}")
        dev = tuple(of_split(items, "dev")) or packaged_dev
        test = tuple(of_split(items, "test"))
        if not test:
            raise ValueError(f"{path}: field 'split': no rows with split 'test' to measure on")
        return Validation(str(path), dev, test)
    if not packaged_fits:
        missing = check_against_library(packaged, library.ids)
        return Validation("packaged", (), (), unavailable=(
            f"the packaged validation set labels heuristics this library lacks ({len(missing)}, e.g. {missing[0]}); "
            "pass --validation FILE with traces labelled for this library"))
    return Validation("packaged", packaged_dev, tuple(of_split(packaged, "test")))


@dataclass(frozen=True)
class LabellerOptions:
    min_hits: int = 1  # rules without calibration rows
    embed_model: str = "minilm"
    llm_backend: Any = None  # a generation backend (openai) for `llm`
    llm_settings: Any = None  # labellers.LLMJudgeSettings


def make_labeller(name: str, library: HeuristicLibrary, validation: Validation, options: LabellerOptions):
    from midrl_bench.judge.labellers import LLMJudgeSettings, LLMLabeller, RulesLabeller

    if name == "rules":
        if not validation.dev:
            return RulesLabeller(library, min_hits=options.min_hits)
        from midrl_bench.judge.rules import CalibratedRulesLabeller, fit_rules

        return CalibratedRulesLabeller(library, fit_rules(validation.dev, library))
    if name == "embed":
        from midrl_bench.judge.embed import EmbedLabeller, EmbedScorer, fit_embed

        if not validation.dev:
            raise ValueError("--labeller embed: no labelled dev traces for this library to fit thresholds on "
                             "(pass --validation FILE with rows of split 'dev')")
        scorer = EmbedScorer(library, options.embed_model)
        return EmbedLabeller(scorer, fit_embed(validation.dev, scorer))
    if name == "llm":
        if options.llm_backend is None:
            raise ValueError("--labeller llm: needs --judge-model (and --judge-base-url)")
        return LLMLabeller(options.llm_backend, library, options.llm_settings or LLMJudgeSettings())
    raise ValueError(f"--labeller: unknown labeller {name!r} (known: {', '.join(LABELLER_NAMES)})")


def validation_traces(items: Sequence[ValidationItem], validation: Validation) -> list:
    from midrl_bench.judge.traces import Trace

    task = f"validation-{validation.describe()['sha256'][:12]}"
    return [Trace(task, index, 0, item.text, {"validation_id": item.id}, "") for index, item in enumerate(items)]


def measure(labeller, validation: Validation, out_dir: Path) -> dict[str, Any]:
    """Quality of `labeller` on the validation test rows, or {"available": False, "reason": ...}."""
    from midrl_bench.judge.quality import labeller_quality
    from midrl_bench.judge.run import label_with_resume

    if validation.unavailable or not validation.test:
        return {"available": False, "reason": validation.unavailable or "no validation test rows"}
    labels = label_with_resume(labeller, validation_traces(validation.test, validation), out_dir)
    quality = labeller_quality([item.heuristics for item in validation.test], [label.ids for label in labels],
                               split="test", source=validation.source)
    quality["available"] = True
    quality["per_item"] = [{"id": item.id, "reference": list(item.heuristics),
                            "predicted": None if label.ids is None else list(label.ids)}
                           for item, label in zip(validation.test, labels, strict=True)]
    return quality
