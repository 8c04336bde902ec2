"""The `file` backend: completions produced elsewhere, looked up by key; clear errors for missing or bad rows."""

from __future__ import annotations

import json

import pytest

from midrl_bench.generation import GenerationError, GenerationRequest, SamplingParams, get_backend, sample_key
from midrl_bench.generation.file import write_requests
from midrl_bench.jsonl import read_jsonl, write_jsonl


def _requests():
    sampling = SamplingParams(temperature=0.5, max_new_tokens=32)
    return [
        GenerationRequest(key=sample_key("gsm8k-train-0", "working_backwards", 0), sampling=sampling, seed=7,
                          messages=[{"role": "user", "content": "Natalia sold clips..."}]),
        GenerationRequest(key=sample_key("gsm8k-train-0", "working_backwards", 1), prompt="Q: 2+3?", seed=8),
        GenerationRequest(key=sample_key("train/algebra/0.json", "-", 0), prompt="Q: a+b?", seed=9),
    ]


def test_round_trip_through_exported_requests(tmp_path):
    requests = _requests()
    write_requests(tmp_path / "requests.jsonl", requests)
    exported = list(read_jsonl(tmp_path / "requests.jsonl"))
    assert [row["key"] for row in exported] == [r.key for r in requests]
    assert exported[0]["messages"][0]["content"].startswith("Natalia") and exported[0]["seed"] == 7
    assert exported[0]["sampling"] == {"temperature": 0.5, "top_p": 1.0, "max_new_tokens": 32, "stop": []}
    # an "external job" answers in two shards, in another order, one row keyed by its three parts
    write_jsonl(tmp_path / "shard0.jsonl", [
        {"key": exported[2]["key"], "text": "\\boxed{0}", "completion_tokens": 5, "finish_reason": "length"},
    ])
    write_jsonl(tmp_path / "shard1.jsonl", [
        {"problem_id": "gsm8k-train-0", "heuristic_id": "working_backwards", "sample_index": 1, "text": "5"},
        {"key": exported[0]["key"], "text": "72", "prompt_tokens": 11, "completion_tokens": 2},
    ])
    backend = get_backend("file", paths=[str(tmp_path / "shard0.jsonl"), str(tmp_path / "shard1.jsonl")])
    generations = backend.generate(requests)
    assert [g.key for g in generations] == [r.key for r in requests]
    assert [g.text for g in generations] == ["72", "5", "\\boxed{0}"]
    assert [(g.prompt_tokens, g.completion_tokens, g.finish_reason) for g in generations] == [
        (11, 2, "stop"), (0, 0, "stop"), (0, 5, "length")]
    assert [entry["path"] for entry in backend.describe()["files"]] == [str(tmp_path / f"shard{i}.jsonl") for i in (0, 1)]


def test_missing_key_is_named(tmp_path):
    write_jsonl(tmp_path / "c.jsonl", [{"key": "p1|h|0", "text": "x"}])
    backend = get_backend("file", paths=[str(tmp_path / "c.jsonl")])
    with pytest.raises(GenerationError, match=r"1 requested key\(s\) missing .* 'p1\|h\|1'"):
        backend.generate([GenerationRequest(key="p1|h|0", prompt="a"), GenerationRequest(key="p1|h|1", prompt="b")])


@pytest.mark.parametrize(
    "rows, message",
    [
        ([{"key": "k", "text": "a"}, {"key": "k", "text": "b"}], r"appears twice, at .*row 1\) and .*row 2\)"),  # dup
        ([{"text": "a", "problem_id": "p"}], r"no 'key' field and missing \['heuristic_id', 'sample_index'\]"),  # no key
        ([{"key": "k", "text": 3}], "field 'text' must be a string"),  # text of the wrong type
        ([{"key": "k", "text": "a", "finish_reason": "eos"}], "finish_reason"),  # unknown finish reason
        ([{"key": "k", "text": "a", "completion_tokens": -1}], "completion_tokens"),  # negative count
    ],
)
def test_bad_rows_are_reported_with_file_and_field(tmp_path, rows, message):
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    with pytest.raises(GenerationError, match=message):
        get_backend("file", paths=[str(path)]).generate([GenerationRequest(key="k", prompt="a")])


def test_missing_file_is_named(tmp_path):
    with pytest.raises(GenerationError, match="completions file not found: .*absent.jsonl"):
        get_backend("file", paths=[str(tmp_path / "absent.jsonl")]).generate([GenerationRequest(key="k", prompt="a")])
