"""The `openai` backend over real HTTP: a small stdlib server for concurrency, retries and request bodies, and a real
`transformers serve` of SmolLM2-135M-Instruct on loopback for generation and seeds."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from midrl_bench.generation import GenerationError, GenerationRequest, SamplingParams, get_backend


class ScriptedServer:
    """An OpenAI-shaped HTTP server: answers `failures` error statuses first, then echoes; records bodies and the
    largest number of requests in flight at once."""

    def __init__(self, failures: list[tuple[int, dict]] | None = None, delay_s: float = 0.0,
                 ignore_n: bool = False) -> None:
        self.failures = list(failures or [])
        self.ignore_n = ignore_n  # answer one choice whatever `n` asks, as `transformers serve` does
        self.delay_s = delay_s
        self.bodies: list[tuple[str, dict]] = []
        self.in_flight = self.max_in_flight = 0
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                return

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.bodies.append((self.path, body))
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                    failure = server.failures.pop(0) if server.failures else None
                time.sleep(server.delay_s)
                with server.lock:
                    server.in_flight -= 1
                status, headers = failure or (200, {})
                asked = {**body, "n": 1} if server.ignore_n else body
                payload = _echo(self.path, asked) if status == 200 else {"error": {"message": f"status {status}"}}
                data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _echo(path: str, body: dict) -> dict:
    """`n` choices (as vLLM answers; listed last-first to check that order comes from `index`), 4 tokens each."""
    text = f"seed={body.get('seed')} " + (body["messages"][-1]["content"] if "messages" in body else body["prompt"])
    choices = []
    for index in reversed(range(body.get("n", 1))):
        choice = {"index": index, "finish_reason": "length"}
        answer = text if body.get("n", 1) == 1 else f"{text} #{index}"
        choice.update({"message": {"role": "assistant", "content": answer}} if path.endswith("/chat/completions")
                      else {"text": answer})
        choices.append(choice)
    return {"choices": choices, "usage": {"prompt_tokens": 3, "completion_tokens": 4 * len(choices)}}


def _backend(url: str, **options):
    return get_backend("openai", base_url=url, model="scripted", backoff_s=0.01, max_backoff_s=0.05, **options)


def test_concurrency_is_bounded_and_order_kept():
    requests = [GenerationRequest(key=f"k{i}", prompt=f"p{i}", seed=i) for i in range(8)]
    with ScriptedServer(delay_s=0.15) as server:
        generations = _backend(server.base_url, max_concurrency=3).generate(requests)
    assert server.max_in_flight == 3  # 8 slow requests, never more than 3 at once
    assert [g.text for g in generations] == [f"seed={i} p{i}" for i in range(8)]


def test_request_bodies_one_sample_each_with_its_seed():
    sampling = SamplingParams(temperature=0.3, top_p=0.8, max_new_tokens=9, stop=["\n\n"])
    requests = [GenerationRequest(key="chat", messages=[{"role": "user", "content": "hi"}], sampling=sampling, seed=5),
                GenerationRequest(key="plain", prompt="Q:", seed=6)]
    with ScriptedServer() as server:
        generations = _backend(server.base_url, max_concurrency=1, extra_body={"top_k": 20}).generate(requests)
    (chat_path, chat), (plain_path, plain) = server.bodies
    assert (chat_path, plain_path) == ("/v1/chat/completions", "/v1/completions")
    assert chat == {"model": "scripted", "n": 1, "stream": False, "temperature": 0.3, "top_p": 0.8, "max_tokens": 9,
                    "messages": [{"role": "user", "content": "hi"}], "stop": ["\n\n"], "seed": 5, "top_k": 20}
    assert plain["seed"] == 6 and plain["prompt"] == "Q:" and "stop" not in plain
    assert [(g.text, g.prompt_tokens, g.completion_tokens, g.finish_reason) for g in generations] == [
        ("seed=5 hi", 3, 4, "length"), ("seed=6 Q:", 3, 4, "length")]


def test_grouped_samples_go_as_one_request_with_n_and_the_pinned_date():
    messages = [{"role": "user", "content": "q"}]
    pair = [GenerationRequest(key=f"p|h|{i}", messages=messages, seed=7 + i,
                              chat_template_kwargs={"date_string": "26 Jul 2024"}) for i in range(3)]
    with ScriptedServer() as server:
        generations = _backend(server.base_url, group_samples=True, send_seed=False).generate(pair)
    ((_, body),) = server.bodies  # one HTTP request for the three samples
    assert body["n"] == 3 and "seed" not in body and body["chat_template_kwargs"] == {"date_string": "26 Jul 2024"}
    assert [(g.key, g.text, g.completion_tokens) for g in generations] == [
        ("p|h|0", "seed=None q #0", 4), ("p|h|1", "seed=None q #1", 4), ("p|h|2", "seed=None q #2", 4)]


def test_a_server_that_ignores_n_is_reported():
    pair = [GenerationRequest(key=f"k{i}", prompt="p", seed=i) for i in range(2)]
    with ScriptedServer(ignore_n=True) as server:
        with pytest.raises(GenerationError, match="asked for n=2, got 1 choices"):
            _backend(server.base_url, group_samples=True).generate(pair)


def test_next_shard_is_queued_while_one_finishes():
    shards = [(i, [GenerationRequest(key=f"s{i}-{j}", prompt=f"p{j}", seed=j) for j in range(2)]) for i in range(3)]
    with ScriptedServer(delay_s=0.2) as server:
        results = list(_backend(server.base_url, max_concurrency=4).generate_shards(iter(shards)))
    assert [index for index, _ in results] == [0, 1, 2]
    assert [[g.key for g in gens] for _, gens in results] == [[r.key for r in reqs] for _, reqs in shards]
    assert server.max_in_flight == 4  # shard 1 ran alongside shard 0: no drain at the shard boundary


@pytest.mark.parametrize(
    "failures",
    [
        [(503, {})],  # a server error, then success
        [(429, {"Retry-After": "0"}), (502, {})],  # rate limited, then a bad gateway, then success
    ],
)
def test_transient_failures_are_retried(failures):
    with ScriptedServer(failures=failures) as server:
        backend = _backend(server.base_url)
        (generation,) = backend.generate([GenerationRequest(key="k", prompt="p", seed=1)])
    assert generation.text == "seed=1 p"
    assert backend.retries_used == len(failures) and len(server.bodies) == len(failures) + 1


def test_client_errors_fail_at_once_with_the_server_message():
    with ScriptedServer(failures=[(400, {})]) as server:
        with pytest.raises(GenerationError, match=r"request 'k' .*HTTP 400: .*status 400"):
            _backend(server.base_url).generate([GenerationRequest(key="k", prompt="p")])
    assert len(server.bodies) == 1


def test_retries_are_bounded():
    with ScriptedServer(failures=[(500, {})] * 3) as server:
        with pytest.raises(GenerationError, match="failed after 3 attempts: HTTP 500"):
            _backend(server.base_url, max_retries=2).generate([GenerationRequest(key="k", prompt="p")])


def test_connection_refused_is_retried_then_reported():
    with ScriptedServer() as server:
        url = server.base_url
    with pytest.raises(GenerationError, match="failed after 2 attempts: URLError"):
        _backend(url, max_retries=1).generate([GenerationRequest(key="k", prompt="p")])


@pytest.fixture(scope="module")
def smollm2_server():
    from midrl_bench.generation.local_models import smollm2_135m_instruct_dir
    from midrl_bench.generation.serve import local_openai_server

    model_dir = smollm2_135m_instruct_dir()
    with local_openai_server(model_dir) as base_url:
        yield base_url, str(model_dir)


@pytest.mark.slow
def test_transformers_serve_generates_with_seeds(smollm2_server):
    base_url, model = smollm2_server
    # transformers serve seeds its global torch RNG per request: reproducible one request at a time
    backend = get_backend("openai", base_url=base_url, model=model, max_concurrency=1)
    warm = SamplingParams(temperature=1.0, max_new_tokens=8)
    story = [{"role": "user", "content": "Tell me a short story."}]
    requests = [
        GenerationRequest(key="greedy", prompt="The capital of France is",
                          sampling=SamplingParams(temperature=0.0, max_new_tokens=3)),
        GenerationRequest(key="seed1", messages=story, sampling=warm, seed=1),
        GenerationRequest(key="seed2", messages=story, sampling=warm, seed=2),
        GenerationRequest(key="seed1-again", messages=story, sampling=warm, seed=1),
    ]
    first = backend.generate(requests)
    again = backend.generate(requests[1:2])
    assert "Paris" in first[0].text and first[0].prompt_tokens > 0 and first[0].completion_tokens <= 3
    assert first[1].text and first[1].completion_tokens <= 8 and first[1].finish_reason == "length"
    assert first[1].text == first[3].text == again[0].text  # same seed, same sample
    assert first[1].text != first[2].text  # another seed, another sample (the model does sample)
    assert model in backend.describe()["server_models"]


@pytest.mark.slow
def test_transformers_serve_under_concurrency_answers_every_request(smollm2_server):
    base_url, model = smollm2_server
    backend = get_backend("openai", base_url=base_url, model=model, max_concurrency=3)
    requests = [GenerationRequest(key=f"k{i}", prompt=f"{i} + {i} =", seed=i,
                                  sampling=SamplingParams(temperature=0.0, max_new_tokens=2)) for i in range(6)]
    generations = backend.generate(requests)
    assert [g.key for g in generations] == [r.key for r in requests]
    assert all(g.text and 0 < g.completion_tokens <= 2 for g in generations)
