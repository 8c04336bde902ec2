"""Evaluation settings (`eval.model: hf | vllm | server`) mapped onto lm-eval's models, checked with lm-eval itself.

- The model_args we generate must be constructor parameters of lm-eval's own classes (`check_model_args`; vLLM's
  from the installed lm-eval source, since importing it needs vLLM).
- `local-completions` through lm-eval's real `LocalCompletionsAPI.generate_until` against a small OpenAI-style
  HTTP endpoint on localhost that records the token ids it receives: with our max_length the whole prompt arrives;
  with lm-eval's default max_length (2048) and max_gen_toks 3072 it does not (the bug in issue 15, item 7).
- `local-chat-completions` built by lm-eval from our args: batch 1, `num_concurrent` requests in flight.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from midrl_bench.config import ConfigError
from midrl_bench.pipeline.evaluate import check_model_args, check_served, eval_plan, lm_eval_model
from midrl_bench.pipeline.spec import EvalSpec, TinyModelSpec, spec_from_dict

PAPER = Path(__file__).resolve().parents[1] / "recipes" / "paper-llama-3.2-3b.yaml"


class _Endpoint(BaseHTTPRequestHandler):
    """/v1/models lists one model; /v1/completions records the prompt it got and answers "ok"."""

    served = "served-model"
    received: list = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        self._reply({"object": "list", "data": [{"id": self.served, "object": "model"}]})

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompts = body["prompt"] if isinstance(body["prompt"][0], list) else [body["prompt"]]
        type(self).received.extend(prompts)
        self._reply({"choices": [{"index": i, "text": "ok", "finish_reason": "stop"} for i in range(len(prompts))]})

    def _reply(self, payload):
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture()
def endpoint():
    _Endpoint.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from midrl_bench.pipeline.tiny import build_tiny_model

    path = tmp_path_factory.mktemp("tiny") / "model"
    build_tiny_model(TinyModelSpec(max_position_embeddings=8192), path)
    return str(path)


def _paper_eval(**changes) -> EvalSpec:
    data = yaml.safe_load(PAPER.read_text(encoding="utf-8"))
    data["eval"].update(changes)
    return spec_from_dict(data, recipe_path=str(PAPER)).eval


# ------------------------------------------------------------------ model_args against lm-eval's classes
@pytest.mark.parametrize("changes, name, batch", [
    ({}, "vllm", "auto"),  # the paper recipe: vLLM, engine-side batching
    ({"model": "hf", "batch_size": "auto", "data_parallel_size": 1}, "hf", "auto"),  # transformers, auto batch
    ({"model": "server", "server_url": "http://h:8000/v1", "data_parallel_size": 1}, "local-chat-completions", 1),
    ({"model": "server", "server_url": "http://h:8000/v1", "server_api": "completions", "data_parallel_size": 1},
     "local-completions", 1),  # completions API: lm-eval tokenizes and truncates by max_length
])
def test_generated_model_args_are_lm_eval_parameters(changes, name, batch):
    spec = _paper_eval(**changes)
    got_name, args, got_batch = lm_eval_model(spec, "org/ckpt", "cuda", seed=3)
    assert (got_name, got_batch) == (name, batch)
    check_model_args(name, args)  # raises on a key lm-eval's class would not take
    if name == "vllm":
        assert (args["tensor_parallel_size"], args["data_parallel_size"], args["max_model_len"]) == (1, 4, 5120)
    if name == "local-completions":
        assert args["max_length"] == 2048 + 3072 and args["tokenized_requests"] is True


def test_a_misspelt_model_arg_is_refused_by_lm_evals_signature():
    with pytest.raises(ConfigError, match=r"lm-eval's 'vllm' model takes no argument\(s\) \['tensor_parallel'\]"):
        check_model_args("vllm", {"pretrained": "m", "tensor_parallel": 2})
    with pytest.raises(ConfigError, match=r"'local-completions' model takes no argument\(s\) \['concurrency'\]"):
        check_model_args("local-completions", {"model": "m", "concurrency": 8})


def test_paper_dry_run_prints_vllm_with_auto_batches():
    plan = eval_plan(_paper_eval(), "org/ckpt")
    assert "--model vllm" in plan["command"] and "--batch_size auto" in plan["command"]
    assert "data_parallel_size=4" in plan["command"] and "max_model_len=5120" in plan["command"]


def test_a_static_cache_reaches_lm_evals_gen_kwargs_parser():
    """The dry run's `--gen_kwargs` string, parsed by lm-eval's own parser, gives what `simple_evaluate` is passed."""
    from lm_eval.utils import simple_parse_args_string

    spec = EvalSpec(max_gen_toks=384, cache_implementation="static")
    command = eval_plan(spec, "org/ckpt")["command"]
    declared = command.split("--gen_kwargs ")[1].split(" ")[0]
    assert simple_parse_args_string(declared) == spec.gen_kwargs() == {"max_gen_toks": 384,
                                                                       "cache_implementation": "static"}
    assert EvalSpec().gen_kwargs() == {"max_gen_toks": 3072}  # the default cache is not declared


@pytest.mark.parametrize("changes, message", [
    ({"model": "vllm", "batch_size": 8}, 'use "auto" with eval.model vllm'),  # a fixed batch starves vLLM
    ({"model": "server"}, "eval.server_url: give it exactly when"),  # server without an address
    ({"model": "hf", "tensor_parallel_size": 2}, "only for eval.model vllm"),  # hf cannot shard this way
    ({"batch_size": 0}, "eval.batch_size must be > 0"),
    ({"gpu_memory_utilization": 1.5}, "eval.gpu_memory_utilization must be in"),
    ({"model": "vllm", "cache_implementation": "static"}, "eval.cache_implementation: only for eval.model hf"),
])
def test_bad_eval_settings_name_the_field(changes, message):
    with pytest.raises(ConfigError, match=message):
        lm_eval_model(EvalSpec(**changes), "m", "cuda")


# ------------------------------------------------------------------ the server recipes through lm-eval itself
def _generate(lm, prompt: str, max_gen_toks: int) -> list[str]:
    from lm_eval.api.instance import Instance

    request = Instance(request_type="generate_until", doc={}, idx=0,
                       arguments=(prompt, {"until": ["\n\n"], "max_gen_toks": max_gen_toks}))
    return lm.generate_until([request])


def test_local_completions_gets_the_whole_prompt(endpoint, tiny_model):
    from lm_eval.models.openai_completions import LocalCompletionsAPI

    spec = EvalSpec(model="server", server_url=endpoint, server_api="completions", num_concurrent=1)
    name, args, batch = lm_eval_model(spec, tiny_model, "cuda")
    prompt = "12+34=" * 250  # 1,500 characters = 1,500 tokens of the character-level tokenizer
    lm = LocalCompletionsAPI(**args, batch_size=batch)
    assert _generate(lm, prompt, spec.max_gen_toks) == ["ok"]
    assert len(_Endpoint.received[-1]) == len(lm.tok_encode(prompt)) == 1500  # the whole prompt arrived

    default_args = {key: value for key, value in args.items() if key != "max_length"}  # lm-eval's 2048
    lm_default = LocalCompletionsAPI(**default_args, batch_size=batch)
    _generate(lm_default, prompt, spec.max_gen_toks)
    assert len(_Endpoint.received[-1]) < 1500  # without it lm-eval cuts the prompt


def test_local_chat_completions_is_built_from_our_args(endpoint):
    from lm_eval.models.openai_completions import LocalChatCompletion

    name, args, batch = lm_eval_model(EvalSpec(model="server", server_url=endpoint, num_concurrent=32), "m", "cuda")
    lm = LocalChatCompletion(**args, batch_size=batch)
    assert name == "local-chat-completions" and lm.base_url == f"{endpoint}/chat/completions"
    assert (lm._batch_size, lm._concurrent, lm._max_gen_toks) == (1, 32, 3072)


def test_check_served_names_the_server_and_the_missing_model(endpoint):
    check_served(endpoint, "served-model")  # served: passes
    with pytest.raises(ConfigError, match=r"serves \['served-model'\], not 'runs/x/rl/checkpoint'"):
        check_served(endpoint, "runs/x/rl/checkpoint")
    with pytest.raises(ConfigError, match="eval.server_url: no OpenAI-compatible server answers at"):
        check_served("http://127.0.0.1:9/v1", "m", timeout=2)


def test_paper_compare_dry_run_shows_precision_vllm_eval_and_the_mapping(capsys):
    from midrl_bench.pipeline.compare_cli import main

    assert main(["--spec", str(PAPER), "--backends", "trl,openrlhf", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "loss aggregation" in out  # the GRPO mapping table (equalised objective)
    assert "trl midtrain: master weights float32 (fp32 master weights in DeepSpeed's ZeRO-2 optimizer" in out
    assert "openrlhf rl: DeepSpeed ZeRO-2 with ds.param_dtype=bf16: fp32 master weights" in out
    evals = [line for line in out.splitlines() if "$ lm_eval" in line]
    assert len(evals) == 5  # base + 2 backends x (midtrain, rl)
    assert all("--model vllm" in line and "--batch_size auto" in line for line in evals)
