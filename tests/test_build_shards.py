"""A build split over machines: `midrl build CONFIG --shard i/N` parts merged by `midrl build merge` give exactly the
bytes of the unsharded build (every shipped file and the dataset hash), with the `file` backend here and the real
`hf` backend (SmolLM2 on CPU) in the slow test; merge refuses incomplete, foreign or repeated parts by name.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml
from _build_fixtures import file_config, write_config

from midrl_bench.builder.cli import main as build_main
from midrl_bench.builder.config import BuildConfig, load_config
from midrl_bench.builder.plan import parse_part, part_shards, shard_layout
from midrl_bench.builder.runner import build, merge
from midrl_bench.builder.store import StoreError
from midrl_bench.config import ConfigError, from_dict

CI_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "ci.yaml"
QUIET = {"log": lambda line: None}


def _shipped(out: Path, commit_moved: bool = False) -> dict[str, str]:
    """sha256 of every file a user gets (data, card, manifest, changelog): the build's output.

    The manifest records the checkout's commit; when the shared checkout was committed to while the test ran
    (`commit_moved`), that one field is left out of the comparison, and only it.
    """
    digests = {}
    for path in sorted(out.rglob("*")):
        if path.is_file() and ".midrl" not in path.relative_to(out).parts:
            data = path.read_bytes()
            if commit_moved and path.name == "manifest.json":
                manifest = json.loads(data)
                manifest.pop("code_commit")
                data = json.dumps(manifest, sort_keys=True).encode()
            digests[path.relative_to(out).as_posix()] = hashlib.sha256(data).hexdigest()
    return digests


def _commit() -> str | None:
    from midrl_bench.provenance import git_commit

    return git_commit()


@pytest.mark.parametrize(("problems", "per_problem", "shard_size", "expected"), [
    (5, 3, 7, [(0, 2), (2, 4), (4, 5)]),  # two whole problems (6 requests) fit 7
    (3, 10, 8, [(0, 1), (1, 2), (2, 3)]),  # a problem larger than a shard still gets a shard of its own
    (4, 1, 100, [(0, 4)]),  # everything fits one shard
])
def test_shards_hold_whole_problems(problems, per_problem, shard_size, expected):
    assert shard_layout(problems, per_problem, shard_size) == expected


def test_parts_are_contiguous_balanced_and_cover_every_shard_once():
    parts = [list(part_shards(10, i, 4)) for i in range(4)]
    assert parts == [[0, 1, 2], [3, 4, 5], [6, 7], [8, 9]]
    assert [list(part_shards(2, i, 3)) for i in range(3)] == [[0], [1], []]  # more parts than shards: one idles
    assert parse_part("3/8") == (3, 8)
    for bad in ("8/8", "1", "-1/4", "a/b", "0/0"):  # i must be in 0..N-1
        with pytest.raises(ConfigError, match="--shard"):
            parse_part(bad)


@pytest.fixture(scope="module")
def file_builds(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("shards")
    commit = _commit()
    config_path = write_config(tmp, file_config(tmp, shard_size=2))  # 3 problems of 10 requests: 3 shards
    config = load_config(config_path)
    whole = tmp / "whole"
    build(config, whole, **QUIET)
    # part 0 through the CLI (as a node would run it), parts 1 and 2 through the API
    assert build_main([str(config_path), "--out", str(tmp / "part0"), "--shard", "0/3"]) == 0
    for i in (1, 2):
        build(config, tmp / f"part{i}", part=(i, 3), **QUIET)
    return tmp, config, config_path, whole, commit


def test_merged_parts_are_byte_identical_to_the_unsharded_build(file_builds):
    tmp, _, _, whole, commit = file_builds
    merged = tmp / "merged"
    assert build_main(["merge", str(tmp / "part2"), str(tmp / "part0"), str(tmp / "part1"), "--out", str(merged)]) == 0
    moved = _commit() != commit
    want, got = _shipped(whole, moved), _shipped(merged, moved)
    assert any(path.startswith("data/") for path in want) and "manifest.json" in want
    assert got == want
    state = json.loads((merged / ".midrl/state.json").read_text())
    assert state["stages"] == json.loads((whole / ".midrl/state.json").read_text())["stages"]  # counts summed alike


def test_a_part_writes_only_its_own_shards_and_no_dataset(file_builds):
    tmp, *_ = file_builds
    part = tmp / "part1"
    assert sorted(p.name for p in (part / ".midrl/generate").iterdir()) == ["shard-00001.jsonl"]
    assert not (part / "data").exists() and not (part / "manifest.json").exists()


def test_merge_refuses_missing_repeated_and_foreign_parts(file_builds, tmp_path):
    tmp, config, _, whole, _ = file_builds
    parts = [tmp / f"part{i}" for i in range(3)]
    with pytest.raises(StoreError, match=r"missing \[2\]"):
        merge(parts[:2], tmp_path / "a", **QUIET)
    with pytest.raises(StoreError, match=r"repeated \[1\]"):
        merge([parts[0], parts[1], parts[1]], tmp_path / "b", **QUIET)
    with pytest.raises(StoreError, match="a whole build, not a `--shard i/N` part"):
        merge([whole, *parts[1:]], tmp_path / "c", **QUIET)
    other = from_dict(BuildConfig, {**yaml.safe_load((tmp / "build.yaml").read_text()), "seed": 8})
    build(other, tmp_path / "other2", part=(2, 3), **QUIET)
    with pytest.raises(StoreError, match="a part of another config"):
        merge([parts[0], parts[1], tmp_path / "other2"], tmp_path / "d", **QUIET)
    assert not any((tmp_path / name).exists() for name in "abcd")  # a refused merge creates nothing


def test_unfinished_part_and_reused_directory_are_refused(file_builds, tmp_path):
    tmp, config, _, _, _ = file_builds
    with pytest.raises(StoreError, match="part 0/3 is unfinished"):
        store_dir = tmp_path / "half"
        build(config, store_dir, part=(0, 3), **QUIET)
        state_path = store_dir / ".midrl/state.json"
        state = json.loads(state_path.read_text())
        del state["stages"]["decontaminate"]  # as if the part was killed before its last stage finished
        state_path.write_text(json.dumps(state))
        merge([store_dir, tmp / "part1", tmp / "part2"], tmp_path / "out", **QUIET)
    with pytest.raises(StoreError, match="holds part 1/3 .*not part 0/3"):
        build(config, tmp / "part1", part=(0, 3), **QUIET)


@pytest.mark.slow
def test_hf_parts_merge_to_the_unsharded_bytes(tmp_path):
    """SmolLM2-135M really generates in both runs: the parts feed the model exactly the unsharded build's batches."""
    data = yaml.safe_load(CI_CONFIG.read_text())
    data["sources"] = [{"name": "gsm8k_train", "limit": 3}]
    data["heuristics"] = {"ids": data["heuristics"]["ids"][:1], "exemplars": 1}
    data["generation"].update(samples_per_pair=1, star_samples=1, shard_size=2)  # 2 requests per problem: 3 shards
    data["generation"]["sampling"]["max_new_tokens"] = 24
    data["decontamination"] = {"benchmarks": ["math500"], "ngram_size": 13}
    data["diversity"] = {"embedder": "ngram", "ngram_n": 2}
    config = from_dict(BuildConfig, data)
    commit = _commit()
    build(config, tmp_path / "whole", **QUIET)
    for i in range(2):
        build(config, tmp_path / f"part{i}", part=(i, 2), **QUIET)
    merge([tmp_path / "part0", tmp_path / "part1"], tmp_path / "merged", **QUIET)
    generated = lambda out: sorted((out / ".midrl/generate").glob("*.jsonl"))  # noqa: E731
    assert [p.read_bytes() for p in generated(tmp_path / "merged")] == \
        [p.read_bytes() for p in generated(tmp_path / "whole")]  # same texts, generated separately
    moved = _commit() != commit
    assert _shipped(tmp_path / "merged", moved) == _shipped(tmp_path / "whole", moved)
