"""DeepMind Mathematics (Saxton et al., 2019), Tülu 3 unseen regime: OLMES ``deepmind_math:0shot_cot::tulu3``.

* data: generated here, not downloaded (``tulu_eval/data/deepmind_math.py``): DeepMind's own
  generator (``pip install mathematics-dataset``) makes 100 questions for each of the 56 modules
  of the "interpolate" test split (OLMES's ``DEEPMIND_MATH_CATEGORIES``; its regime also takes
  100 per module, ``limit: 100``), seed 1234, 5,600 questions. Generated on first use (about
  15 s) into the user cache ``~/.cache/tulu_eval/data/deepmind_math/interpolate-100-seed1234.jsonl``
  (never into the data folder, which is only read; a copy placed there by hand is used); the same
  seed always gives the same bytes. Instances interleave the modules, so ``--limit N`` samples
  them all evenly.
* prompt (one user turn, chat format, 0-shot): "Solve the following math problem efficiently:\\n"
  + question + '\\n\\nShow your work and conclude with the exact phrasing "Therefore, the final
  answer is [answer]. I hope it is correct." where [answer] is just the final number or
  expression that solves the problem. E.g., if the answer is 6, conclude with "Therefore, the
  final answer is 6. I hope it is correct."\\nNote the formatting for the following answer
  types:\\n- If the answer is a list (...), present the solutions in a list separated by commas
  ordering them from the smallest to biggest  e.g.: 2, 10\\n- Powers should be written with **,
  for instance x to the power of 2 should be written as x**2\\n- Use * for multiplication, e.g.:
  2*x' (OLMES's description and final description, verbatim, double space included).
* generation: greedy, at most 2048 new tokens, no stop sequence.
* metrics (``tulu_eval/verifiers/math/deepmind.py``): ``exact_match`` (strict): the last
  "Therefore, the final answer is X. I hope it is correct." (OLMES's ``answer_format_regex``) is
  equivalent to the gold; ``exact_match_flex`` (primary): the same phrase, else the last "final
  answer is X" / "answer is X", a ``\\boxed{}``, or the last number. Equivalence: same text,
  True/False as yes/no, letters and base-N numerals as text, lists in order, else SymPy
  (difference simplifies to 0; LaTeX read with Math-Verify). Macro average over the 56 modules
  (OLMES suite ``primary_metric: macro``).
* deviations: OLMES evaluates a fixed pre-sampled file (``deepmind_math_sample100``) that is on
  the HF hub only; ours is a different sample of the same modules and split, so scores are
  comparable in expectation, not question by question. OLMES's answer comparison code is not in
  the search index; ours is described above and in the verifier's docstring. How OLMES lays out
  the question before the final description is unverified; we put the question as is.
"""

from __future__ import annotations

from tulu_eval.api.request import GenSettings
from tulu_eval.api.task import GenerationTask
from tulu_eval.data import deepmind_math as gen
from tulu_eval.data.sources import GroupedBy

DESCRIPTION = "Solve the following math problem efficiently:\n"
FINAL = (
    '\n\nShow your work and conclude with the exact phrasing "Therefore, the final answer is [answer]. I hope it '
    'is correct." where [answer] is just the final number or expression that solves the problem. E.g., if the '
    'answer is 6, conclude with "Therefore, the final answer is 6. I hope it is correct."\nNote the formatting '
    "for the following answer types:\n- If the answer is a list (e.g., when there are two solutions to an "
    "equation), unless otherwise specified, present the solutions in a list separated by commas ordering them "
    "from the smallest to biggest  e.g.: 2, 10\n- Powers should be written with **, for instance x to the power "
    "of 2 should be written as x**2\n- Use * for multiplication, e.g.: 2*x"
)

TASK = GenerationTask(
    name="deepmind_math",
    regime="tulu3",
    suite="unseen",
    skill="math",
    description=__doc__,
    data=GroupedBy(gen.FILE, key="module", order=gen.MODULES),
    prompt=lambda doc: DESCRIPTION + doc["question"] + FINAL,
    gold=lambda doc: doc["answer"],
    verifier="deepmind_math",
    generation=GenSettings(max_tokens=2048, temperature=0.0, stop=()),
    doc_id=lambda doc, idx: f"{doc['module']}/{doc['index']}",
    group=lambda doc: doc["module"],
    macro_over_groups=True,
    metric_keys=("exact_match_flex", "exact_match"),
    primary_metric="exact_match_flex",
    aliases=("deepmind_math:0shot_cot::tulu3", "dm_math"),
)
