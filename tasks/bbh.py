"""BIG-Bench Hard (Suzgun et al., 2022), Tülu 3 dev-suite regime, as OLMES ``bbh:cot-v1::tulu``.

* data: the 27 subtasks of ``bbh/bbh/<subtask>.json`` (6,511 examples; suzgunmirac/
  BIG-Bench-Hard), read in round-robin order (the first example of every subtask, then the
  second, ...), so that ``--limit N`` samples all subtasks; ids are ``<subtask>/<index>``.
* prompt: each subtask's own 3-shot chain-of-thought prefix, ``bbh/cot-prompts/<subtask>.txt``
  with its canary line and the ``-----`` line after it stripped (the task description, a blank
  line, three "Q: ...\\nA: Let's think step by step.\\n<reasoning> So the answer is X."
  exemplars), then "\\n\\nQ: {input}\\nA: Let's think step by step." -- all in one user message
  (OLMES's chat format keeps few-shot in one turn unless a task sets
  ``fewshot_as_multiturn``, which ``bbh:cot-v1::tulu`` does not); the model answers in the
  assistant turn. Without a chat template the same text is the prompt.
* generation: greedy, at most 512 new tokens, no stop sequence (OLMES relies on the chat
  format to end the answer)
* metric: ``exact_match`` (primary), micro-averaged over all 6,511 examples as OLMES's
  ``bbh:cot-v1::tulu`` suite does (``primary_metric: micro``); per-subtask values are in the
  results' groups. OLMES's ``answer_regex`` extraction (answer phrase, then the subtask's
  answer pattern), with lm-eval's strict (``exact_match_strict``) and flexible
  (``exact_match_flex``) extractions reported beside it; see ``tulu_eval/verifiers/bbh.py``.
* deviations: OLMES reads the HF copy ``lukaemon/bbh`` of the same 6,511 examples and builds
  the exemplars from its own copy of the CoT prompts; its ``bbh.py`` is not in the reference
  index, so the prompt layout above (one turn, no assistant prefix) and the extraction are
  reconstructed from its task configs and AllenAI's later port, not read from its code.
"""

from tulu_eval.api.request import GenSettings
from tulu_eval.api.task import GenerationTask
from tulu_eval.data.bbh import EXAMPLES, PROMPTS, SUBTASKS, read_subtask
from tulu_eval.data.sources import Subsets
from tulu_eval.verifiers.bbh import options_of, words_of


def prompt(doc: dict) -> str:
    return f"{doc['cot_prompt']}\n\nQ: {doc['input']}\nA: Let's think step by step."


def gold(doc: dict) -> dict:
    truth = {"target": doc["target"], "subtask": doc["subtask"]}
    if options := options_of(doc["input"]):
        truth["options"] = options
    if doc["subtask"] == "word_sorting":
        truth["words"] = words_of(doc["input"])
    return truth


TASK = GenerationTask(
    name="bbh",
    regime="tulu",
    suite="dev",
    skill="reasoning",
    description=__doc__,
    data=Subsets(SUBTASKS, [f for s in SUBTASKS for f in (EXAMPLES[s], PROMPTS[s])], read_subtask),
    prompt=prompt,
    gold=gold,
    doc_id=lambda doc, idx: f"{doc['subtask']}/{doc['index']}",
    group=lambda doc: doc["subtask"],
    verifier="bbh",
    generation=GenSettings(max_tokens=512, temperature=0.0, stop=()),
    metric_keys=("exact_match", "exact_match_strict", "exact_match_flex"),
    primary_metric="exact_match",
    aliases=("bbh:cot-v1",),
)
