"""Inference backends behind one interface (see ``base.py``)."""

from __future__ import annotations

import importlib
from typing import Any

from ..api.backends import BACKENDS
from ..api.outputs import GenOutput
from ..errors import UserError
from ..models import ModelSpec
from .base import Backend, apply_stop


def backend_class(name: str) -> type[Backend]:
    """The class of a registered backend name (``tulu_eval/api/backends.py``), imported now."""
    if name not in BACKENDS:
        raise UserError(f"unknown backend {name!r}; known backends: {', '.join(BACKENDS)}")
    module, cls = BACKENDS[name]
    return getattr(importlib.import_module(module), cls)


def default_backend(spec: ModelSpec) -> str:
    if spec.is_openai:
        return "openai"
    from .vllm import vllm_available  # noqa: PLC0415

    return "vllm" if vllm_available() else "hf"


def make_backend(name: str | None, spec: ModelSpec, data_parallel: int | None = None, ray_address: str | None = None,
                 **kwargs: Any) -> Backend:
    name = name or default_backend(spec)
    if data_parallel is not None or ray_address:
        if name != "vllm" or spec.is_openai:
            raise UserError("--data-parallel and --ray-address run vLLM engine replicas: use --backend vllm "
                            "(for several OpenAI-compatible servers, give --base-url several URLs)")
        from .ray_dp import DataParallelBackend  # noqa: PLC0415

        return DataParallelBackend(spec.path, data_parallel or 1, ray_address, **kwargs)
    if spec.is_openai and name != "openai":
        raise UserError(f"--model {spec.name} is served over HTTP: use --backend openai (or leave it out)")
    if name == "openai":
        if not spec.is_openai:
            raise UserError("--backend openai needs --model openai:<served-name> and --base-url")
        kwargs.pop("dtype", None)
        kwargs.pop("use_chat_template", None)
        return backend_class(name)(spec.path, spec.base_url, **kwargs)
    return backend_class(name)(spec.path, **kwargs)


__all__ = ["Backend", "GenOutput", "apply_stop", "backend_class", "make_backend", "default_backend", "BACKENDS"]
