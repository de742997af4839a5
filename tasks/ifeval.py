"""IFEval (Zhou et al., 2023), Tülu 3 dev-suite regime ``ifeval::tulu``.

* data: ``ifeval/input_data.jsonl`` (541 prompts, 25 instruction types; HF hub
  ``google/IFEval``, split ``train``, whose rows carry ``None`` for unused kwargs)
* prompt: the row's ``prompt`` as the only user message, 0-shot, chat format, no system
  prompt (OLMES ``ifeval::tulu``: ``use_chat_format``, split ``train``)
* generation: greedy, at most 2,048 new tokens, no stop sequences (OLMES ``ifeval::tulu``
  raises the IFEval task default of 1,280 ``max_gen_toks`` to 2,048)
* metrics: the official four, as lm-eval and OLMES compute them: ``prompt_level_strict`` and
  ``prompt_level_loose`` (share of prompts whose every instruction is followed),
  ``inst_level_strict`` and ``inst_level_loose`` (share of all instructions followed, micro
  over the 834 instructions); primary ``prompt_level_loose`` (the Tülu 3 number).
  Strict/loose and the verdict rules are in ``tulu_eval/verifiers/ifeval/verifier.py``.
"""

from tulu_eval.api.request import GenSettings
from tulu_eval.api.task import GenerationTask
from tulu_eval.data.files import DataFile, HubSource

METRICS = ("prompt_level_strict", "prompt_level_loose", "inst_level_strict", "inst_level_loose")

TASK = GenerationTask(
    name="ifeval",
    regime="tulu",
    suite="dev",
    skill="instruction following",
    description=__doc__,
    data=DataFile("ifeval/input_data.jsonl", hub=HubSource("google/IFEval", None, "train"),
                  how_to_get="copy instruction_following_eval/data/input_data.jsonl from "
                             "github.com/google-research/google-research"),
    prompt=lambda doc: doc["prompt"],
    gold=lambda doc: {"instruction_id_list": doc["instruction_id_list"], "kwargs": doc["kwargs"],
                      "prompt": doc["prompt"]},
    doc_id=lambda doc, idx: str(doc.get("key", idx)),
    verifier="ifeval",
    generation=GenSettings(max_tokens=2048, temperature=0.0),
    metric_keys=METRICS,
    primary_metric="prompt_level_loose",
)
