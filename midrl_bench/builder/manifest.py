"""The built dataset as a Hub dataset repo: `README.md`, `data/<config>/*.parquet`, `manifest.json`, `CHANGELOG.md`.

`manifest.json` records the version, the full config and its hash, code commit and library versions, the generator
(backend description + sampling + chat-template variables), the adherence scorer, the math checker's settings, the
heuristic-library hash, source revisions, per-stage counts, configs, decontamination hits, the diversity report, what
is and is not bit-reproducible, the dataset hash (over `data/`) and the sha256 of every shipped file. It holds no
timestamps, durations or shard layout, so a resumed, a sharded-and-merged and an uninterrupted build give the same
bytes.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from midrl_bench.config import to_dict
from midrl_bench.provenance import provenance_record, sha256_file, sha256_text

MANIFEST = "manifest.json"
FORMAT = "midrl-bench-dataset/1"
# What a rebuild reproduces bit for bit; written into every manifest and card (docs/gpu.md explains it).
REPRODUCIBILITY = {
    "bit_reproducible": [
        "resuming a killed build: finished shards are never recomputed, so the output bytes are unchanged",
        "`--shard i/N` parts merged with `midrl build merge`: byte-identical to the unsharded build on the same "
        "generations",
        "every stage after generation (verify, adherence on CPU, select, decontaminate, write) given the same "
        "generations, config and library versions",
        "generation with the `hf` backend on CPU (per-request seeded sampling) and with the `file` backend",
    ],
    "not_bit_reproducible": [
        "generation with `vllm`, `openai` (vLLM/SGLang servers) or `ray`: batch composition, kernels and (by default) "
        "unseeded sampling change the texts between runs; the generations are the record, kept in .midrl/generate/",
        "reward-model adherence scores on GPU (bf16 kernels), which can reorder near-tied candidates",
    ],
    "pinned": "the chat template's date (generation.chat_template_kwargs.date_string), so prompts do not change "
              "with the day the build runs",
}


def dataset_sha256(out_dir: Path) -> str:
    """sha256 over the sorted (path, sha256) of every file under `data/`: the dataset's identity."""
    files = sorted(p for p in (out_dir / "data").rglob("*") if p.is_file())
    listing = "".join(f"{p.relative_to(out_dir).as_posix()} {sha256_file(p)}\n" for p in files)
    return sha256_text(listing)


def shipped_files(out_dir: Path) -> list[Path]:
    """Every file of the repo except the manifest itself and the build state."""
    return sorted(p for p in out_dir.rglob("*") if p.is_file() and p.name != MANIFEST
                  and ".midrl" not in p.relative_to(out_dir).parts and not p.name.endswith(".tmp"))


def _sources(ctx: Any, origins: dict[str, Any]) -> list[dict[str, Any]]:
    from midrl_bench.builder.plan import resolve_source

    entries = []
    for spec in ctx.config.sources:
        source = resolve_source(spec.name)
        entries.append({"name": spec.name, "hub_id": source.hub_id, "hub_revision": source.hub_revision,
                        "hub_config": source.hub_config, "licence": source.licence, "limit": spec.limit,
                        "origin": origins[spec.name]})
    return entries


def build_manifest(ctx: Any, summary: dict[str, Any], skipped: dict[str, str], heuristics: list[dict[str, Any]],
                   dropped: list[dict[str, Any]]) -> dict[str, Any]:
    from midrl_bench.builder.stages import STAGES
    from midrl_bench.verify.settings import checker_settings

    store, config = ctx.store, ctx.config
    plan = store.get("plan")
    counts = {stage.name: store.stage_counts(stage.name) for stage in STAGES if stage.name != "write"}
    return provenance_record(
        format=FORMAT, name=config.name, version=config.version, description=config.description,
        repo_id=config.repo_id, license=config.license, seed=config.seed, config=to_dict(config),
        config_hash=config.config_hash(),
        generator=store.get("generator") if store.has("generator") else {"backend": config.generation.backend},
        adherence=store.get("adherence_scorer") if store.has("adherence_scorer") else {"scorer": config.adherence.scorer},
        checker=checker_settings(timeout_s=config.verify.timeout_s),
        heuristic_library={"content_hash": plan["library_hash"], "size": plan["library_size"],
                           "selected_ids": plan["heuristic_ids"]},
        heuristics=heuristics, sources=_sources(ctx, plan["sources"]),
        decontamination={"benchmarks": store.get("decontamination_index")["benchmarks"], "dropped": dropped},
        counts=counts, configs=summary, skipped_configs=skipped, diversity=store.get("diversity"),
        reproducibility=REPRODUCIBILITY, dataset_sha256=dataset_sha256(store.out),
    )


def _changelog_source(ctx: Any) -> Path:
    from midrl_bench.builder.card import templates_dir

    path = Path(ctx.config.changelog) if ctx.config.changelog else templates_dir() / "CHANGELOG.md"
    if not path.is_file():
        raise FileNotFoundError(f"changelog: {path} does not exist")
    return path


def write_repo_files(ctx: Any, summary: dict[str, Any], skipped: dict[str, str], heuristics: list[dict[str, Any]],
                     dropped: list[dict[str, Any]]) -> dict[str, Any]:
    """Write CHANGELOG.md, README.md and (last) manifest.json next to the already written `data/`."""
    from midrl_bench.builder.card import render_card
    from midrl_bench.builder.store import write_json

    out = ctx.store.out
    shutil.copyfile(_changelog_source(ctx), out / "CHANGELOG.md")
    manifest = build_manifest(ctx, summary, skipped, heuristics, dropped)
    tmp = out / "README.md.tmp"
    tmp.write_text(render_card(manifest), encoding="utf-8")
    tmp.replace(out / "README.md")
    manifest["files"] = {p.relative_to(out).as_posix(): sha256_file(p) for p in shipped_files(out)}
    write_json(out / MANIFEST, manifest)
    return manifest
