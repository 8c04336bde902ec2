"""Composition judging: which heuristics of the library each reasoning trace uses, how often they combine, and how
far the labeller that says so can be trusted.

`midrl judge SAMPLES... --labeller rules|embed|llm|both|A,B -o OUT` (see `cli.py`, docs/judge.md); the library API
is `run.judge_samples`. Labellers: `rules.py` (+ `structure.py`), `embed.py`, `labellers.py` (+ `prompt.py` for
`llm`); validation set and quality: `validation_set.py` (+ `validation/`), `measure.py`, `quality.py`; statistics
and agreement: `report.py`; which library judges which task: `libraries.py`; lm-eval samples: `traces.py`.
"""
