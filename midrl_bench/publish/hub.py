"""Uploading a built dataset to the Hub as an immutable, tagged version.

A publish is four calls of `huggingface_hub.HfApi`, in this order:
1. `create_repo(repo_id, repo_type="dataset", private=..., exist_ok=True)`;
2. `list_repo_refs(...)`: if tag `vX.Y.Z` exists the publish stops here — a version is never overwritten;
3. `create_commit(...)` with one `CommitOperationAdd` per shipped file, plus a `CommitOperationDelete` for each
   file of the previous revision that this version no longer has (so the tag holds exactly this build);
4. `create_tag(tag="vX.Y.Z", revision=<the new commit>, exist_ok=False)`.
Before any of it the directory is checked locally: the manifest's version equals `--version`, `CHANGELOG.md` has
an entry for it, and every file's sha256 equals the manifest's (nothing edited after the build).
`--dry-run` prints exactly these operations and touches no network.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from midrl_bench.builder.manifest import MANIFEST, shipped_files
from midrl_bench.provenance import sha256_file

REPO_TYPE = "dataset"
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
KEEP_ON_HUB = {".gitattributes"}  # never deleted by a publish


class PublishError(RuntimeError):
    """The dataset cannot be published as asked; the message says why. Nothing was uploaded."""


@dataclass(frozen=True)
class PublishPlan:
    out_dir: Path
    repo_id: str
    version: str
    private: bool
    operations: tuple[Any, ...]  # huggingface_hub.CommitOperationAdd, sorted by path

    @property
    def tag(self) -> str:
        return f"v{self.version}"

    @property
    def commit_message(self) -> str:
        return f"Release {self.tag}"


def _check_directory(out_dir: Path, version: str) -> dict[str, Any]:
    manifest_path = out_dir / MANIFEST
    if not manifest_path.is_file():
        raise PublishError(f"{manifest_path}: missing; is {out_dir} a finished `midrl build` output?")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("version") != version:
        raise PublishError(f"--version {version} differs from {manifest_path} version {manifest.get('version')}; "
                           "rebuild with the version in the config")
    changelog = out_dir / "CHANGELOG.md"
    if not changelog.is_file() or not re.search(rf"^##\s+v?{re.escape(version)}\b", changelog.read_text("utf-8"), re.M):
        raise PublishError(f"{changelog}: no `## {version}` entry; describe the version before publishing it")
    listed = manifest.get("files", {})
    present = {p.relative_to(out_dir).as_posix(): p for p in shipped_files(out_dir)}
    if set(listed) != set(present):
        raise PublishError(f"{out_dir}: files differ from the manifest (extra {sorted(set(present) - set(listed))}, "
                           f"missing {sorted(set(listed) - set(present))})")
    changed = sorted(rel for rel, path in present.items() if sha256_file(path) != listed[rel])
    if changed:
        raise PublishError(f"{out_dir}: files changed since the build: {changed}")
    return manifest


def plan_publish(out_dir: str | Path, repo_id: str, version: str, private: bool = False) -> PublishPlan:
    from huggingface_hub import CommitOperationAdd

    out_dir = Path(out_dir)
    if not _REPO_ID.match(repo_id):
        raise PublishError(f"--repo-id {repo_id!r}: expected ORG/NAME")
    if not _VERSION.match(version):
        raise PublishError(f"--version {version!r}: expected X.Y.Z")
    manifest = _check_directory(out_dir, version)
    paths = sorted([*manifest["files"], MANIFEST])
    operations = tuple(CommitOperationAdd(path_in_repo=rel, path_or_fileobj=str(out_dir / rel)) for rel in paths)
    return PublishPlan(out_dir, repo_id, version, private, operations)


def describe_plan(plan: PublishPlan) -> list[str]:
    """The exact calls a publish makes, one per line (what `--dry-run` prints)."""
    common = f"repo_id={plan.repo_id!r}, repo_type={REPO_TYPE!r}"
    lines = [f"create_repo({common}, private={plan.private}, exist_ok=True)",
             f"list_repo_refs({common})  # refuse if tag {plan.tag!r} exists",
             f"list_repo_files({common})  # delete files of the previous revision not listed below",
             f"create_commit({common}, commit_message={plan.commit_message!r}, operations=[{len(plan.operations)} adds])"]
    for op in plan.operations:
        lines.append(f"  add {op.path_in_repo} sha256={op.upload_info.sha256.hex()} bytes={op.upload_info.size}")
    lines.append(f"create_tag({common}, tag={plan.tag!r}, revision=<commit oid>, exist_ok=False)")
    return lines


def publish(plan: PublishPlan, api: Any = None, token: str | None = None) -> dict[str, Any]:
    """Run the plan against the Hub (`api`: an `HfApi`, default `HfApi(token=token)`); returns commit and tag."""
    from huggingface_hub import CommitOperationDelete, HfApi

    api = api or HfApi(token=token)
    api.create_repo(plan.repo_id, repo_type=REPO_TYPE, private=plan.private, exist_ok=True)
    refs = api.list_repo_refs(plan.repo_id, repo_type=REPO_TYPE)
    if any(tag.name == plan.tag for tag in refs.tags):
        raise PublishError(f"{plan.repo_id}: tag {plan.tag} already exists; a published version is never "
                           "overwritten — bump the version")
    new_paths = {op.path_in_repo for op in plan.operations}
    stale = sorted(set(api.list_repo_files(plan.repo_id, repo_type=REPO_TYPE)) - new_paths - KEEP_ON_HUB)
    operations = [*plan.operations, *(CommitOperationDelete(path_in_repo=path) for path in stale)]
    commit = api.create_commit(plan.repo_id, operations, commit_message=plan.commit_message, repo_type=REPO_TYPE)
    api.create_tag(plan.repo_id, tag=plan.tag, revision=commit.oid, repo_type=REPO_TYPE,
                   tag_message=f"{plan.repo_id} {plan.tag}", exist_ok=False)
    return {"repo_id": plan.repo_id, "tag": plan.tag, "commit": commit.oid, "url": commit.commit_url,
            "uploaded": len(plan.operations), "deleted": stale}
