"""The judge stage on the real bundled model: a task whose score comes from a second model's verdict."""

from __future__ import annotations

import json

from .conftest import run_cli

JUDGED_TASK = '''
"""GSM8K questions whose outputs a judge model reads (a fixture for the judge mechanism)."""
from tulu_eval.api.judge import Judge
from tulu_eval.api.request import GenSettings, Request
from tulu_eval.api.task import GenerationTask
from tulu_eval.data.files import DataFile
from tulu_eval.verifiers.gsm8k import GSM8KVerifier, gold_answer


class YesNoJudge(Judge):
    required = True

    def requests(self, row):
        text = f"Answer yes or no. Is this a polite reply?\\n\\n{row['output']}"
        return [Request(messages=[{"role": "user", "content": text}], text=text, settings=GenSettings(max_tokens=4))]

    def attach(self, row, outputs):
        return {"raw": outputs[0], "yes": outputs[0].strip().lower().startswith("yes")}


class JudgedTask(GenerationTask):
    def score_row(self, instance, row):
        rec = super().score_row(instance, row)
        rec["metrics"]["judged_yes"] = float(row["judge"]["yes"])
        return rec


TASK = JudgedTask(
    name="gsm8k_judged_fixture", suite="dev", skill="chat", in_average=False, data=DataFile("gsm8k/test.jsonl"),
    prompt=lambda doc: doc["question"], gold=lambda doc: gold_answer(doc["answer"]), verifier=GSM8KVerifier(),
    primary_metric="judged_yes", metric_keys=("exact_match_flex",), judge=YesNoJudge(),
    generation=GenSettings(max_tokens=8),
)
'''


def test_judge_model_scores_outputs_and_is_required(tmp_path, bundled_model, data_dir):
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    (tasks / "judged.py").write_text(JUDGED_TASK)
    base = ["--tasks", "gsm8k_judged_fixture", "--include-path", str(tasks), "--limit", "3", "--backend", "hf",
            "--cache", str(tmp_path / "c.sqlite")]
    missing = run_cli("run", *base, "-o", str(tmp_path / "no"))
    assert missing.returncode == 2 and "needs a judge model" in missing.stderr
    res = run_cli("run", *base, "--judge-model", str(bundled_model), "--judge-backend", "hf", "-o", str(tmp_path / "run"))
    assert res.returncode == 0, res.stderr[-3000:]
    result = json.loads((tmp_path / "run" / "results.json").read_text())
    assert result["judge"]["fingerprint"] == result["model"]["fingerprint"]
    assert result["judge"]["generation"]["generated"] == 3
    rows = [json.loads(x) for x in (tmp_path / "run" / "predictions" / "gsm8k_judged_fixture.jsonl").open()]
    assert all("raw" in r["judge"] for r in rows)
    assert result["tasks"]["gsm8k_judged_fixture"]["primary"]["value"] == sum(r["judge"]["yes"] for r in rows) / 3
    again = run_cli("score", str(tmp_path / "run"), "--include-path", str(tasks))
    assert again.returncode == 0, again.stderr[-2000:]
