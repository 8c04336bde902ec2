"""Evaluate a checkpoint with the pack through lm-eval (`simple_evaluate` + the pack's include path).

    scores = evaluate_checkpoint("runs/x/rl/checkpoint", spec.eval, out_dir="runs/x/eval/rl", seed=0)
    scores["midrl_math500"]["pass@1"], scores["midrl_math500"]["pass@1_stderr"]

`repeats` reaches the pack through `TaskManager(metadata={"repeats": N})`; pass@k is reported for every k <= repeats
that the pack computes. Each call writes `results.json` (lm-eval's results, the config it ran with, provenance).

`eval.model` picks lm-eval's model (`lm_eval_model`):
    hf      -> `hf`: transformers on one device (CPU tests, small runs); batch_size as given ("auto" allowed)
    vllm    -> `vllm`: offline vLLM, tensor_parallel_size x data_parallel_size GPUs, batch_size "auto" (the engine
               batches every request; lm-eval's default for `hf` is 1, weeks at paper scale)
    server  -> `local-chat-completions` (chat API; the server applies the chat template) with num_concurrent requests in
               flight, or `local-completions` (completions API) with max_length = max_prompt_tokens + max_gen_toks:
               lm-eval's default max_length of 2048 minus max_gen_toks 3072 would truncate every prompt to nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from midrl_bench.config import ConfigError
from midrl_bench.pipeline.spec import EvalSpec
from midrl_bench.provenance import provenance_record
from midrl_bench.tasks.lm_eval_files import parse_metric_key

LM_EVAL_MODELS = {"hf": "hf", "vllm": "vllm", "chat": "local-chat-completions", "completions": "local-completions"}
VLLM_ENGINE_KWARGS = {"gpu_memory_utilization"}  # lm-eval's VLLM passes unknown kwargs on to vllm.LLM (EngineArgs)


def lm_eval_model(spec: EvalSpec, model: str, device: str, seed: int = 0, revision: str | None = None
                  ) -> tuple[str, dict[str, Any], int | str]:
    """(lm-eval model name, model_args, batch_size) for one checkpoint; every argument explicit."""
    if spec.model == "hf":
        args: dict[str, Any] = {"pretrained": model, "dtype": "float32" if device == "cpu" else spec.dtype}
        if revision:
            args["revision"] = revision
        return "hf", args, spec.batch_size
    if spec.model == "vllm":
        if spec.batch_size != "auto":
            raise ConfigError(f"eval.batch_size: use \"auto\" with eval.model vllm (got {spec.batch_size!r}); a fixed "
                              "batch makes lm-eval hand vLLM a few prompts at a time")
        args = {"pretrained": model, "dtype": spec.dtype, "tensor_parallel_size": spec.tensor_parallel_size,
                "data_parallel_size": spec.data_parallel_size, "gpu_memory_utilization": spec.gpu_memory_utilization,
                "max_model_len": spec.max_prompt_tokens + spec.max_gen_toks, "seed": seed}
        if revision:
            args["revision"] = revision
        return "vllm", args, "auto"
    return _server_model(spec, model, revision)


def _server_model(spec: EvalSpec, model: str, revision: str | None) -> tuple[str, dict[str, Any], int | str]:
    if revision:
        raise ConfigError("eval.model server: the server decides the weights; start `vllm serve MODEL --revision "
                          f"{revision}` and evaluate it without a revision")
    base = spec.server_url.rstrip("/")
    args: dict[str, Any] = {"model": model, "num_concurrent": spec.num_concurrent, "max_retries": spec.max_retries,
                            "max_gen_toks": spec.max_gen_toks}
    if spec.server_api == "chat":  # the server applies the chat template; lm-eval sends messages, batch 1
        return LM_EVAL_MODELS["chat"], {**args, "base_url": f"{base}/chat/completions", "tokenized_requests": False}, 1
    # completions: lm-eval renders the chat template with the checkpoint's tokenizer, sends tokens and keeps the
    # last max_length - max_gen_toks of them; lm-eval's default max_length (2048) < max_gen_toks (3072) would cut
    # every prompt to a meaningless tail, so max_length = the pack's prompt budget + max_gen_toks.
    return LM_EVAL_MODELS["completions"], {
        **args, "base_url": f"{base}/completions", "tokenizer_backend": "huggingface", "tokenizer": model,
        "tokenized_requests": True, "max_length": spec.max_prompt_tokens + spec.max_gen_toks}, 1


def check_model_args(name: str, model_args: dict[str, Any]) -> None:
    """Every key must be a constructor parameter of lm-eval's model class `name` (or, for vllm, an engine argument
    it forwards). lm-eval's `vllm` module imports vLLM, so its signature is read from the installed source."""
    accepted = _vllm_parameters() | VLLM_ENGINE_KWARGS if name == "vllm" else _class_parameters(name)
    unknown = sorted(set(model_args) - accepted)
    if unknown:
        raise ConfigError(f"eval: lm-eval's {name!r} model takes no argument(s) {unknown}")


