"""The mid-train -> RL -> eval pipeline: one recipe (`spec.py`), run on TRL, OpenRLHF or verl (`adapters/`).

`load_spec(path)` reads a recipe; `run_pipeline(spec, backend, stages, out_dir)` runs it; `run_compare` runs it on
several backends and evaluates every checkpoint with the pack. Heavy libraries load only inside the stages.
"""

from midrl_bench.pipeline.runner import run_pipeline
from midrl_bench.pipeline.spec import PipelineSpec, load_spec

__all__ = ["PipelineSpec", "load_spec", "run_pipeline"]
