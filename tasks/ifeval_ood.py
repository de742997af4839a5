"""IFEval-OOD = IFBench (Pyatkin et al., 2025), Tülu 3 unseen-suite regime ``ifeval_ood::tulu``.

* data: ``ifbench/IFBench_test.jsonl`` (300 prompts, 58 instruction types, 344 instructions;
  allenai/IFBench at db69a6f, ``data/IFBench_test.jsonl``; HF hub ``allenai/IFBench_test``,
  split ``train``)
* prompt: the row's ``prompt`` as the only user message, 0-shot, chat format, no system prompt
* generation: greedy, at most 2,048 new tokens, no stop sequences (OLMES ``ifeval_ood::tulu``
  as mirrored by allenai/olmo-eval: chat format, ``max_gen_toks`` 2048, primary
  ``prompt_level_loose_acc``; the plain ``IFBench`` task of OLMES forks has 1,280 tokens and
  primary ``inst_level_loose_acc``)
* metrics: ``prompt_level_strict``, ``prompt_level_loose`` (share of prompts whose every
  instruction is followed), ``inst_level_strict``, ``inst_level_loose`` (micro over the 344
  instructions); primary ``prompt_level_loose``. Checker rules, strict/loose and the offline
  substitutes for NLTK data are in ``tulu_eval/verifiers/ifbench/verifier.py`` and the modules it names.
"""

from tulu_eval.api.request import GenSettings
from tulu_eval.api.task import GenerationTask
from tulu_eval.data.files import DataFile, HubSource

METRICS = ("prompt_level_strict", "prompt_level_loose", "inst_level_strict", "inst_level_loose")

TASK = GenerationTask(
    name="ifeval_ood",
    regime="tulu",
    suite="unseen",
    skill="instruction following",
    description=__doc__,
    data=DataFile("ifbench/IFBench_test.jsonl", hub=HubSource("allenai/IFBench_test", None, "train"),
                  how_to_get="copy data/IFBench_test.jsonl from github.com/allenai/IFBench"),
    prompt=lambda doc: doc["prompt"],
    gold=lambda doc: {"instruction_id_list": doc["instruction_id_list"], "kwargs": doc["kwargs"],
                      "prompt": doc["prompt"]},
    doc_id=lambda doc, idx: str(doc.get("key", idx)),
    verifier="ifbench",
    generation=GenSettings(max_tokens=2048, temperature=0.0),
    metric_keys=METRICS,
    primary_metric="prompt_level_loose",
)
