"""Data-parallel vLLM on Ray: ``--data-parallel N`` runs N engine replicas as Ray actors.

* **Where the replicas run**: a local Ray started for the run (default), or an existing cluster
  (``--ray-address``, e.g. ``auto`` or ``ray://head:10001`` after ``ray start --head``). Each replica
  asks Ray for its share of the machine: ``tensor_parallel_size`` GPUs on a GPU cluster (Ray's resource
  accounting places them), or on CPU a contiguous group of this machine's cores, to which the
  replica's vLLM binds its OpenMP threads (``VLLM_CPU_OMP_THREADS_BIND``), so that replicas do not
  starve each other. Tensor parallelism inside a replica stays as with one engine.
* **One schedule over all replicas**: the runner hands over its whole workload (longest expected
  work first); the driver keeps every replica fed from one queue (up to ``window`` requests in
  flight per replica), so a replica that finishes early takes the next request instead of idling;
  each output is yielded, and cached by the runner, as soon as its replica finishes it.
* **Faults**: a replica that dies has its unfinished requests put back at the head of the queue
  for the others; nothing finished is lost; the run stops with one line only when no replica is left.
* **Same numbers**: prompts are rendered and tokenized by the driver exactly as by a single vLLM
  engine, and the cache identity is that engine's (``data_parallel``/``ray_address`` only say how
  requests travel), so a rerun on one engine finds the data-parallel run's outputs and vice versa.

Each replica is a threaded actor: one thread owns the engine (adds submitted requests, steps it,
collects finished outputs), the other answers ``poll`` calls. The package must be importable on
every node (``pip install tulu-eval`` there).
"""

from __future__ import annotations

import os
import time
from collections import deque
from typing import Any

from ..errors import UserError
from ..api.request import Request
from .base import Backend, GenOutput, LLResult, collect

INSTALL_HINT = "pip install 'tulu-eval[ray]' (ray==2.60.0)"


def ray_available() -> bool:
    import importlib.util  # noqa: PLC0415

    return importlib.util.find_spec("ray") is not None


def cpu_groups(n: int, cores: list[int] | None = None) -> list[list[int]]:
    """This machine's cores split into ``n`` contiguous groups of equal size (the rest left unused)."""
    cores = sorted(cores if cores is not None else os.sched_getaffinity(0))
    if n > len(cores):
        raise UserError(f"--data-parallel {n}: this machine has {len(cores)} cores; on CPU each replica needs at "
                        "least one")
    size = len(cores) // n
    return [cores[i * size:(i + 1) * size] for i in range(n)]


def replica_options(index: int, n: int, on_gpu: bool, tensor_parallel_size: int = 1,
                    cores: list[int] | None = None) -> dict[str, Any]:
    """Ray actor options of replica ``index`` of ``n``: GPUs by Ray's accounting, or pinned CPU cores."""
    if on_gpu:
        return {"num_gpus": tensor_parallel_size, "num_cpus": 1}
    group = cpu_groups(n, cores)[index]
    return {"num_cpus": len(group),
            "runtime_env": {"env_vars": {"VLLM_CPU_OMP_THREADS_BIND": ",".join(map(str, group)),
                                         "OMP_NUM_THREADS": str(len(group))}}}


