"""Composition judging: which heuristics of the library each reasoning trace uses, and how often they combine.

`midrl judge SAMPLES... --labeller rules|llm|both -o OUT` (see `cli.py`); the library API is `run.judge_samples`,
labellers in `labellers.py`, statistics and agreement in `report.py`, lm-eval sample reading in `traces.py`.
"""
