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

from __future__ import annotations

from pathlib import Path

from tulu_eval.api.request import GenSettings
from tulu_eval.api.task import GenerationTask
from tulu_eval.data.files import DataFile
from tulu_eval.data.sources import Subsets
from tulu_eval.errors import UserError
from tulu_eval.verifiers.bbh import options_of, words_of

SUBTASKS = (
    "boolean_expressions", "causal_judgement", "date_understanding", "disambiguation_qa", "dyck_languages",
    "formal_fallacies", "geometric_shapes", "hyperbaton", "logical_deduction_five_objects",
    "logical_deduction_seven_objects", "logical_deduction_three_objects", "movie_recommendation",
    "multistep_arithmetic_two", "navigate", "object_counting", "penguins_in_a_table",
    "reasoning_about_colored_objects", "ruin_names", "salient_translation_error_detection", "snarks",
    "sports_understanding", "temporal_sequences", "tracking_shuffled_objects_five_objects",
    "tracking_shuffled_objects_seven_objects", "tracking_shuffled_objects_three_objects", "web_of_lies",
    "word_sorting",
)
HOW_TO_GET = "copy bbh/ and cot-prompts/ of github.com/suzgunmirac/BIG-Bench-Hard into bbh/"
EXAMPLES = {s: DataFile(f"bbh/bbh/{s}.json", how_to_get=HOW_TO_GET) for s in SUBTASKS}
PROMPTS = {s: DataFile(f"bbh/cot-prompts/{s}.txt", how_to_get=HOW_TO_GET) for s in SUBTASKS}


def cot_prefix(text: str, path: str = "cot-prompt") -> str:
    """A CoT prompt file without its canary line and the ``-----`` line that follows it."""
    lines = text.strip().split("\n")
    if len(lines) < 3 or "canary" not in lines[0].lower() or lines[1].strip() != "-----":
        raise UserError(f"{path}: expected a canary line and a '-----' line before the prompt")
    return "\n".join(lines[2:]).strip()


def prompt(doc: dict) -> str:
    return f"{doc['cot_prompt']}\n\nQ: {doc['input']}\nA: Let's think step by step."


def gold(doc: dict) -> dict:
    truth = {"target": doc["target"], "subtask": doc["subtask"]}
    if options := options_of(doc["input"]):
        truth["options"] = options
    if doc["subtask"] == "word_sorting":
        truth["words"] = words_of(doc["input"])
    return truth


def read_subtask(subtask: str, data_dir: Path | None) -> list[dict]:
    """A subtask's examples, each carrying the subtask's own CoT prefix."""
    prefix = cot_prefix(PROMPTS[subtask].read(data_dir)[0]["text"], PROMPTS[subtask].relpath)
    data = EXAMPLES[subtask].read(data_dir)
    if not isinstance(data, dict) or not isinstance(data.get("examples"), list):
        raise UserError(f"{EXAMPLES[subtask].relpath}: expected an object with an 'examples' list")
    return [{"subtask": subtask, "index": i, "input": ex["input"], "target": ex["target"], "cot_prompt": prefix}
            for i, ex in enumerate(data["examples"])]


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
