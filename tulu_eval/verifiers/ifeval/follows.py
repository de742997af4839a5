"""Whether a response follows its instructions: the verdict IFEval and IFBench share.

The two families differ in two rules, kept as arguments because each is its reference's:

* ``drop_falsy``: IFEval (its reference drops every falsy kwarg) passes on only truthy kwargs;
  IFBench drops only ``None``, so a 0 or an empty string reaches its check.
* ``stop_at_error``: in IFEval an exception in a check (a bad regex in the kwargs, say) ends the
  search as "not followed"; IFBench tries the next response variant and reports every error.

An ImportError (langdetect, nltk, ... missing) is never a verdict: it propagates.
"""

from __future__ import annotations

from typing import Any, Mapping

from ...api.verifier import VerifierResult
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


def verdict(checks: Mapping[str, Check], ids: list[str], kwargs: list, response: str, variants: list[str], *,
            drop_falsy: bool, stop_at_error: bool) -> VerifierResult:
    """Every instruction strictly (the response as it is) and loosely (any of ``variants``); the
    score is the prompt-level loose verdict (all instructions followed)."""
    rules = {"drop_falsy": drop_falsy, "stop_at_error": stop_at_error}
    per_instruction, errors = [], []
    for iid, kw in zip(ids, kwargs):
        strict, err = follows(checks, iid, kw, [response], **rules)
        loose, err_loose = (True, []) if strict else follows(checks, iid, kw, variants, **rules)
        errors += list(dict.fromkeys(err + err_loose))
        per_instruction.append({"id": iid, "strict": int(strict), "loose": int(loose)})
    inst_strict = [p["strict"] for p in per_instruction]
    inst_loose = [p["loose"] for p in per_instruction]
    details = {
        "prompt_level_strict": int(all(inst_strict)),
        "prompt_level_loose": int(all(inst_loose)),
        "inst_level_strict": inst_strict,
        "inst_level_loose": inst_loose,
        "follow_instruction_list": per_instruction,
    }
    if errors:
        details["errors"] = errors
    return VerifierResult(float(details["prompt_level_loose"]), details)
