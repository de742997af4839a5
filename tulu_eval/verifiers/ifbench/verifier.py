"""IFBench (Pyatkin et al., 2025; "IFEval-OOD"): 58 new verifiable constraints, scored like IFEval.

Ground truth is a row of ``ifbench/IFBench_test.jsonl`` (``{"instruction_id_list", "kwargs",
"prompt"}``, unused kwargs ``None``), or a JSON string of it. Each instruction is checked by the
``ifbench_checks_*`` modules, whose rules are those of the reference implementation
(``allenai/IFBench``) at the commit the data file comes from (db69a6f, ``ifbench/instructions.py``;
``evaluation_lib.py`` for the scoring), quirks included: several checkers are looser or stricter
than their prompt, and each check's docstring says how. Upstream has open fixes for some
(allenai/IFBench PR #34); they are not applied, and the affected checks say so.

* **strict / loose**: as IFEval (:func:`.ifeval.loose_variants`, the same eight responses in
  the same order); a response, or loose variant, that is blank follows nothing.
* **kwargs**: only ``None`` values are dropped (the reference's rule; IFEval drops every falsy
  value), so ``n_start: 0`` stays 0. Where the reference would draw a parameter at random or
  crash on it, the instruction counts as not followed and ``details["errors"]`` says why.
* **a checker that raises** on some response (the reference's ``custom:csv_quotes`` on an empty
  field, ``custom:csv_*`` on a NUL byte) would stop the reference's whole run; here that
  variant follows nothing, the others are still tried, and the error is reported.
* **offline**: no network, no NLTK download. Sentences, words and stop words match NLTK
  exactly; ``words:start_verb`` uses a substitute POS-tagger model and can differ, see
  :mod:`.ifbench_text`.

Details: ``prompt_level_strict`` and ``prompt_level_loose`` (0/1), ``inst_level_strict`` and
``inst_level_loose`` (one 0/1 per instruction), ``follow_instruction_list`` (id, strict,
loose). The score is ``prompt_level_loose``, the Tülu 3 primary metric.
"""

from __future__ import annotations


from . import checks_count, checks_custom, checks_format, checks_words  # noqa: F401  (they register their checks)
from ...api.verifier import Verifier, VerifierResult
from ..ifeval.follows import verdict
from ..ifeval.verifier import _parse_ground_truth, loose_variants
from .registry import CHECKS

INSTRUCTION_IDS = tuple(sorted(CHECKS))


class IFBenchVerifier(Verifier):
    name = "ifbench"

    def _verify(self, response: str, ground_truth) -> VerifierResult:
        ids, kwargs = _parse_ground_truth(ground_truth)
        return verdict(CHECKS, ids, kwargs, response, loose_variants(response), drop_falsy=False, stop_at_error=False)
