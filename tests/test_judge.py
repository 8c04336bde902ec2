"""Composition judging offline: the rules labeller, the LLM answer protocol (file backend), statistics, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from _judge_fixtures import write_samples, write_test_library

from midrl_bench.heuristics import load_library
from midrl_bench.judge.labellers import InvalidAnswer, Label, LLMJudgeSettings, LLMLabeller, RulesLabeller, parse_answer
from midrl_bench.judge.report import cohens_kappa, composition_stats
from midrl_bench.judge.run import judge_samples
from midrl_bench.judge.traces import Trace

IDS = frozenset({"working_backwards", "case_analysis", "check_the_result"})


@pytest.fixture(scope="module")
def library_dir(tmp_path_factory):
    return write_test_library(tmp_path_factory.mktemp("library"))


@pytest.fixture(scope="module")
def library(library_dir):
    return load_library(library_dir)


def _trace(text: str, repeat: int = 0) -> Trace:
    return Trace("midrl_aime24", 0, repeat, text, {}, "")


RULES_CASES = [
    # (trace, min_hits, expected ids)
    ("We work backwards from 17 and undo each step.", 1, ("working_backwards",)),  # two cues of one heuristic
    ("Split into cases. Case 1: x > 0. Case 2: x < 0.", 1, ("case_analysis",)),  # one heuristic
    ("Working backwards gives 8. Case 1: even. Case 2: odd. We verify it.", 1,
     ("case_analysis", "check_the_result", "working_backwards")),  # three heuristics combined
    ("2 + 2 = 4, so the answer is \\boxed{4}.", 1, ()),  # no heuristic at all
    ("The knot came undone; we verified nothing.", 1, ()),  # word boundaries: 'undone', 'verified' are not cues
    ("WORK  BACKWARDS from the goal.", 1, ("working_backwards",)),  # case and spacing do not matter
    ("We work backwards. Then we verify.", 2, ()),  # min_hits=2: one cue each is not enough
    ("We work backwards and undo steps; we verify and substitute back.", 2,
     ("check_the_result", "working_backwards")),  # min_hits=2: two cues each
]


@pytest.mark.parametrize(("text", "min_hits", "expected"), RULES_CASES)
def test_rules_labeller(library, text, min_hits, expected):
    (label,) = RulesLabeller(library, min_hits=min_hits).label([_trace(text)])
    assert label == Label(expected)


WB = {"working_backwards": "undo the +3"}
ANSWER_CASES = [
    # (judge reply, expected (ids, evidence) or the InvalidAnswer message fragment)
    ('{"heuristics": ["working_backwards"], "evidence": {"working_backwards": "undo the +3"}}',
     (("working_backwards",), WB)),  # the exact protocol
    ('  {"evidence": {"check_the_result": "b", "case_analysis": "a"}, "heuristics": ["check_the_result", '
     '"case_analysis"]}\n', (("case_analysis", "check_the_result"), {"case_analysis": "a", "check_the_result": "b"})),
    # ids sorted, key order free
    ('```json\n{"heuristics": [], "evidence": {}}\n```', ((), {})),  # a fenced JSON block; empty list means none
    ('Sure! {"heuristics": [], "evidence": {}}', "not a JSON object"),  # prose around the JSON is not tolerated
    ('{"heuristics": ["guessing"], "evidence": {"guessing": "x"}}', "unknown heuristic id(s) ['guessing']"),
    ('{"heuristics": ["case_analysis", "case_analysis"], "evidence": {"case_analysis": "x"}}', "listed twice"),
    ('{"heuristics": ["case_analysis"]}', 'exactly the keys "heuristics" and "evidence"'),  # evidence missing
    ('{"heuristics": [], "evidence": {}, "why": "x"}', 'exactly the keys "heuristics" and "evidence"'),  # extra key
    ('{"heuristics": "case_analysis", "evidence": {}}', "must be a list"),  # not a list
    ('{"heuristics": [1, 2], "evidence": {}}', "must be a list of id strings"),  # not strings
    ('{"heuristics": ["case_analysis"], "evidence": {}}', "one quote for every listed id"),  # a label without evidence
    ('{"heuristics": [], "evidence": {"case_analysis": "x"}}', "one quote for every listed id"),  # evidence, no label
    ('{"heuristics": ["case_analysis"], "evidence": {"case_analysis": " "}}', "non-empty quotes"),  # blank quote
    ('["case_analysis"]', 'exactly the keys "heuristics" and "evidence"'),  # a bare list
]


@pytest.mark.parametrize(("reply", "expected"), ANSWER_CASES)
def test_parse_answer(reply, expected):
    if isinstance(expected, tuple):
        assert parse_answer(reply, IDS) == expected
    else:
        with pytest.raises(InvalidAnswer) as caught:
            parse_answer(reply, IDS)
        assert expected in str(caught.value)


KAPPA_CASES = [
    # (first rater, second rater, kappa)
    ([1, 0, 1, 0], [1, 0, 1, 0], 1.0),  # perfect agreement
    ([1, 1, 0, 0], [1, 0, 1, 0], 0.0),  # agreement exactly at chance
    ([1, 0, 1, 0], [0, 1, 0, 1], -1.0),  # perfect disagreement
    ([1, 1, 1, 0, 0, 0], [1, 1, 0, 0, 0, 0], 2 / 3),  # po = 5/6, pe = 1/2
    ([0, 0, 0], [0, 0, 0], None),  # both constant: kappa undefined, reported as None
]


@pytest.mark.parametrize(("first", "second", "kappa"), KAPPA_CASES)
def test_cohens_kappa(first, second, kappa):
    value = cohens_kappa([bool(x) for x in first], [bool(x) for x in second])
    assert value == (None if kappa is None else pytest.approx(kappa))


def test_composition_stats_counts_unjudged_and_splits_correctness():
    labels = [Label(("a", "b")), Label(("a",)), Label(()), Label(None, 3, "not JSON"), Label(("a", "b", "c"))]
    verdicts = [True, False, None, True, False]
    stats = composition_stats(labels, verdicts, ["a", "b", "c"])
    assert (stats["n_traces"], stats["n_judged"], stats["n_unjudged"]) == (5, 4, 1)
    assert stats["composed_share"]["mean"] == pytest.approx(0.5)  # 2 of the 4 judged traces
    assert stats["frequencies"] == {"a": 0.75, "b": 0.5, "c": 0.25}
    assert stats["heuristics_per_trace"] == {"0": 1, "1": 1, "2": 1, "3+": 1}
    composed = stats["correctness"]["composed"]
    assert (composed["n"], composed["n_correct"], composed["accuracy"]["mean"]) == (2, 1, 0.5)
    assert stats["correctness"]["none"]["n_verdict_none"] == 1  # a None verdict is counted, not hidden


def _answer(*ids: str) -> str:
    return json.dumps({"heuristics": list(ids), "evidence": {hid: f"the step using {hid}" for hid in ids}})


def _replies_file(path, replies: dict[str, str]):
    path.write_text("".join(json.dumps({"key": k, "text": v}) + "\n" for k, v in replies.items()))
    return path


def test_llm_labeller_retries_invalid_replies_then_gives_up(library, tmp_path):
    from midrl_bench.generation import get_backend

    traces = [_trace("first", 0), _trace("second", 1), _trace("third", 2)]
    replies = _replies_file(tmp_path / "replies.jsonl", {
        "midrl_aime24/0/0#attempt1": _answer("case_analysis"),  # valid at once
        "midrl_aime24/0/1#attempt1": "I think it uses working backwards.",  # prose: retried
        "midrl_aime24/0/1#attempt2": _answer("guessing"),  # unknown id: retried
        "midrl_aime24/0/1#attempt3": _answer("working_backwards"),  # valid on the third try
        "midrl_aime24/0/2#attempt1": "{",
        "midrl_aime24/0/2#attempt2": "{",
        "midrl_aime24/0/2#attempt3": '{"heuristics": "x", "evidence": {}}',  # never valid: could not judge
    })
    labeller = LLMLabeller(get_backend("file", paths=[str(replies)]), library, LLMJudgeSettings(max_attempts=3))
    labels = labeller.label(traces)
    assert labels[0] == Label(("case_analysis",), attempts=1,
                              evidence={"case_analysis": "the step using case_analysis"})
    assert labels[1].ids == ("working_backwards",) and labels[1].attempts == 3
    assert labels[2].ids is None and labels[2].attempts == 3 and "must be a list" in labels[2].error
    assert "- case_analysis: Case analysis. Split the problem into exhaustive cases" in labeller.rubric
    assert '"required": ["heuristics", "evidence"]' in labeller.rubric  # the answer's JSON schema is in the prompt
    from midrl_bench.judge.prompt import few_shot_examples
    from midrl_bench.judge.validation_set import load_packaged, of_split

    examples = few_shot_examples(library)  # dev traces whose labels this 3-heuristic library covers
    dev_ids = {item.id for item in of_split(load_packaged(), "dev")}
    assert examples and all(e["id"] in dev_ids and set(e["answer"]["heuristics"]) <= IDS for e in examples)
    assert all(f"Example solution ({e['id']}):" in labeller.rubric for e in examples)


def _aime_traces():
    from midrl_bench.tasks.registry import load_docs

    doc = load_docs("midrl_aime24")[0]  # answer 204
    return doc, [
        "Working backwards from the total time we undo each step. We verify: it fits. \\boxed{204}",  # 2, correct
        "Case 1: s is even. Case 2: s is odd. We substitute back to verify. \\boxed{5}",  # 2, wrong
        "We work backwards from the end of the walk. \\boxed{204}",  # 1, correct
        "The walk takes some minutes. \\boxed{7}",  # 0, wrong
    ]


@pytest.mark.slow
def test_judge_cli_rules_end_to_end(library_dir, tmp_path):
    doc, responses = _aime_traces()
    samples = write_samples(tmp_path / "samples_midrl_aime24_2026-01-01T00-00-00.000000.jsonl", "midrl_aime24",
                            [doc], [responses])
    out = tmp_path / "judged"
    command = [sys.executable, "-m", "midrl_bench", "judge", str(samples), "--labeller", "rules",
               "--library", str(library_dir), "-o", str(out)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert "rules: 4/4 traces judged; composed (>= 2 heuristics): raw 50.0%" in completed.stdout
    assert "labeller quality not measured: the packaged validation set labels heuristics" in completed.stdout
    report = json.loads((out / "report.json").read_text())
    stats = report["composition"]["rules"]
    assert stats["frequencies"] == {"case_analysis": 0.25, "check_the_result": 0.5, "working_backwards": 0.5}
    split = stats["correctness"]
    assert [(split[s]["n"], split[s]["n_correct"]) for s in ("composed", "single", "none")] == [(2, 1), (1, 1), (1, 0)]
    rows = [json.loads(line) for line in (out / "labels.jsonl").read_text().splitlines()]
    assert [r["correct"] for r in rows] == [True, False, True, False]  # scored by the pack's math checker
    assert (out / "composition.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_both_labellers_report_agreement_and_llm_labels_resume(library, tmp_path):
    from midrl_bench.generation import get_backend

    doc, responses = _aime_traces()
    replies = {f"midrl_aime24/0/{i}#attempt1": _answer(*ids) for i, ids in enumerate(
        [["check_the_result", "working_backwards"], ["case_analysis"], ["working_backwards"], []])}
    backend = get_backend("file", paths=[str(_replies_file(tmp_path / "replies.jsonl", replies))])
    labellers = [RulesLabeller(library), LLMLabeller(backend, library)]
    (tmp_path / "part").mkdir()
    first = write_samples(tmp_path / "part" / "samples_midrl_aime24_2026-01-01T00-00-00.000000.jsonl",
                          "midrl_aime24", [doc], [responses[:2]])  # an interrupted run saw only two traces
    judge_samples([first], labellers, tmp_path / "out", library.ids)
    full = write_samples(tmp_path / "samples_midrl_aime24_2026-01-01T00-00-00.000000.jsonl", "midrl_aime24",
                         [doc], [responses])
    report = judge_samples([full], labellers, tmp_path / "out", library.ids)
    (cache,) = (tmp_path / "out" / ".midrl").glob("labels-llm-*.jsonl")
    assert len(cache.read_text().splitlines()) == 4  # 2 from the first run + only the 2 new traces
    (agreement,) = report["agreement"]
    assert (agreement["first"], agreement["second"], agreement["n_both_judged"]) == ("rules", "llm", 4)
    # rules: {wb, check}, {case, check}, {wb}, {} ; llm: {check, wb}, {case}, {wb}, {}
    assert agreement["per_heuristic"]["working_backwards"]["kappa"] == pytest.approx(1.0)
    assert agreement["per_heuristic"]["check_the_result"]["kappa"] == pytest.approx(0.5)
    assert report["composition"]["llm"]["composed_share"]["mean"] == pytest.approx(0.25)
    (differ,) = [json.loads(line) for line in (tmp_path / "out" / "disagreements.jsonl").read_text().splitlines()]
    assert differ["key"] == "midrl_aime24/0/1" and differ["only_rules"] == ["check_the_result"]  # the one trace
    assert differ["composed_differs"] and differ["text"] == responses[1]  # reviewable: the text is there
    assert report["composition"]["rules"]["quality"] == {"available": False, "reason": "no validation set given"}
