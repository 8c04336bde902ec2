"""The built dataset as a Hub dataset repo: `README.md`, `data/<config>/*.parquet`, `manifest.json`, `CHANGELOG.md`.

`manifest.json` records the version, the full config and its hash, code commit and library versions, the generator
(backend description + sampling), the adherence scorer, the heuristic-library hash, source revisions, per-stage
counts, configs, decontamination hits, the diversity report, the dataset hash (over `data/`) and the sha256 of
every shipped file. It holds no timestamps or durations, so rebuilding gives the same bytes.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from midrl_bench.config import to_dict
from midrl_bench.provenance import provenance_record, sha256_file, sha256_text
from midrl_bench.publish.card import render_card, templates_dir

MANIFEST = "manifest.json"
FORMAT = "midrl-bench-dataset/1"


def dataset_sha256(out_dir: Path) -> str:
    """sha256 over the sorted (path, sha256) of every file under `data/`: the dataset's identity."""
    files = sorted(p for p in (out_dir / "data").rglob("*") if p.is_file())
    listing = "".join(f"{p.relative_to(out_dir).as_posix()} {sha256_file(p)}\n" for p in files)
    return sha256_text(listing)


def shipped_files(out_dir: Path) -> list[Path]:
    """Every file of the repo except the manifest itself and the build state."""
    return sorted(p for p in out_dir.rglob("*") if p.is_file() and p.name != MANIFEST
                  and ".midrl" not in p.relative_to(out_dir).parts and not p.name.endswith(".tmp"))


def _heuristic_table(ctx: Any, kept: list[dict[str, Any]]) -> list[dict[str, Any]]:
    table = []
    for heuristic in ctx.heuristics.values():
        scores = [r["adherence_score"] for r in kept if r["kind"] == "heuristic" and r["heuristic_id"] == heuristic.id]
        known = [s for s in scores if s is not None]
        table.append({"id": heuristic.id, "name": heuristic.name, "family": heuristic.family,
                      "source": heuristic.source, "selected": len(scores),
                      "mean_adherence": round(sum(known) / len(known), 4) if known else None})
    return table


def _sources(ctx: Any, origins: dict[str, Any]) -> list[dict[str, Any]]:
    from midrl_bench.build.plan import resolve_source

    entries = []
    for spec in ctx.config.sources:
        source = resolve_source(spec.name)
        entries.append({"name": spec.name, "hub_id": source.hub_id, "hub_revision": source.hub_revision,
                        "hub_config": source.hub_config, "licence": source.licence, "limit": spec.limit,
                        "origin": origins[spec.name]})
    return entries


def build_manifest(ctx: Any, summary: dict[str, Any], skipped: dict[str, str]) -> dict[str, Any]:
    store, config = ctx.store, ctx.config
    plan, decontaminated = store.get("plan"), store.get("decontaminated")
    counts = {stage: store.stage_counts(stage) for stage in
              ("plan", "generate", "verify", "adherence", "select", "decontaminate", "diversity")}
    return provenance_record(
        format=FORMAT, name=config.name, version=config.version, description=config.description,
        repo_id=config.repo_id, license=config.license, seed=config.seed, config=to_dict(config),
        config_hash=config.config_hash(),
        generator=store.get("generator") if store.has("generator") else {"backend": config.generation.backend},
        adherence=store.get("adherence_scorer") if store.has("adherence_scorer") else {"scorer": config.adherence.scorer},
        heuristic_library={"content_hash": plan["library_hash"], "size": plan["library_size"],
                           "selected_ids": plan["heuristic_ids"]},
        heuristics=_heuristic_table(ctx, decontaminated["kept"]), sources=_sources(ctx, plan["sources"]),
        decontamination={"benchmarks": decontaminated["benchmarks"], "dropped": decontaminated["dropped"]},
        counts=counts, configs=summary, skipped_configs=skipped, diversity=store.get("diversity"),
        dataset_sha256=dataset_sha256(store.out),
    )


def _changelog_source(ctx: Any) -> Path:
    path = Path(ctx.config.changelog) if ctx.config.changelog else templates_dir() / "CHANGELOG.md"
    if not path.is_file():
        raise FileNotFoundError(f"changelog: {path} does not exist")
    return path


def write_repo_files(ctx: Any, summary: dict[str, Any], skipped: dict[str, str]) -> dict[str, Any]:
    """Write CHANGELOG.md, README.md and (last) manifest.json next to the already written `data/`."""
    from midrl_bench.build.store import write_json

    out = ctx.store.out
    shutil.copyfile(_changelog_source(ctx), out / "CHANGELOG.md")
    manifest = build_manifest(ctx, summary, skipped)
    tmp = out / "README.md.tmp"
    tmp.write_text(render_card(manifest), encoding="utf-8")
    tmp.replace(out / "README.md")
    manifest["files"] = {p.relative_to(out).as_posix(): sha256_file(p) for p in shipped_files(out)}
    write_json(out / MANIFEST, manifest)
    return manifest
