"""The pack's scoring (midrl_bench.tasks.scoring): batching and de-duplication never change a verdict."""

import pytest

from midrl_bench.tasks import scoring
from midrl_bench.tasks.registry import load_docs


def math_responses(gold: str) -> list[str]:
    return [
        f"So the answer is $\\boxed{{{gold}}}$.",  # boxed
        f"Final Answer: The final answer is ${gold}$. I hope it is correct.",  # same answer, another route
        f"We find \\boxed{{{gold}}} first; after a check the final answer is \\boxed{{{gold}1}}.",  # the last box wins
        f"Therefore ${gold}$ is the result.",  # no marker: last_expression (standard policy only)
        "I ran out of time.",  # nothing to extract
        f"So the answer is $\\boxed{{{gold}}}$.",  # an exact duplicate
        "So the answer is $\\boxed{0.5}$.", "Final Answer: $\\frac{1}{2}$",  # one wrong value written two ways
    ]


@pytest.mark.parametrize("policy", ["standard", "strict"])
def test_batched_math_scores_equal_one_check_per_response(policy):
    from midrl_bench.verify.math import check_answers

    docs = load_docs("midrl_aime24")[:3]
    items = [(doc, math_responses(doc["answer"])) for doc in docs]
    batched = scoring.score_docs("midrl_aime24", items, policy=policy)
    for (doc, responses), scores in zip(items, batched, strict=True):
        direct = check_answers([(doc["answer"], r) for r in responses], policy=policy)
        assert [(s.correct, s.reason, s.route, s.extracted) for s in scores] == [
            (v.correct, v.reason, v.route, v.extracted) for v in direct]
    first = batched[0]
    assert first[6].vote == first[7].vote is not None  # 0.5 and 1/2 vote together (the checker's canonical form)
    assert first[0].vote != first[6].vote


def test_doc_values_audit_record_and_metrics():
    doc = load_docs("midrl_aime24")[0]
    scores = scoring.score_doc("midrl_aime24", doc, math_responses(doc["answer"]))
    values = scoring.doc_values(scores, [5] * 8, [False] * 7 + [True], "tokens:test")
    assert values["avg@n"] == 4 / 8 == pytest.approx(values["pass@1"])  # boxed, final answer, no-marker, duplicate
    assert values["no_answer_rate"] == 1 / 8 and values["truncation_rate"] == 1 / 8
    assert set(values) >= {"pass@8", "maj@8", "pass@8_ci95_lo", "length_p50", "responses"}
    assert values["maj@8"] == 1.0  # 4 right votes beat 2 (0.5 = 1/2) and 1 (the later box)
    assert values["responses"]["route"][3] == "last_expression" and values["responses"]["length_unit"] == "tokens:test"


def test_choice_routes_and_votes():
    doc = load_docs("midrl_musr_team")[0]
    letter = "ABC"[doc["answer_index"]]
    scores = scoring.score_doc("midrl_musr_team", doc, [f"Answer: {letter}", f"so \\boxed{{{letter}}}", "unsure"])
    assert [s.route for s in scores] == ["final_answer_phrase", "boxed", "none"]
    assert [s.correct for s in scores] == [True, True, False] and scores[0].vote == scores[1].vote == letter


def test_unknown_policy_is_rejected_by_name():
    with pytest.raises(ValueError, match="extraction policy must be one of"):
        scoring.score_doc("midrl_aime24", load_docs("midrl_aime24")[0], ["x"], policy="loose")
