"""Task discovery: built-in declarations, --include-path, installed wheel, selection errors."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tulu_eval.errors import UserError
from tulu_eval.registry import Registry

USER_TASK = '''
"""A user task: GSM8K zero-shot, to show a declaration outside the package."""
from tulu_eval.api.task import GenerationTask
from tulu_eval.data.files import DataFile
from tulu_eval.verifiers.gsm8k import GSM8KVerifier, gold_answer

TASK = GenerationTask(
    name="my_gsm8k_0shot", suite="dev", skill="math", data=DataFile("gsm8k/test.jsonl"),
    prompt=lambda doc: doc["question"], gold=lambda doc: gold_answer(doc["answer"]),
    verifier=GSM8KVerifier(), primary_metric="exact_match_flex", regime="zeroshot",
    metric_keys=("exact_match_flex",), in_average=False,
)
'''


def test_builtin_tasks_are_found_and_unique():
    reg = Registry()
    assert "gsm8k" in reg.tasks
    assert reg.get("gsm8k::tulu") is reg.get("gsm8k")
    for task in reg.tasks.values():
        assert task.suite in ("dev", "unseen")
        assert task.description.strip(), f"{task.name} has no docstring"


def test_include_path_adds_user_task(tmp_path, data_dir):
    (tmp_path / "my_task.py").write_text(USER_TASK)
    reg = Registry([tmp_path])
    task = reg.get("my_gsm8k_0shot")
    docs = task.load_docs(data_dir)
    inst = task.instances(docs[:2])
    assert inst[0].request.messages == [{"role": "user", "content": docs[0]["question"]}]
    assert inst[0].gold == "18"


def test_duplicate_and_broken_declarations_are_user_errors(tmp_path):
    (tmp_path / "a.py").write_text(USER_TASK)
    (tmp_path / "b.py").write_text(USER_TASK)
    with pytest.raises(UserError, match="declared twice"):
        Registry([tmp_path])
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "x.py").write_text("raise RuntimeError('boom')\n")
    with pytest.raises(UserError, match="x.py: cannot load task declaration"):
        Registry([broken])


def test_selection_errors_list_known_names():
    reg = Registry()
    with pytest.raises(UserError, match="known tasks: .*gsm8k"):
        reg.select(tasks="nope")
    with pytest.raises(UserError, match="known suites: dev, unseen"):
        reg.select(suite="devv")
    with pytest.raises(UserError, match="nothing to run"):
        reg.select()


def test_declarations_ship_in_the_wheel(tmp_path):
    """After a plain `pip install .` the tasks are found: build the wheel and import from it."""
    repo = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                          "-w", str(tmp_path), str(repo)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    wheel = next(tmp_path.glob("tulu_eval-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "tulu_eval/tasks/gsm8k.py" in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = "from tulu_eval.registry import Registry; import tulu_eval; print(tulu_eval.__file__); print(sorted(Registry().tasks))"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"})
    assert res.returncode == 0, res.stderr
    assert str(site) in res.stdout and "gsm8k" in res.stdout
