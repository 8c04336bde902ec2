"""What re-scoring cannot detect, measured per task so a reader can see it.

A validator cannot know which model wrote a response: responses swapped between documents, one correct answer copied
into every repeat, or one document's row taken from another model all re-score consistently. Two figures make the
first two visible on the entry's page:

- `identical_share`: per document, the share of its responses that repeat an earlier response of the same document
  (0 when all differ, (n-1)/n when all are one text), averaged over documents, with the share of documents whose
  responses are all identical. Sampling at the pack's temperature 0.6 rarely repeats a long response verbatim;
  a high share on long responses says "look at this entry".
- response length in whitespace-separated words: p10, p50 and p90 over every response (words, not tokens: the
  validator has no tokenizer for the submitted model).
"""

from __future__ import annotations

from typing import Any

PERCENTILES = (10, 50, 90)


class ResponseStats:
    """Accumulates one task's responses document by document (only counts and lengths are kept)."""

    def __init__(self) -> None:
        self.identical: list[float] = []
        self.all_identical = 0
        self.lengths: list[int] = []
        self.repeats: set[int] = set()

    def add(self, responses: list[str]) -> None:
        n = len(responses)
        self.repeats.add(n)
        distinct = len(set(responses))
        self.identical.append((n - distinct) / n)
        self.all_identical += n > 1 and distinct == 1
        self.lengths.extend(len(response.split()) for response in responses)

    def summary(self) -> dict[str, Any]:
        import numpy as np

        docs = len(self.identical)
        return {
            "identical_share": sum(self.identical) / docs if docs else None,
            "docs_all_identical": self.all_identical,
            "n_docs": docs,
            "length_words": {f"p{q}": float(np.percentile(self.lengths, q)) for q in PERCENTILES}
            if self.lengths else {},
        }