def _replica_class():
    import ray  # noqa: PLC0415

    @ray.remote(max_concurrency=2)
    class Replica:
        """One vLLM engine; ``submit`` queues requests, ``poll`` returns finished outputs."""

        def __init__(self, model_path: str, kwargs: dict):
            import queue  # noqa: PLC0415
            import threading  # noqa: PLC0415

            from .vllm import VLLMBackend  # noqa: PLC0415

            self.backend = VLLMBackend(model_path, **kwargs)
            self.inbox: queue.Queue = queue.Queue()
            self.done: list = []
            self.lock = threading.Lock()  # the engine is used by one thread at a time
            self.arrived = threading.Condition()
            self.failure: str | None = None
            self.thread = threading.Thread(target=self._loop, daemon=True)

        def start(self) -> int:
            self.backend._load()
            self.thread.start()
            return os.getpid()

        def submit(self, items: list) -> None:
            for item in items:
                self.inbox.put(item)

        def poll(self, wait: float = 1.0) -> list:
            """Finished ``(position, GenOutput)`` pairs, waiting up to ``wait`` seconds for the first."""
            with self.arrived:
                if not self.done and self.failure is None:
                    self.arrived.wait(wait)
                out, self.done = self.done, []
            if self.failure is not None and not out:
                raise RuntimeError(self.failure)
            return out

        def _loop(self) -> None:
            import queue  # noqa: PLC0415

            from vllm.sampling_params import RequestOutputKind  # noqa: PLC0415

            engine = self.backend.llm.llm_engine
            mine: dict[str, tuple[int, Request]] = {}
            try:
                while True:
                    try:
                        item = self.inbox.get(timeout=0.05) if not mine else self.inbox.get_nowait()
                    except queue.Empty:
                        item = None
                    while item is not None:
                        pos, req, prompt = item
                        inputs, params = self.backend._params([req], [prompt])
                        params[0].output_kind = RequestOutputKind.FINAL_ONLY
                        with self.lock:
                            engine.add_request(f"dp-{pos}", inputs[0], params[0])
                        mine[f"dp-{pos}"] = (pos, req)
                        try:
                            item = self.inbox.get_nowait()
                        except queue.Empty:
                            item = None
                    if not mine:
                        continue
                    with self.lock:
                        outs = engine.step()
                    finished = []
                    for out in outs:
                        if out.finished and out.request_id in mine:
                            pos, req = mine.pop(out.request_id)
                            finished.append((pos, self.backend._output(req, out)))
                    if finished:
                        with self.arrived:
                            self.done.extend(finished)
                            self.arrived.notify_all()
            except Exception as exc:  # the engine died: the driver re-queues this replica's requests
                with self.arrived:
                    self.failure = f"{type(exc).__name__}: {exc}"
                    self.arrived.notify_all()

        def loglikelihood(self, pairs: list) -> list:
            with self.lock:
                return self.backend.loglikelihood(pairs)

        def pid(self) -> int:
            return os.getpid()

    return Replica


