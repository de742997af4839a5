"""MATH (Hendrycks et al., 2021) in the Minerva format, Tülu 3 dev-suite regime, as OLMES
``minerva_math::tulu`` and ``minerva_math_500::tulu``.

* data: ``minerva_math`` reads ``math/test.jsonl`` (the 5,000 test problems; gold = the last
  ``\\boxed{}`` of ``solution``); ``minerva_math_500`` reads ``math500/test.jsonl`` (OpenAI's
  500-problem subset, gold = ``answer``; HF hub ``HuggingFaceH4/MATH-500``). MATH-500 lies
  inside MATH, so it is not counted in the suite average (``in_average=False``).
* prompt: "Problem:\\n{problem}\\n\\nSolution:" after the 4 fixed Minerva exemplars (OLMES
  ``Minerva:MATH``, each solution ending "Final Answer: The final answer is $X$. I hope it is
  correct."), few-shot as multi-turn chat; the exemplar solution is the assistant turn.
  The exemplars are OLMES's text as is, warts included: a stray "}" after the first problem and
  a single backslash ending two ``align*`` rows (lm-eval's copy has neither).
* generation: greedy, at most 1024 new tokens, no stop sequence (OLMES relies on the chat format
  to end the answer; its plain-text regime stops at "Problem:" and blank lines)
* metric: ``exact_match_flex`` (primary, "flex exact match" of the Tülu 3 report): any candidate
  answer (Minerva phrase, last ``\\boxed{}``, else the last ``$...$``, else the whole response,
  each Minerva-normalized) equals the gold by Minerva's symbolic check or Hendrycks's string
  normalization. Also reported: ``exact_match`` (lm-eval ``minerva_math``: the Minerva phrase
  only) and ``math_verify`` (Hugging Face Math-Verify on the whole response). Full MATH is
  averaged over its 7 subjects (macro), as the OLMES suite ``minerva_math::tulu`` does; MATH-500
  is one micro average, as OLMES's single ``minerva_math_500`` task is.
* deviations: OLMES reads MATH from ``EleutherAI/hendrycks_math``, the same 5,000 problems. Not
  verified against OLMES's own ``minerva_math.py`` (absent from the search index): whether its
  chat few-shot answers keep the leading space of ``doc_to_target`` (" " + solution; we drop
  it) and whether its chat regime adds an assistant prefix (we add none). See
  ``tulu_eval/verifiers/math/verifier.py`` for where the equivalence check departs from sympy's.
"""

from tulu_eval.api.request import GenSettings
from tulu_eval.api.task import GenerationTask
from tulu_eval.data.files import DataFile, HubSource
from tulu_eval.prompts.minerva_math import EXEMPLARS
from tulu_eval.verifiers.math.normalize import boxed_answer

SUBJECTS = ("Algebra", "Counting & Probability", "Geometry", "Intermediate Algebra", "Number Theory",
            "Prealgebra", "Precalculus")


def prompt(doc: dict) -> str:
    return f"Problem:\n{doc['problem']}\n\nSolution:"


def _task(name: str, data: DataFile, gold, group, **kw) -> GenerationTask:
    return GenerationTask(
        name=name,
        regime="tulu",
        suite="dev",
        skill="math",
        description=__doc__,
        data=data,
        prompt=prompt,
        fewshot=[(prompt({"problem": p}), s) for p, s in EXEMPLARS],
        gold=gold,
        group=group,
        verifier="math",
        generation=GenSettings(max_tokens=1024, temperature=0.0, stop=()),
        metric_keys=("exact_match_flex", "exact_match", "math_verify"),
        primary_metric="exact_match_flex",
        **kw,
    )


TASKS = [
    _task("minerva_math",
          DataFile("math/test.jsonl",
                   how_to_get="copy data/math/test.jsonl of github.com/ZubinGou/math-evaluation-harness "
                              "(the 5,000 MATH test problems with type, level and solution)"),
          gold=lambda doc: boxed_answer(doc["solution"]),
          group=lambda doc: doc["type"],
          doc_id=lambda doc, idx: str(doc.get("idx", idx)),
          macro_over_groups=True,
          aliases=("math",)),
    _task("minerva_math_500",
          DataFile("math500/test.jsonl", hub=HubSource("HuggingFaceH4/MATH-500", None, "test"),
                   how_to_get="copy prm800k/math_splits/test.jsonl of github.com/openai/prm800k"),
          gold=lambda doc: doc["answer"],
          group=lambda doc: doc["subject"],
          doc_id=lambda doc, idx: doc.get("unique_id", str(idx)),
          in_average=False,
          aliases=("math500",)),
]