def _class_parameters(name: str) -> set[str]:
    import inspect

    from lm_eval.api.registry import get_model

    names: set[str] = set()
    for cls in get_model(name).__mro__:  # up the chain while constructors pass **kwargs on to their parent
        if "__init__" not in vars(cls):
            continue
        parameters = inspect.signature(cls.__init__).parameters.values()
        names |= {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)} - {"self"}
        if not any(p.kind is p.VAR_KEYWORD for p in parameters):
            break
    return names


def _vllm_parameters() -> set[str]:
    import ast
    import importlib.util

    source = importlib.util.find_spec("lm_eval.models.vllm_causallms").origin
    tree = ast.parse(Path(source).read_text(encoding="utf-8"))
    init = next(node for cls in tree.body if isinstance(cls, ast.ClassDef) and cls.name == "VLLM"
                for node in cls.body if isinstance(node, ast.FunctionDef) and node.name == "__init__")
    return {arg.arg for arg in init.args.args + init.args.kwonlyargs} - {"self"}


def check_served(base_url: str, model: str, timeout: float = 10.0) -> None:
    """The server at `base_url` (…/v1) must serve `model` (as `vllm serve MODEL` names it); ConfigError otherwise."""
    import urllib.error
    import urllib.request

    url = base_url.rstrip("/") + "/models"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (the configured server)
            served = [item.get("id") for item in json.loads(response.read().decode("utf-8")).get("data", [])]
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise ConfigError(f"eval.server_url: no OpenAI-compatible server answers at {url} ({error})") from None
    if model not in served:
        raise ConfigError(f"eval.server_url: {base_url} serves {served}, not {model!r}; start `vllm serve {model}` "
                          "(one server per checkpoint) or evaluate with eval.model vllm")


def evaluate_checkpoint(model: str, spec: EvalSpec, out_dir: str | Path, seed: int = 0,
                        revision: str | None = None, device: str | None = None) -> dict[str, dict[str, float]]:
    """pass@k (and its standard error) per task for one model path or Hub id."""
    import lm_eval
    from lm_eval.tasks import TaskManager

    from midrl_bench.tasks import include_path

    device = device or _default_device()
    name, model_args, batch_size = lm_eval_model(spec, model, device, seed, revision)
    check_model_args(name, model_args)
    if spec.model == "server":
        check_served(spec.server_url, model)
    task_manager = TaskManager(include_path=include_path(), metadata={"repeats": spec.repeats})
    results = lm_eval.simple_evaluate(
        model=name, model_args=model_args, tasks=list(spec.tasks), task_manager=task_manager, limit=spec.limit,
        batch_size=batch_size, device=device if spec.model == "hf" else None, apply_chat_template=True,
        gen_kwargs=spec.gen_kwargs(), random_seed=seed, numpy_random_seed=seed,
        torch_random_seed=seed, log_samples=False,
    )
    scores = parse_scores(results["results"])
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    record = {"model": model, "scores": scores, "lm_eval_results": results["results"],
              "lm_eval_config": results.get("config"), "task_versions": results.get("versions"),
              "lm_eval_model": {"name": name, "model_args": model_args, "batch_size": batch_size},
              "scoring": _scoring_settings(results),
              "provenance": provenance_record(kind="midrl-eval", eval_spec=spec.__dict__, seed=seed, device=device)}
    (out_dir / "results.json").write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")
    return scores


def _scoring_settings(results: dict[str, Any]) -> dict[str, Any]:
    """The checker settings each task scored with, as the pack records them in lm-eval's task configs."""
    configs = results.get("configs") or {}
    return {task: (config.get("metadata") or {}).get("scoring") for task, config in configs.items()}


def eval_plan(spec: EvalSpec, model: str, seed: int = 0, revision: str | None = None) -> dict[str, Any]:
    """What `evaluate_checkpoint` would run on a GPU machine, as a dry-run prints it (lm-eval CLI form included)."""
    name, model_args, batch_size = lm_eval_model(spec, model, "cuda", seed, revision)
    check_model_args(name, model_args)
    arg_string = ",".join(f"{key}={value}" for key, value in model_args.items())
    gen_string = ",".join(f"{key}={value}" for key, value in spec.gen_kwargs().items())
    command = (f"lm_eval --include_path \"$(midrl tasks path)\" --model {name} --model_args {arg_string} "
               f"--tasks {','.join(spec.tasks)} --batch_size {batch_size} --apply_chat_template "
               f"--gen_kwargs {gen_string} --metadata '{{\"repeats\": {spec.repeats}}}' "
               f"--seed {seed}")
    return {"lm_eval_model": name, "model_args": model_args, "batch_size": batch_size, "command": command}


def parse_scores(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """{task: {"pass@k": v, "pass@k_stderr": s}} from lm-eval's `results` block (filter `all`)."""
    scores: dict[str, dict[str, float]] = {}
    for task, metrics in results.items():
        for key, value in metrics.items():
            parsed = parse_metric_key(key)
            if (parsed and parsed.family == "pass" and parsed.filter == "all" and parsed.part in ("value", "stderr")
                    and isinstance(value, (int, float))):
                scores.setdefault(task, {})[parsed.metric + ("_stderr" if parsed.part == "stderr" else "")] = float(value)
    return scores


def _default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
