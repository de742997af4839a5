"""AlpacaEval 2 (Li et al. 2023; Dubois et al. 2024), Tülu 3 dev-suite regime ``alpaca_eval_v2::tulu``.

* data: ``alpaca_eval/alpaca_eval_gpt4_turbo.json``, the 805 AlpacaEval instructions with the
  ``gpt4_1106_preview`` outputs that are AlpacaEval 2's baseline (HF ``tatsu-lab/alpaca_eval``,
  ``alpaca_eval_gpt4_baseline``). Optional: ``alpaca_eval/instruction_difficulty.csv`` (alpaca_eval's
  per-instruction difficulty, first column the 0-based instruction index, second the difficulty);
  when present it enters the length-control GLM as in alpaca_eval, else that term is dropped.
* prompt: the instruction as the only user message, 0-shot, chat format, no system prompt.
* generation: greedy, at most 8,192 new tokens, no stop sequences (OLMES ``alpaca_eval``
  defaults: ``max_gen_toks`` 8192, temperature 0, ``truncate_context`` False; the ``::tulu``
  regime changes none of them).
* judge: required (``--judge-model``, any backend). Pairwise, model output against the reference,
  in a prompt of the shape of alpaca_eval's ``weighted_alpaca_eval_gpt4_turbo`` /
  ``alpaca_eval_clf_gpt4_turbo`` template; output order fixed per instance by a hash of the
  instruction and recorded; the verdict is parsed from text (no logprob weighting). See
  ``tulu_eval/judges/alpaca_eval.py``.
* metrics: ``length_controlled_winrate`` (primary, as OLMES ``alpaca_eval_v2``): the GLM
  prediction with the length difference set to 0, stderr by bootstrap; ``win_rate``: raw share
  of wins (ties 0.5) with its stderr; ``judge_parsed``: share of verdicts the parser understood
  (unparsed verdicts are left out of both win rates, never counted as losses). All in [0, 1];
  alpaca_eval prints percentages.
* deviations: no regularization toward alpaca_eval's "gamed" baselines, difficulty only when
  supplied (see ``tulu_eval/judges/alpaca_eval.py``); the GLM fit itself (L1, C by cross-validation) is
  alpaca_eval 0.6.6's, checked against it on real annotations in ``tests/test_alpaca_eval.py``. The
  judge is whatever model the user names, not GPT-4-turbo, so numbers are comparable only
  between runs with the same judge. OLMES keeps the whole prompt (``truncate_context`` False);
  our local backends make room for the 8,192 new tokens first, so run with ``--model-args
  max_model_len=N`` (N well above 8,192) or ``--max-tokens`` below the model length, else the
  instruction is cut away.
"""

from __future__ import annotations

import csv
from pathlib import Path

from tulu_eval.api.request import GenSettings
from tulu_eval.api.task import GenerationTask
from tulu_eval.data.files import DataFile, HubSource
from tulu_eval.data.sources import Prepared
from tulu_eval.judges.alpaca_eval import AlpacaEvalJudge
from tulu_eval.scoring.judged import win_rate_record, with_length_controlled_winrate

DIFFICULTY_FILE = "alpaca_eval/instruction_difficulty.csv"


def with_difficulty(docs: list[dict], data_dir: Path | None) -> list[dict]:
    """Each instruction's difficulty from alpaca_eval's ``instruction_difficulty.csv``, when the user supplies it."""
    path = data_dir / DIFFICULTY_FILE if data_dir else None
    if path is not None and path.is_file():
        with path.open(encoding="utf-8", newline="") as fh:
            rows = [r for r in csv.reader(fh) if len(r) >= 2]
        table = {int(r[0]): float(r[1]) for r in rows if r[0].strip().lstrip("-").isdigit()}
        for i, doc in enumerate(docs):
            doc["instruction_difficulty"] = table.get(i)
    return docs


TASK = GenerationTask(
    name="alpaca_eval",
    regime="tulu",
    aliases=("alpaca_eval_v2", "alpaca_eval_v2::tulu"),
    suite="dev",
    skill="chat",
    description=__doc__,
    data=Prepared(DataFile("alpaca_eval/alpaca_eval_gpt4_turbo.json",
                           hub=HubSource("tatsu-lab/alpaca_eval", "alpaca_eval_gpt4_baseline", "eval"),
                           how_to_get="copy alpaca_eval_gpt4_baseline.json (gpt4_1106_preview outputs) from "
                                      "huggingface.co/datasets/tatsu-lab/alpaca_eval"), with_difficulty),
    prompt=lambda doc: doc["instruction"],
    gold=lambda doc: {"instruction": doc["instruction"], "reference": doc["output"], "dataset": doc.get("dataset"),
                      "difficulty": doc.get("instruction_difficulty")},
    generation=GenSettings(max_tokens=8192, temperature=0.0),
    judge=AlpacaEvalJudge(),
    score_fn=win_rate_record,  # the judge's preference, no verifier
    corpus_fn=with_length_controlled_winrate,
    metric_keys=(),
    primary_metric="length_controlled_winrate",
)
