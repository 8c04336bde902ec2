"""The lm-eval task class of the pack.

It is lm-eval's own ConfigurableTask plus two things. The task's scoring is bound from `dataset_kwargs.pack_task`,
and its provenance (for code tasks, the sandbox's isolation level) is added to the task's metadata, which lm-eval
writes into the results file. And `--metadata '{"repeats": N}'` (or `TaskManager(metadata={"repeats": N})`) sets
the number of samples per problem, so a quick run does not need variant task files. pass@k for k > N is then absent from the results rather than estimated.
"""

from __future__ import annotations

from lm_eval.api.task import ConfigurableTask


class MidrlTask(ConfigurableTask):
    def __init__(self, config: dict | None = None, **kwargs) -> None:
        from midrl_bench.tasks.lm_eval_hooks import process_results_for

        config = dict(config or {})
        config.pop("class", None)
        pack_task = (config.get("dataset_kwargs") or {}).get("pack_task")
        if not pack_task:
            raise ValueError(f"task {config.get('task')!r}: dataset_kwargs.pack_task must name a pack task")
        config["process_results"] = process_results_for(pack_task)
        config["metadata"] = {**(config.get("metadata") or {}), **_scoring_provenance(pack_task)}
        repeats = (config.get("metadata") or {}).get("repeats")
        if repeats is not None:
            repeats = int(repeats)
            if repeats < 1:
                raise ValueError(f"metadata.repeats must be >= 1, got {repeats}")
            config["repeats"] = repeats
        super().__init__(config=config, **kwargs)


def _scoring_provenance(pack_task: str) -> dict:
    """What scored the task, recorded in the task's config and so in lm-eval's results file ("configs").

    For code tasks this is the sandbox (isolation level, interpreter, limits), so every result says how isolated
    the model-written programs ran.
    """
    from midrl_bench.tasks import registry

    if registry.spec(pack_task).checker != "code":
        return {}
    from midrl_bench.tasks.code_scoring import sandbox_description

    return {"sandbox": sandbox_description()}
