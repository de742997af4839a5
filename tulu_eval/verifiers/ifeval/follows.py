"""Whether a response follows one instruction: the loop IFEval and IFBench share.

The two families differ in two rules, kept as arguments because each is its reference's:

* ``drop_falsy``: IFEval (its reference drops every falsy kwarg) passes on only truthy kwargs;
  IFBench drops only ``None``, so a 0 or an empty string reaches its check.
* ``stop_at_error``: in IFEval an exception in a check (a bad regex in the kwargs, say) ends the
  search as "not followed"; IFBench tries the next response variant and reports every error.

An ImportError (langdetect, nltk, ... missing) is never a verdict: it propagates.
"""

from __future__ import annotations

from typing import Any, Mapping

from .checks import BadKwargs, Check


def follows(checks: Mapping[str, Check], instruction_id: str, kwargs: Any, responses: list[str], *,
            drop_falsy: bool, stop_at_error: bool) -> tuple[bool, list[str]]:
    """Whether any of ``responses`` follows the instruction, and the errors met on the way."""
    check = checks.get(instruction_id)
    if check is None:
        return False, [f"unknown instruction {instruction_id!r}"]
    given = {k: v for k, v in kwargs.items() if (v if drop_falsy else v is not None)} if isinstance(kwargs, dict) else {}
    try:
        params = check.prepare(given)
    except BadKwargs as exc:
        return False, [f"{instruction_id}: {exc}"]
    errors = []
    for text in responses:
        if not text.strip():
            continue
        try:
            if check.test(text, params):
                return True, errors
        except ImportError:  # no judgment (an error), never "not followed"
            raise
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{instruction_id}: {type(exc).__name__}: {exc}")
            if stop_at_error:
                break
    return False, errors
