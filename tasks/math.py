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
from tulu_eval.verifiers.math.normalize import last_boxed_only_string, remove_boxed

SUBJECTS = ("Algebra", "Counting & Probability", "Geometry", "Intermediate Algebra", "Number Theory",
            "Prealgebra", "Precalculus")

# OLMES FEWSHOT_SOURCES["Minerva:MATH"], character for character
EXEMPLARS = [
    ("Find the domain of the expression  $\\frac{\\sqrt{x-2}}{\\sqrt{5-x}}$.}",
     "The expressions inside each square root must be non-negative. Therefore, $x-2 \\ge 0$, so $x\\ge2$, and "
     "$5 - x \\ge 0$, so $x \\le 5$. Also, the denominator cannot be equal to zero, so $5-x>0$, which gives $x<5$. "
     "Therefore, the domain of the expression is $\\boxed{[2,5)}$.\n"
     "Final Answer: The final answer is $[2,5)$. I hope it is correct."),
    ("If $\\det \\mathbf{A} = 2$ and $\\det \\mathbf{B} = 12,$ then find $\\det (\\mathbf{A} \\mathbf{B}).$",
     "We have that $\\det (\\mathbf{A} \\mathbf{B}) = (\\det \\mathbf{A})(\\det \\mathbf{B}) = (2)(12) = "
     "\\boxed{24}.$\nFinal Answer: The final answer is $24$. I hope it is correct."),
    ("Terrell usually lifts two 20-pound weights 12 times. If he uses two 15-pound weights instead, how many times "
     "must Terrell lift them in order to lift the same total weight?",
     "If Terrell lifts two 20-pound weights 12 times, he lifts a total of $2\\cdot 12\\cdot20=480$ pounds of "
     "weight.  If he lifts two 15-pound weights instead for $n$ times, he will lift a total of "
     "$2\\cdot15\\cdot n=30n$ pounds of weight.  Equating this to 480 pounds, we can solve for $n$:\n"
     "\\begin{align*}\n30n&=480\\\n\\Rightarrow\\qquad n&=480/30=\\boxed{16}\n\\end{align*}\n"
     "Final Answer: The final answer is $16$. I hope it is correct."),
    ("If the system of equations\n\n\\begin{align*}\n6x-4y&=a,\\\n6y-9x &=b.\n\\end{align*}has a solution "
     "$(x, y)$ where $x$ and $y$ are both nonzero,\nfind $\\frac{a}{b},$ assuming $b$ is nonzero.",
     "If we multiply the first equation by $-\\frac{3}{2}$, we obtain\n\n$$6y-9x=-\\frac{3}{2}a.$$Since we also "
     "know that $6y-9x=b$, we have\n\n$$-\\frac{3}{2}a=b\\Rightarrow\\frac{a}{b}=\\boxed{-\\frac{2}{3}}.$$\n"
     "Final Answer: The final answer is $-\\frac{2}{3}$. I hope it is correct."),
]


def prompt(doc: dict) -> str:
    return f"Problem:\n{doc['problem']}\n\nSolution:"


def boxed_answer(solution: str) -> str:
    """The gold answer of a MATH solution: the content of its last ``\\boxed{}``."""
    boxed = last_boxed_only_string(solution)
    return remove_boxed(boxed) if boxed else ""


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
