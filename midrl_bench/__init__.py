"""midrl-bench: heuristic-diverse mid-training data, pass@k evaluation and mid-train -> RL pipelines."""

__version__ = "0.1.0"
