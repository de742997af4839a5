"""Run folders: the default path tells models and settings apart; writes never race; `score` is ordered."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from tulu_eval.api.outputs import GenOutput
from tulu_eval.engine.generate import prediction_rows
from tulu_eval.engine.judge import JudgeConfig
from tulu_eval.engine.plan import RunConfig
from tulu_eval.engine.run import rescore, score_rows
from tulu_eval.models import ModelSpec, fingerprint
from tulu_eval.registry import Registry
from tulu_eval.results import folder as results_mod

FIXTURES = Path(__file__).parent / "fixtures"


def _checkpoint(root: Path, bundled_model: Path, eos: int | None = None) -> Path:
    """A checkpoint folder named ``final`` (links to the bundled model's files, one config changed)."""
    folder = root / "final"
    folder.mkdir(parents=True)
    for f in bundled_model.iterdir():
        if f.is_file() and f.name != "generation_config.json":
            (folder / f.name).symlink_to(f)
    gen = json.loads((bundled_model / "generation_config.json").read_text())
    (folder / "generation_config.json").write_text(json.dumps({**gen, **({"eos_token_id": eos} if eos is not None else {})}))
    return folder


def test_default_folder_tells_models_and_settings_apart(tmp_path, bundled_model):
    a = _checkpoint(tmp_path / "a", bundled_model)
    b = _checkpoint(tmp_path / "b", bundled_model, eos=0)
    cfg = RunConfig(suite="dev", limit=5)

    def folder(path, cfg=cfg, **backend):
        ident = {"fingerprint": fingerprint(ModelSpec(str(path), str(path), "local")), "backend": "hf", **backend}
        return results_mod.default_run_dir(str(path), cfg, ident)

    assert folder(a) == folder(a)  # the same command resumes in the same folder
    assert folder(a).parts[0] == "runs" and folder(a).parts[1].startswith("final-") and folder(a).name == "dev-limit5"
    assert folder(a) != folder(b)  # a/final and b/final no longer overwrite each other
    assert folder(a) != folder(a, backend_name="vllm", dtype="bfloat16")
    assert folder(a) != folder(a, RunConfig(suite="dev", limit=5, max_tokens=24))
    assert folder(a) != folder(a, RunConfig(suite="dev", limit=5, judge=JudgeConfig("smollm2")))


def test_concurrent_writers_never_share_a_temp_file(tmp_path):
    """Two runs writing the same folder: each file is whole, written by one of them, and no writer fails."""
    errors = []

    def writer(k: int):
        try:
            for i in range(30):
                rows = [{"id": str(j), "writer": k, "round": i} for j in range(50)]
                results_mod.write_predictions(tmp_path, "gsm8k", rows)
                results_mod.write_results(tmp_path, {"writer": k, "round": i})
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    rows = [json.loads(line) for line in (tmp_path / "predictions" / "gsm8k.jsonl").open()]
    assert len(rows) == 50 and len({(r["writer"], r["round"]) for r in rows}) == 1
    assert json.loads((tmp_path / "results.json").read_text())["writer"] in range(4)
    assert not list(tmp_path.rglob("*.tmp"))


def _run_folder(tmp_path: Path, data_dir: Path) -> Path:
    """A run folder of two tasks from real model outputs (the GSM8K and PopQA fixtures)."""
    registry = Registry()
    out = tmp_path / "run"
    tasks = {}
    for name, fixture in (("gsm8k", "gsm8k_smollm2.jsonl"), ("popqa", "popqa_smollm2.jsonl")):
        task = registry.get(name)
        fx = {str(r["id"]): r["response"] for r in map(json.loads, (FIXTURES / fixture).open())}
        insts = [i for i in task.instances(task.load_docs(data_dir)) if i.id in fx][:10]
        rows = prediction_rows(insts, ["p"] * len(insts), [GenOutput([fx[i.id]], [1], ["stop"]) for i in insts])
        scored = score_rows(task, rows)
        results_mod.write_predictions(out, name, scored)
        tasks[name] = results_mod.task_summary(task, scored, {})
    results_mod.write_results(out, {"tasks": tasks, "skipped": {}})
    return out


def test_score_writes_nothing_unless_every_task_scored(tmp_path, data_dir, monkeypatch):
    out = _run_folder(tmp_path, data_dir)
    def state():  # a rewrite is a new file (atomic replace), even with the same bytes
        return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes())
                for p in [out / "results.json", *sorted((out / "predictions").iterdir())]}

    before = state()
    popqa = type(Registry().get("popqa"))

    def broken(self, instance, row):
        raise RuntimeError("scoring failed")

    monkeypatch.setattr(popqa, "score_row", broken)  # the second task fails after the first was scored
    with pytest.raises(RuntimeError, match="scoring failed"):
        rescore(out)
    assert state() == before  # gsm8k.jsonl was not rewritten ahead of a results.json that never came
    monkeypatch.undo()
    again = rescore(out)
    assert again["rescored_at"] and again["tasks"]["gsm8k"]["num_instances"] == 10
