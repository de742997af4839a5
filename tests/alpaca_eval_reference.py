"""Run alpaca_eval 0.6.6's own length-controlled win rate on annotations; print its numbers as JSON.

Run in a subprocess by tests/test_alpaca_eval.py with the reference on PYTHONPATH (installed with
``pip install --no-deps --target DIR alpaca-eval==0.6.6 patsy``, see scripts/install.sh; the main venv
provides pandas and scikit-learn), because alpaca_eval turns on scikit-learn's global metadata routing,
which must not leak into other tests.

    python tests/alpaca_eval_reference.py JOBS.json  (see main)

What is not alpaca_eval's: the HF-hub download of ``df_gamed.csv`` (no hub here) is replaced by a local
file holding the per-instruction difficulties given in the input (zeros when none); the
``length_controlled_minimal`` and ``length_controlled_noreg`` formulas use nothing else from that file.
Output lengths are passed as strings of those lengths (the GLM reads only ``str.len()``).
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from alpaca_eval.metrics import glm_winrate


def run(job: dict, gamed: Path) -> dict:
    """alpaca_eval's metrics for every model of one job: {model: {glm: metrics + chosen C + weights}}."""
    difficulty = job.get("difficulty") or [0.0] * 805
    pd.DataFrame({"model": "none", "index": range(len(difficulty)),
                  "instruction_difficulty": difficulty}).to_csv(gamed, index=False)
    out = {}
    for name, m in job["models"].items():
        annotations = pd.DataFrame({
            "instruction": [f"instruction {i}" for i in range(len(m["preference"]))],
            "output_1": ["x" * n for n in m["len_baseline"]], "generator_1": "gpt4_1106_preview",
            "output_2": ["x" * n for n in m["len_model"]], "generator_2": name,
            "annotator": "weighted_alpaca_eval_gpt4_turbo",
            "preference": [np.nan if p is None else p for p in m["preference"]],
        })
        res = {}
        for glm in job.get("glms", ["length_controlled_minimal"]):
            info = dict(glm_winrate.GLM_INFO[glm])
            if job.get("tol"):  # liblinear's stopping tolerance (sklearn's default 1e-4)
                info["kwargs"] = {**info["kwargs"], "tol": job["tol"]}
            metrics = glm_winrate.get_length_controlled_winrate(
                annotations.copy(), glm_info=info, save_weights_dir=None, is_warn_extreme_changes=False)
            res[glm] = {k: float(v) for k, v in metrics.items()}
            model = FITTED.pop()  # the fit it used: the chosen C and the weights
            res[glm]["C"] = float(np.ravel(model.C_)[0])
            res[glm]["weights"] = [float(w) for w in model.coef_[0]]
        out[name] = res
    return out


FITTED: list = []


def main(path: str) -> None:
    """Input: a list of jobs {"models": {name: {preference, len_baseline, len_model}}, "difficulty":
    [805 floats] or absent, "glms": [GLM_INFO names], "tol": liblinear tol or absent}."""
    jobs = json.loads(Path(path).read_text())
    fit = glm_winrate.fit_LogisticRegressionCV
    glm_winrate.fit_LogisticRegressionCV = lambda *a, **k: FITTED.append(fit(*a, **k)) or FITTED[-1]
    with tempfile.TemporaryDirectory() as tmp:
        gamed = Path(tmp) / "df_gamed.csv"
        glm_winrate.hf_hub_download = lambda *a, **k: str(gamed)
        json.dump([run(job, gamed) for job in jobs], sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
