"""`openai` backend: any OpenAI-compatible HTTP server (vLLM, SGLang, `transformers serve`, hosted APIs).

By default one HTTP request per sample (`transformers serve` ignores `n > 1`). With `group_samples: true` (vLLM, SGLang)
consecutive samples of the same prompt (`base.group_samples`: the builder's samples of one problem x heuristic) go as
one request with `n` = their number, so the server processes the prompt once. Chat requests go to `/chat/completions`,
raw prompts to `/completions`; a request's `chat_template_kwargs` (the builder's pinned date) are sent as vLLM's
`chat_template_kwargs` field when `send_chat_template_kwargs` is on. At most `max_concurrency` requests are in flight
(a thread pool); `generate_shards` queues the next shard behind the current one, so the server never drains between
shards (`vllm serve --data-parallel-size N` behind it keeps every engine busy). HTTP 429, 5xx, connection errors and timeouts are retried with exponential
backoff (honouring `Retry-After`), up to `max_retries` times; other 4xx errors fail at once with the server's message.
Standard library only (urllib), so no client package is needed.

Seeds: vLLM and SGLang honour a per-request `seed` under any concurrency. `transformers serve` seeds its global torch
RNG at the start of each request, so its samples are reproducible only with `max_concurrency: 1`; it also samples only
when the model folder's generation_config sets `do_sample` (the converted SmolLM2 folder does).
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from midrl_bench.generation.base import (
    Generation,
    GenerationError,
    GenerationRequest,
    check_unique_keys,
    group_samples,
    truncate_at_stop,
)

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class OpenAIOptions:
    base_url: str  # e.g. http://127.0.0.1:8000/v1
    model: str  # the model name the server expects
    api_key_env: str = "OPENAI_API_KEY"  # environment variable holding the key; unset means no Authorization header
    max_concurrency: int = 8
    max_retries: int = 5
    backoff_s: float = 1.0  # first retry wait; doubles each time
    max_backoff_s: float = 60.0
    timeout_s: float = 600.0  # per HTTP request
    send_seed: bool = True  # set False for servers that reject the `seed` field, or to keep vLLM on its fast sampler
    group_samples: bool = False  # one request with n = samples of the same prompt (vLLM/SGLang; not transformers serve)
    send_chat_template_kwargs: bool = True  # send requests' chat_template_kwargs (vLLM honours them)
    shards_in_flight: int = 2  # shards queued at once by generate_shards
    extra_body: dict[str, Any] = field(default_factory=dict)  # merged into every request body (e.g. top_k for vLLM)

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {self.base_url!r}")
        if self.max_concurrency < 1 or self.max_retries < 0 or self.shards_in_flight < 1:
            raise ValueError("max_concurrency and shards_in_flight must be >= 1 and max_retries >= 0")
        if self.backoff_s < 0 or self.timeout_s <= 0:
            raise ValueError("backoff_s must be >= 0 and timeout_s > 0")


class _RetryableError(Exception):
    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class OpenAIBackend:
    name = "openai"
    Options = OpenAIOptions

    def __init__(self, options: OpenAIOptions) -> None:
        self.options = options
        self.base_url = options.base_url.rstrip("/")
        self.retries_used = 0  # total retries over this backend's life, for logs and tests
        self._lock = threading.Lock()

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name, "base_url": self.base_url, "model": self.options.model,
            "max_concurrency": self.options.max_concurrency, "send_seed": self.options.send_seed,
            "group_samples": self.options.group_samples,
            "send_chat_template_kwargs": self.options.send_chat_template_kwargs,
            "extra_body": dict(self.options.extra_body), "server_models": self._server_models(),
        }

    def close(self) -> None:
        """Nothing is held open between calls (each request uses its own connection)."""

    def generate(self, requests: list[GenerationRequest]) -> list[Generation]:
        return next(iter(self.generate_shards([(0, requests)])))[1]

    def _units(self, requests: list[GenerationRequest]) -> list[list[int]]:
        return group_samples(requests) if self.options.group_samples else [[i] for i in range(len(requests))]

    def generate_shards(self, shards: Iterable[tuple[int, list[GenerationRequest]]]
                        ) -> Iterator[tuple[int, list[Generation]]]:
        """Shards in order; the next `shards_in_flight - 1` are queued in the pool while one completes."""
        source = iter(shards)
        pending: deque[tuple[int, list[GenerationRequest], list[list[int]], list[Any]]] = deque()
        with ThreadPoolExecutor(max_workers=self.options.max_concurrency, thread_name_prefix="midrl-openai") as pool:

            def submit_next() -> None:
                shard = next(source, None)
                if shard is not None:
                    index, requests = shard
                    check_unique_keys(requests, self.name)
                    units = self._units(requests)
                    futures = [pool.submit(self._one, [requests[i] for i in unit]) for unit in units]
                    pending.append((index, requests, units, futures))

            try:
                for _ in range(self.options.shards_in_flight):
                    submit_next()
                while pending:
                    index, requests, units, futures = pending.popleft()
                    results: list[Generation | None] = [None] * len(requests)
                    for unit, future in zip(units, futures, strict=True):
                        for position, generation in zip(unit, future.result(), strict=True):
                            results[position] = generation
                    submit_next()
                    yield index, results  # type: ignore[misc]
            finally:
                for _, _, _, futures in pending:
                    for future in futures:
                        future.cancel()

    def _one(self, group: list[GenerationRequest]) -> list[Generation]:
        request = group[0]
        chat = request.messages is not None
        body = self._body(request, len(group))
        response = self._post_with_retries("/chat/completions" if chat else "/completions", body, request.key)
        return _parse(response, group, chat)

    def _body(self, request: GenerationRequest, n: int = 1) -> dict[str, Any]:
        params = request.sampling
        body: dict[str, Any] = {
            "model": self.options.model, "n": n, "stream": False,
            "temperature": params.temperature, "top_p": params.top_p, "max_tokens": params.max_new_tokens,
        }
        if request.messages is not None:
            body["messages"] = request.messages
            if request.chat_template_kwargs and self.options.send_chat_template_kwargs:
                body["chat_template_kwargs"] = dict(request.chat_template_kwargs)
        else:
            body["prompt"] = request.prompt
        if params.stop:
            body["stop"] = list(params.stop)
        if self.options.send_seed:
            body["seed"] = request.seed
        body.update(self.options.extra_body)
        return body

    def _post_with_retries(self, path: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        attempt = 0
        while True:
            try:
                return self._post(path, body, key)
            except _RetryableError as error:
                if attempt >= self.options.max_retries:
                    raise GenerationError(
                        f"openai: request {key!r} to {self.base_url}{path} failed after {attempt + 1} attempts: {error}"
                    ) from None
                wait_s = min(self.options.max_backoff_s, self.options.backoff_s * 2**attempt)
                if error.retry_after_s is not None:
                    wait_s = min(self.options.max_backoff_s, max(wait_s, error.retry_after_s))
                time.sleep(wait_s * random.uniform(0.8, 1.0))
                attempt += 1
                with self._lock:
                    self.retries_used += 1

    def _post(self, path: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        api_key = os.environ.get(self.options.api_key_env)
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        http_request = urllib.request.Request(
            self.base_url + path, data=json.dumps(body).encode("utf-8"), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(http_request, timeout=self.options.timeout_s) as reply:
                return json.loads(reply.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace")[:500]
            if error.code in RETRY_STATUS:
                raise _RetryableError(f"HTTP {error.code}: {detail}", _retry_after_s(error.headers)) from None
            raise GenerationError(f"openai: request {key!r} to {self.base_url}{path}: HTTP {error.code}: {detail}") from None
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError) as error:
            raise _RetryableError(f"{type(error).__name__}: {error}") from None

    def _server_models(self) -> list[str] | None:
        """Model ids the server lists at /models (None when it does not answer), recorded for provenance."""
        try:
            with urllib.request.urlopen(self.base_url + "/models", timeout=10) as reply:
                return [item.get("id") for item in json.loads(reply.read().decode("utf-8")).get("data", [])]
        except (OSError, ValueError, AttributeError):
            return None


def _retry_after_s(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _parse(response: dict[str, Any], group: list[GenerationRequest], chat: bool) -> list[Generation]:
    """One Generation per request of the group, from the response's choices (ordered by `index`).

    With n > 1 the server reports only the total completion tokens; each choice is given an even share.
    """
    key = group[0].key
    try:
        choices = sorted(response["choices"], key=lambda choice: choice.get("index", 0))
        texts = [choice["message"]["content"] if chat else choice["text"] for choice in choices]
    except (KeyError, IndexError, TypeError, AttributeError):
        raise GenerationError(f"openai: request {key!r}: malformed response {str(response)[:300]}") from None
    if len(choices) != len(group):
        raise GenerationError(f"openai: request {key!r}: asked for n={len(group)}, got {len(choices)} choices "
                              "(does the server honour n? set group_samples: false)")
    usage = response.get("usage") or {}
    share = int(usage.get("completion_tokens") or 0) // len(group)
    generations = []
    for request, choice, raw in zip(group, choices, texts, strict=True):
        text, stopped = truncate_at_stop(raw or "", request.sampling.stop)
        finish_reason = "length" if choice.get("finish_reason") == "length" and not stopped else "stop"
        generations.append(Generation(key=request.key, text=text, prompt_tokens=int(usage.get("prompt_tokens") or 0),
                                      completion_tokens=share, finish_reason=finish_reason))
    return generations
