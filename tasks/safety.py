"""Safety (the Tülu 3 report's safety average) over XSTest and HarmBench.

* data: ``xstest/xstest_prompts.csv`` (Röttger et al. 2024: 250 safe prompts the model should
  answer, 200 unsafe "contrast_" prompts it should refuse) and
  ``harmbench/harmbench_behaviors_text_test.csv`` (Mazeika et al. 2024: 320 harmful behaviours to
  refuse; all FunctionalCategory rows, standard 159 / contextual 81 / copyright 80, the Behavior
  text alone without ContextString, as allenai/safety-eval's ``HarmbenchVanilla`` task does; the
  HarmBench paper's own DirectRequest baseline would prepend the context). The two files are
  interleaved (XSTest safe, XSTest unsafe, HarmBench) so that ``--limit N`` covers all three.
* prompt: the prompt as the only user message, chat format, no system prompt.
* generation: greedy, at most 512 new tokens (safety-eval's HarmBench setting; used for XSTest too).
* scoring: a refusal classifier, the model named by ``--judge-model`` (optional; prompt and parser
  in ``tulu_eval/judges/refusal.py``), else the keyword baseline (``refusal`` verifier: XSTest's
  string match plus GCG/HarmBench refusal phrases). ``details.scorer`` says which scored each row
  ("judge", "keyword", or "keyword (judge unparsed)"); ``judge_scored`` is the judge's share.
* metrics: per row ``safe`` = 1 when the behaviour is the expected one (refuse unsafe, comply with
  safe). ``safe`` (primary) is averaged macro over the two benchmarks: the mean of XSTest accuracy
  (safety-eval's ``overall_accuracy``, micro over its 450 prompts) and HarmBench refusal rate
  (1 - attack success rate, micro over 320): the report's safety average over the benchmarks we
  have. Also: ``xstest_refusal_unsafe`` (safety-eval ``rta_all_contrast``),
  ``xstest_compliance_safe`` (``inverted_rta_all_safe``), ``xstest_balanced`` (their mean),
  ``xstest_accuracy``, ``harmbench_refusal``, ``refusal`` (all rows).
* what is missing: the Tülu 3 report's safety score averages six benchmarks (HarmBench, XSTest,
  WildGuardTest, WildJailbreak, JailbreakTrigger (TrustLLM) and DoAnythingNow), each as its share
  of safe responses; the last four have no data here (shared/data/SOURCES.md, "not found"), so this
  is a 2-of-6 average. Safety-eval scores HarmBench with a harmfulness classifier (WildGuard);
  a refusal classifier counts refusals, which is the inverse only when every compliance is harmful.
"""

from __future__ import annotations

from pathlib import Path

from tulu_eval.api.request import GenSettings
from tulu_eval.api.task import GenerationTask
from tulu_eval.data.files import DataFile
from tulu_eval.data.safety import harmbench_docs, xstest_docs
from tulu_eval.data.sources import Subsets
from tulu_eval.judges.refusal import RefusalJudge
from tulu_eval.scoring.judged import refusal_record, with_xstest_balanced

MISSING_BENCHMARKS = ("WildGuardTest", "WildJailbreak", "JailbreakTrigger", "DoAnythingNow")

XSTEST = DataFile("xstest/xstest_prompts.csv", how_to_get="copy xstest_prompts.csv from github.com/paul-rottger/xstest")
HARMBENCH = DataFile("harmbench/harmbench_behaviors_text_test.csv",
                     how_to_get="copy data/behavior_datasets/harmbench_behaviors_text_test.csv from "
                                "github.com/centerforaisafety/HarmBench")


def read_stream(name: str, data_dir: Path | None) -> list[dict]:
    """XSTest's safe prompts ("comply"), its unsafe ones ("refuse"), or HarmBench's."""
    if name == "harmbench":
        return harmbench_docs(HARMBENCH.read(data_dir))
    return [d for d in xstest_docs(XSTEST.read(data_dir)) if d["expected"] == name]


TASK = GenerationTask(
    name="safety",
    regime="tulu",
    suite="dev",
    skill="safety",
    description=__doc__,
    data=Subsets(("comply", "refuse", "harmbench"), [XSTEST, HARMBENCH], read_stream),
    prompt=lambda doc: doc["prompt"],
    gold=lambda doc: {"benchmark": doc["benchmark"], "expected": doc["expected"], "prompt": doc["prompt"],
                      "category": doc["category"]},
    doc_id=lambda doc, idx: doc["id"],
    group=lambda doc: doc["benchmark"],
    macro_over_groups=True,
    verifier="refusal",
    judge=RefusalJudge(),
    generation=GenSettings(max_tokens=512, temperature=0.0),
    score_fn=refusal_record,  # the judge's verdict, else the keyword verifier
    corpus_fn=with_xstest_balanced,
    primary_metric="safe",
)
