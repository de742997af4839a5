"""The table of IFBench checks and the parameter rules every check module shares.

Each ``ifbench_checks_*`` module registers its checks here with :func:`register`; a check is
the :class:`~.ifeval_checks.Check` of the IFEval checks (id, ``prepare(kwargs) -> params``,
``test(response, params) -> bool``).

Parameters follow the reference's ``build_description``: keys whose value is ``None`` are
dropped first (``evaluation_lib``; unlike IFEval, ``0`` and ``""`` are kept, so
``repeat:repeat_span`` with ``n_start: 0`` starts at index 0). Where the reference would then
draw a parameter at random (missing, or a negative count) or crash on it, it has no verdict:
``prepare`` raises :class:`~.ifeval_checks.BadKwargs` and the instruction counts as not
followed.
"""

from __future__ import annotations

from typing import Callable

from ..ifeval.checks import BadKwargs, Check

CHECKS: dict[str, Check] = {}


def register(instruction_id: str, prepare: Callable[[dict], dict] = lambda kw: {}):
    def deco(fn):
        if instruction_id in CHECKS:
            raise ValueError(f"{instruction_id} registered twice")
        CHECKS[instruction_id] = Check(instruction_id, prepare, fn)
        return fn
    return deco


def number(kw: dict, name: str, *, allow_negative: bool = False) -> float:
    """A count the reference replaces at random when it is ``None`` or negative."""
    value = kw.get(name)
    if value is None:
        raise BadKwargs(f"{name} missing")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadKwargs(f"{name} must be a number, not {value!r}")
    if value < 0 and not allow_negative:
        raise BadKwargs(f"{name} is negative")
    return value


def index(kw: dict, name: str, **opts) -> int:
    """A position the reference uses as a list index: a whole number."""
    value = number(kw, name, **opts)
    if value != int(value):
        raise BadKwargs(f"{name} must be a whole number, not {value!r}")
    return int(value)


def text(kw: dict, name: str, *, strip: bool = False) -> str:
    value = kw.get(name)
    if not isinstance(value, str):
        raise BadKwargs(f"{name} must be a string, not {value!r}")
    return value.strip() if strip else value


def one(name: str, kind: Callable = number, key: str | None = None, **opts):
    """``prepare`` for a check with a single parameter ``name`` (stored as ``key``)."""
    def prepare(kw: dict) -> dict:
        return {key or name: kind(kw, name, **opts)}
    return prepare
