"""The `llm` labeller against a real judge: SmolLM2-135M-Instruct behind `transformers serve` on loopback.

A 135M model rarely keeps to the JSON protocol, which is the point here: these tests check the protocol — every
invalid reply is answered with its reason and retried, valid labels only name library ids, and a trace that never
gets a valid reply is reported as unjudged — not the judge's accuracy.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import pytest
from _judge_fixtures import write_samples, write_test_library

from midrl_bench.heuristics import load_library
from midrl_bench.judge.labellers import LLMJudgeSettings, LLMLabeller
from midrl_bench.judge.traces import Trace

pytestmark = pytest.mark.slow
MAX_ATTEMPTS = 2
TRACES = [
    "Working backwards from 17 we undo each step, then verify it. \\boxed{24}",
    "Case 1: x > 0 gives 3. Case 2: x < 0 gives -3. \\boxed{2}",
]


@pytest.fixture(scope="module")
def judge_server():
    from midrl_bench.generation.local_models import smollm2_135m_instruct_dir
    from midrl_bench.generation.serve import local_openai_server

    with local_openai_server(smollm2_135m_instruct_dir()) as base_url:
        with urllib.request.urlopen(base_url + "/models", timeout=30) as reply:
            model = json.loads(reply.read())["data"][0]["id"]
        yield base_url, model


@pytest.fixture(scope="module")
def library_dir(tmp_path_factory):
    return write_test_library(tmp_path_factory.mktemp("library"))


class RecordingBackend:
    """The real openai backend, with a record of every request it was asked to send."""

    def __init__(self, backend) -> None:
        self.backend, self.requests = backend, []
        self.name = backend.name

    def generate(self, requests):
        self.requests.extend(requests)
        return self.backend.generate(requests)

    def describe(self):
        return self.backend.describe()

    def close(self):
        self.backend.close()


def test_protocol_retries_with_feedback_and_validates(judge_server, library_dir):
    from midrl_bench.generation import get_backend

    base_url, model = judge_server
    library = load_library(library_dir)
    backend = RecordingBackend(get_backend("openai", base_url=base_url, model=model, max_concurrency=2))
    labeller = LLMLabeller(backend, library, LLMJudgeSettings(max_attempts=MAX_ATTEMPTS, max_new_tokens=32))
    traces = [Trace("midrl_aime24", 0, i, text, {}, "") for i, text in enumerate(TRACES)]
    labels = labeller.label(traces)
    sent = {request.key: request for request in backend.requests}
    for trace, label in zip(traces, labels, strict=True):
        assert 1 <= label.attempts <= MAX_ATTEMPTS
        # exactly one request per attempt, and a retry only after an invalid reply
        assert {k for k in sent if k.startswith(trace.key + "#")} == {
            f"{trace.key}#attempt{a}" for a in range(1, label.attempts + 1)}
        if label.ids is None:  # never valid: counted as unjudged, with the last reason
            assert label.attempts == MAX_ATTEMPTS and label.error
        else:
            assert set(label.ids) <= set(library.ids)
        if label.attempts > 1:  # the retry carries the bad reply and the reason it was rejected
            retry = sent[f"{trace.key}#attempt2"].messages
            assert [m["role"] for m in retry] == ["system", "user", "assistant", "user"]
            assert retry[-1]["content"].startswith("Invalid answer: ")
    first = sent[f"{traces[0].key}#attempt1"].messages
    assert first[0]["role"] == "system" and '"required": ["heuristics", "evidence"]' in first[0]["content"]
    assert first[1]["content"] == TRACES[0]


def test_cli_both_labellers_against_the_server(judge_server, library_dir, tmp_path):
    from midrl_bench.tasks.registry import load_docs

    base_url, model = judge_server
    samples = write_samples(tmp_path / "samples_midrl_aime24_2026-01-01T00-00-00.000000.jsonl", "midrl_aime24",
                            [load_docs("midrl_aime24")[0]], [TRACES])
    out = tmp_path / "judged"
    command = [sys.executable, "-m", "midrl_bench", "judge", str(samples), "--labeller", "both", "--library",
               str(library_dir), "--judge-base-url", base_url, "--judge-model", model, "--max-attempts",
               str(MAX_ATTEMPTS), "--judge-max-new-tokens", "32", "-o", str(out)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    llm = report["composition"]["llm"]
    assert llm["n_traces"] == 2 and llm["n_judged"] + llm["n_unjudged"] == 2
    assert report["labellers"]["llm"]["judge"]["model"] == model  # provenance names the judge
    (pair,) = report["agreement"]
    assert pair["n_both_judged"] == llm["n_judged"]
    assert set(pair["per_heuristic"]) == {"case_analysis", "check_the_result", "working_backwards"}
    assert (out / "disagreements.jsonl").is_file()  # reviewable, even when empty
    rows = [json.loads(line) for line in (out / "labels.jsonl").read_text().splitlines()]
    assert [row["rules"]["ids"] for row in rows] == [["check_the_result", "working_backwards"], ["case_analysis"]]
    for row in rows:
        assert (row["llm"]["ids"] is None) == (row["llm"]["error"] is not None)
