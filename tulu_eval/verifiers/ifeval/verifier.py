"""IFEval: verifiable instructions, strict and loose, as the official code scores them.

Ground truth is a row of ``ifeval/input_data.jsonl`` (or of the hub's ``google/IFEval``):
``{"instruction_id_list": [...], "kwargs": [...], "prompt": str}`` (the dict itself: RLVR rows
store it as JSON text, which the reward decodes once, see ``tulu_eval/api/verifier.py``). Each instruction is checked by
:mod:`.ifeval_checks`, whose verdicts are those of lm-eval's port of the official checkers.

* **strict**: the response as it is. A response that is empty or only whitespace follows no
  instruction (the reference's ``response.strip() and ...``).
* **loose**: an instruction is followed if it is followed by any of eight variants: the
  response, without its first line, without its last line, without both, and each of these
  four with every ``*`` removed (the line-dropping variants are stripped; blank variants
  never count).
* **kwargs**: falsy values are dropped first, as the reference does, so the hub's rows with
  ``None`` for unused keys score like the local file's. Where the reference would then draw
  a parameter at random or crash, the instruction counts as not followed and
  ``details["errors"]`` says why (see :mod:`.ifeval_checks`).
* **language detection** (``language:response_language``, ``change_case:english_*``):
  langdetect samples random trials, and the reference leaves its seed unset, so its answer
  on a borderline text (short, mixed-language, mostly code or numbers) can change from one
  run to the next. The reference's effective rule is "langdetect's answer under some seed";
  we fix the seed to 0 (langdetect's documented recipe for reproducible results) in a
  private detector factory, so a verdict depends on the text alone and equals the
  reference's whenever the reference runs seeded the same way (``DetectorFactory.seed = 0``,
  as our tests do). On texts whose language is clear every seed gives the same answer.

Details: ``prompt_level_strict`` and ``prompt_level_loose`` (0/1), ``inst_level_strict`` and
``inst_level_loose`` (one 0/1 per instruction; a task micro-averages these lists), and
``follow_instruction_list`` (per instruction: id, strict, loose). The score is
``prompt_level_loose``, the Tülu 3 primary metric.
"""

from __future__ import annotations

from typing import Any

from ...api.verifier import Verifier, VerifierResult
from .checks import CHECKS
from .follows import follows as follows_one, verdict

# the reference's rules: only truthy kwargs reach a check, an exception in a check ends the search
RULES = {"drop_falsy": True, "stop_at_error": True}

INSTRUCTION_IDS = tuple(sorted(CHECKS))


def loose_variants(response: str) -> list[str]:
    """The eight responses the loose score tries, in the reference's order."""
    lines = response.split("\n")
    trimmed = ["\n".join(lines[1:]).strip(), "\n".join(lines[:-1]).strip(), "\n".join(lines[1:-1]).strip()]
    return [response, response.replace("*", ""), *trimmed, *(t.replace("*", "") for t in trimmed)]


def _parse_ground_truth(ground_truth: Any) -> tuple[list[str], list[dict]]:
    if not isinstance(ground_truth, dict):  # one gold encoding: the value, never JSON text (see api/verifier.py)
        raise TypeError(f"IFEval ground truth must be a dict, not {type(ground_truth).__name__}")
    ids = list(ground_truth.get("instruction_id_list") or [])
    kwargs = list(ground_truth.get("kwargs") or [])
    kwargs += [{}] * (len(ids) - len(kwargs))
    return ids, kwargs


def follows(instruction_id: str, kwargs: dict | None, responses: list[str]) -> tuple[bool, str | None]:
    """Whether any of ``responses`` follows the instruction; an error message if none can."""
    ok, errors = follows_one(CHECKS, instruction_id, kwargs, responses, **RULES)
    return ok, errors[0] if errors else None


class IFEvalVerifier(Verifier):
    name = "ifeval"

    def _verify(self, response: str, ground_truth) -> VerifierResult:
        ids, kwargs = _parse_ground_truth(ground_truth)
        return verdict(CHECKS, ids, kwargs, response, loose_variants(response), **RULES)
