"""The dataset card (`README.md`): a YAML header the Hub and `datasets` read, and a body rendered from
`datasets_cards/README.md.jinja`. Both are rendered from the manifest alone, so the card never disagrees with it.
The header goes through `huggingface_hub.DatasetCardData`, the Hub's own card-metadata class.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

TASK_CATEGORIES = ["text-generation", "question-answering"]
TAGS = ["math", "reasoning", "mid-training", "synthetic", "heuristics"]


def templates_dir() -> Path:
    """`datasets_cards/` — the installed `midrl_bench.datasets_cards` package, or the checkout's folder."""
    try:
        return Path(str(resources.files("midrl_bench.datasets_cards")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "datasets_cards"


def describe_config(name: str, info: dict[str, Any]) -> str:
    if name == "star":
        return "one untargeted (no heuristic) self-generated correct solution per problem: the STaR baseline"
    if match := re.fullmatch(r"incorrect-n(\d+)", name):
        return f"up to {match[1]} heuristic-guided solutions per problem with a WRONG final answer (the control)"
    if match := re.fullmatch(r"n(\d+)", name):
        nested = f"; each problem's rows include its n{int(match[1]) // 2} rows" if match[1] != "1" else ""
        return (f"up to {match[1]} correct heuristic-guided solutions per problem{nested}; "
                f"{info.get('problems_with_all_k', '?')} problem(s) have all {match[1]}")
    if match := re.fullmatch(r"budget-n(\d+)-(few|many)", name):
        if match[2] == "few":
            return f"fixed budget: {info['problems']} problems × {match[1]} solutions"
        return f"fixed budget: {info['problems']} problems × 1 solution (same rows as budget-n{match[1]}-few)"
    return "-"


def _size_category(rows: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if rows < limit:
            return label
    return "1M<n<10M"


def card_data(manifest: dict[str, Any]) -> Any:
    """The card's metadata as `huggingface_hub.DatasetCardData` (sources without a Hub id are left out)."""
    from huggingface_hub import DatasetCardData

    from midrl_bench.builder.write import card_features

    configs = manifest["configs"]
    hub_ids = sorted({s["hub_id"] for s in manifest["sources"] if s.get("hub_id")})
    features = card_features()
    return DatasetCardData(
        license=manifest["license"], pretty_name=manifest["name"], language=["en"], task_categories=TASK_CATEGORIES,
        size_categories=[_size_category(max((c["rows"] for c in configs.values()), default=0))],
        source_datasets=hub_ids or None, tags=TAGS,
        configs=[{"config_name": name, "data_files": [{"split": "train", "path": f"data/{name}/*.parquet"}]}
                 for name in configs],
        dataset_info=[{"config_name": name, "features": features,
                       "splits": [{"name": "train", "num_bytes": c["num_bytes"], "num_examples": c["rows"]}],
                       "download_size": c["download_size"], "dataset_size": c["num_bytes"]}
                      for name, c in configs.items()],
    )


def _body_context(manifest: dict[str, Any]) -> dict[str, Any]:
    config = manifest["config"]
    configs = manifest["configs"]
    generator = manifest["generator"]
    describe = generator.get("describe", {})
    return {
        **{key: manifest[key] for key in ("name", "version", "description", "seed", "config_hash", "dataset_sha256",
                                          "heuristics", "counts", "diversity", "sources", "reproducibility")},
        "repo_id": manifest.get("repo_id") or f"path/to/{manifest['name']}",
        "example_config": next(iter(configs), "n1"),
        "configs": [{"name": n, "rows": c["rows"], "problems": c.get("problems", "-"), "what": describe_config(n, c)}
                    for n, c in configs.items()],
        "skipped": manifest["skipped_configs"],
        "library_hash": manifest["heuristic_library"]["content_hash"],
        "generator": {"backend": generator.get("backend"),
                      "model": describe.get("model") or describe.get("model_id") or describe.get("path") or "-"},
        "sampling": config["generation"]["sampling"],
        "samples_per_pair": config["generation"]["samples_per_pair"],
        "star_samples": config["generation"]["star_samples"],
        "exemplars": config["heuristics"]["exemplars"],
        "timeout_s": config["verify"]["timeout_s"],
        "ngram_size": config["decontamination"]["ngram_size"],
        "min_shared": config["decontamination"]["min_shared_ngrams"],
        "benchmarks": config["decontamination"]["benchmarks"],
        "dropped": manifest["decontamination"]["dropped"][:50],
    }


def render_card(manifest: dict[str, Any]) -> str:
    import jinja2

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())),
                                      undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    body = environment.get_template("README.md.jinja").render(**_body_context(manifest))
    return f"---\n{card_data(manifest).to_yaml()}\n---\n\n{body}"
