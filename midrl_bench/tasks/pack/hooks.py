"""Names the pack's YAML files reference with `!function hooks.<name>`; the code lives in midrl_bench.tasks."""

from midrl_bench.tasks.code_scoring import humaneval_doc_to_text
from midrl_bench.tasks.lm_eval_hooks import keep_all, math_doc_to_text, musr_doc_to_text, pack_dataset
from midrl_bench.tasks.task_class import MidrlTask

__all__ = ["MidrlTask", "humaneval_doc_to_text", "keep_all", "math_doc_to_text", "musr_doc_to_text", "pack_dataset"]
