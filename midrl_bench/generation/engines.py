"""Supervision of engine worker processes (one per data-parallel engine): start, feed, collect, time out, stop.

A worker is `target(options, devices, inbox, outbox)` in a spawned process: it first puts `("ready", None)` or
`("failed", reason)`, then answers each `(job_id, requests)` from its inbox with `(job_id, generations)` or
`(job_id, "error text")`, in order, until it reads `None`. The supervisor keeps `jobs_in_flight` shards dispatched
(each split over the engines), yields shards in order, and turns every failure into a `GenerationError` at once:
an engine that exits (its exit code), reports an error, or stays silent past its timeout (then it is stopped).
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from midrl_bench.generation.base import Generation, GenerationError, GenerationRequest, check_unique_keys

POLL_S = 1.0  # how often a waiting parent checks that its engines are alive

Splitter = Callable[[list[GenerationRequest], int], list[list[int]]]  # (requests, engines) -> positions per engine


class EngineSupervisor:
    def __init__(self, target: Callable[..., None], options: dict[str, Any], devices: list[list[str]],
                 start_timeout_s: float, job_timeout_s: float, jobs_in_flight: int, label: str,
                 stop_grace_s: float = 30.0) -> None:
        import multiprocessing

        self.devices, self.label = devices, label
        self.job_timeout_s, self.jobs_in_flight, self.stop_grace_s = job_timeout_s, jobs_in_flight, stop_grace_s
        context = multiprocessing.get_context("spawn")  # CUDA cannot be re-initialised in a forked child
        self._workers: list[tuple[Any, Any, Any]] = []
        for engine_devices in devices:
            inbox, outbox = context.Queue(), context.Queue()
            # not a daemon: engines (vLLM) start processes of their own, which daemons may not
            process = context.Process(target=target, args=(options, engine_devices, inbox, outbox))
            process.start()
            self._workers.append((process, inbox, outbox))
        for rank in range(len(self._workers)):
            status, detail = self._receive(rank, start_timeout_s, "start-up")
            if status != "ready":
                self.close()
                raise GenerationError(f"{label}: engine {rank} on GPUs {devices[rank]} failed to start: {detail}")

    def _receive(self, rank: int, timeout_s: float, what: str) -> tuple[Any, Any]:
        """The next message of engine `rank`; an engine that died or is silent past `timeout_s` raises."""
        process, _, outbox = self._workers[rank]
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return outbox.get(timeout=min(POLL_S, timeout_s))
            except queue.Empty:
                pass
            if not process.is_alive():
                code = process.exitcode
                self.close()
                raise GenerationError(f"{self.label}: engine {rank} on GPUs {self.devices[rank]} died during {what} "
                                      f"(exit code {code})")
            if time.monotonic() > deadline:
                self.close()
                raise GenerationError(f"{self.label}: engine {rank} on GPUs {self.devices[rank]} gave no answer "
                                      f"within {timeout_s:g} s during {what}; stopped it")

    def run(self, shards: Iterable[tuple[int, list[GenerationRequest]]], split: Splitter
            ) -> Iterator[tuple[int, list[Generation]]]:
        """Generations of each shard, in shard order, with up to `jobs_in_flight` shards dispatched at once."""
        if not self._workers:
            raise GenerationError(f"{self.label}: backend is closed")
        pending: list[tuple[int, int, list[list[int]]]] = []  # (shard, request count, positions per engine)
        source = iter(shards)
        while True:
            while len(pending) < self.jobs_in_flight and (shard := next(source, None)) is not None:
                index, requests = shard
                check_unique_keys(requests, self.label)
                slices = split(requests, len(self._workers))
                for rank, positions in enumerate(slices):
                    self._workers[rank][1].put((index, [requests[i] for i in positions]))
                pending.append((index, len(requests), slices))
            if not pending:
                return
            index, count, slices = pending.pop(0)
            yield index, self._collect(index, count, slices)

    def _collect(self, index: int, count: int, slices: list[list[int]]) -> list[Generation]:
        results: list[Generation | None] = [None] * count
        for rank, positions in enumerate(slices):
            job_id, answer = self._receive(rank, self.job_timeout_s, f"shard {index}")
            if isinstance(answer, str) or job_id != index:
                self.close()
                reason = answer if isinstance(answer, str) else f"answered shard {job_id} while shard {index} was due"
                raise GenerationError(f"{self.label}: engine {rank} on GPUs {self.devices[rank]} failed on shard "
                                      f"{index}: {reason}")
            for i, generation in zip(positions, answer, strict=True):
                results[i] = generation
        return results  # type: ignore[return-value]

    def close(self) -> None:
        """Ask every engine to stop, then terminate (and kill) the ones that do not; safe to call twice."""
        for process, inbox, _ in self._workers:
            if process.is_alive():
                inbox.put(None)
        for process, _, _ in self._workers:
            process.join(timeout=self.stop_grace_s)
            if process.is_alive():
                process.terminate()
                process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join(timeout=10)
        self._workers = []