class DataParallelBackend(Backend):
    """``replicas`` vLLM engines on Ray behind the ordinary backend interface (see the module docstring)."""

    name = "vllm"

    def __init__(self, model_path: str, replicas: int, ray_address: str | None = None, window: int = 256,
                 **vllm_kwargs: Any):
        if not ray_available():
            raise UserError(f"--data-parallel needs Ray: {INSTALL_HINT}")
        from .vllm import VLLMBackend, _on_cpu  # noqa: PLC0415

        if replicas < 1:
            raise UserError("--data-parallel must be at least 1")
        self.replicas, self.ray_address, self.window = int(replicas), ray_address, int(window)
        self.on_gpu = not _on_cpu()
        if not self.on_gpu and "gpu_memory_utilization" not in vllm_kwargs:
            # on CPU this is the KV cache's share of RAM, per engine: the replicas share one machine
            vllm_kwargs["gpu_memory_utilization"] = round(0.3 / self.replicas, 3)
        self.local = VLLMBackend(model_path, **vllm_kwargs)  # renders and tokenizes; its engine never starts
        self.model_path, self.vllm_kwargs = model_path, vllm_kwargs
        self.actors: list = []
        self.started_ray = False
        self.dead: list[str] = []

    # --- the single engine's rendering and identity ---
    def render(self, request: Request) -> str:
        return self.local.render(request)

    def config(self) -> dict[str, Any]:
        cfg = {**self.local.config(), "data_parallel": self.replicas, "ray_address": self.ray_address}
        if not self.on_gpu:  # each replica's own cores (replica_options), not the single engine's
            cfg["cpu_threads_bind"] = "|".join(",".join(map(str, g)) for g in cpu_groups(self.replicas))
        return cfg

    # --- replicas ---
    def _start(self) -> list:
        if self.actors:
            return self.actors
        import ray  # noqa: PLC0415

        if not ray.is_initialized():
            try:
                if self.ray_address:
                    ray.init(address=self.ray_address, log_to_driver=False)
                else:
                    ray.init(include_dashboard=False, log_to_driver=False,
                             num_cpus=None if self.on_gpu else len(os.sched_getaffinity(0)))
            except Exception as exc:
                where = self.ray_address or "a local Ray"
                raise UserError(f"--data-parallel: could not start {where} ({type(exc).__name__}: "
                                f"{str(exc).strip().splitlines()[-1] if str(exc).strip() else ''})") from None
            self.started_ray = True
        Replica = _replica_class()
        tp = int(self.vllm_kwargs.get("tensor_parallel_size", 1))
        self.actors = [Replica.options(**replica_options(i, self.replicas, self.on_gpu, tp))
                       .remote(self.model_path, self.vllm_kwargs) for i in range(self.replicas)]
        try:
            ray.get([a.start.remote() for a in self.actors])
        except Exception as exc:
            self.close()
            raise UserError(f"--data-parallel: a replica could not start vLLM ({type(exc).__name__}: "
                            f"{str(exc).strip().splitlines()[-1][:300] if str(exc).strip() else ''})") from None
        return self.actors

    def generate(self, requests: list[Request], prompts: list[str]) -> list[GenOutput]:
        return collect(self.generate_stream(requests, prompts), len(requests))

    def generate_stream(self, requests: list[Request], prompts: list[str]):
        import ray  # noqa: PLC0415

        actors = list(self._start())
        todo = deque(range(len(requests)))  # the runner's order: longest expected work first
        owned: dict[Any, set[int]] = {a: set() for a in actors}
        polls: dict[Any, Any] = {}
        left = len(requests)

        def feed(actor) -> None:
            batch = []
            while todo and len(owned[actor]) < self.window:
                pos = todo.popleft()
                owned[actor].add(pos)
                batch.append((pos, requests[pos], prompts[pos]))
            if batch:
                actor.submit.remote(batch)

        for a in actors:
            feed(a)
            polls[a] = a.poll.remote()
        try:
            while left:
                ready, _ = ray.wait(list(polls.values()), num_returns=1)
                actor = next(a for a, ref in polls.items() if ref == ready[0])
                try:
                    finished = ray.get(ready[0])
                except Exception as exc:  # the replica (or its engine) died: its unfinished requests go back
                    lost = sorted(owned.pop(actor))
                    polls.pop(actor)
                    self.dead.append(f"{type(exc).__name__}")
                    todo.extendleft(reversed(lost))
                    if not polls:
                        raise UserError(f"--data-parallel: all {self.replicas} replicas died "
                                        f"({len(requests) - left} of {len(requests)} requests done and cached; "
                                        "rerun the same command to resume)") from None
                    for a in polls:
                        feed(a)
                    continue
                for pos, out in finished:
                    if pos in owned[actor]:
                        owned[actor].discard(pos)
                        left -= 1
                        yield pos, out
                feed(actor)
                polls[actor] = actor.poll.remote()
        finally:
            # the last poll of each replica is still in flight: wait for it (at most ~1 s; nothing is left to
            # return) so that it cannot take outputs of this backend's next workload (--chunk-size, reasoning)
            for ref in polls.values():
                try:
                    ray.get(ref, timeout=30)
                except Exception:
                    pass
        self.actors = list(polls)  # the survivors

    def loglikelihood(self, pairs: list[tuple[str, str]]) -> list[LLResult]:
        """Pairs split evenly over the replicas; a replica that dies has its share redone by the survivors."""
        import ray  # noqa: PLC0415

        actors = list(self._start())
        results: list[LLResult | None] = [None] * len(pairs)
        todo = list(range(len(pairs)))
        while todo:
            if not actors:
                raise UserError(f"--data-parallel: all {self.replicas} replicas died while scoring choices "
                                f"(last: {self.dead[-1] if self.dead else '?'}; generations done so far are cached; "
                                "rerun the same command to resume)")
            size = -(-len(todo) // len(actors))
            shares = [(a, todo[i * size:(i + 1) * size]) for i, a in enumerate(actors)]
            refs = [(a, idx, a.loglikelihood.remote([pairs[j] for j in idx])) for a, idx in shares if idx]
            todo = []
            for actor, idx, ref in refs:
                try:
                    part = ray.get(ref)
                except Exception as exc:  # the replica died: its share goes to the others
                    self.dead.append(f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else ''}")
                    actors.remove(actor)
                    todo.extend(idx)
                    continue
                for j, r in zip(idx, part):
                    results[j] = r
        self.actors = actors
        return results  # type: ignore[return-value]

    def close(self) -> None:
        if not self.actors and not self.started_ray:
            return
        try:
            import ray  # noqa: PLC0415

            for a in self.actors:
                try:
                    ray.kill(a)
                except Exception:
                    pass
            self.actors = []
            if self.started_ray:
                ray.shutdown()
                self.started_ray = False
        except Exception:
            pass
