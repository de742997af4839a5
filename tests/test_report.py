"""The HTML report, built from the committed reference runs (real outputs of the bundled model)."""

from __future__ import annotations

import json
import math
import re
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from tulu_eval.report import write_run_report
from tulu_eval.report.compare import compare_task
from tulu_eval.report.load import load_entries
from tulu_eval.report.render import render_report
from tulu_eval.scoring.metrics import aggregate_records, paired_bootstrap_test

from .conftest import REPO, run_cli

REF = REPO / "reports" / "reference"
CHAT, PLAIN = REF / "smollm2-chat-dev", REF / "smollm2-plain-dev"
REF_RUNS = sorted(p.parent for p in REF.glob("smollm2-*/results.json"))


class _Page(HTMLParser):
    """Tags with their attributes, and the text of <style> and <script>."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.inline: list[str] = []
        self._in = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in = tag if tag in ("style", "script") else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in:
            self.inline.append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _results(run: Path) -> dict:
    return json.loads((run / "results.json").read_text())


def _board_cells(html: str) -> dict[tuple[str, str], str]:
    """(row label, data-key) -> data-v of the leaderboard table."""
    body = html.split('id="board"', 1)[1].split("</table>", 1)[0]
    cells = {}
    for row in re.findall(r"<tr data-entry=.*?</tr>", body, flags=re.S):
        label = re.search(r'class="label-col" data-v="([^"]*)"', row).group(1)
        for value, key in re.findall(r'data-v="([^"]*)" data-key="([^"]*)"', row):
            cells[(label, key)] = value
    return cells


def test_reference_runs_are_committed_and_small():
    runs = REF_RUNS
    assert {CHAT, PLAIN, REF / "smollm2-chat-unseen", REF / "smollm2-plain-unseen"} <= set(runs)
    size = sum(p.stat().st_size for p in REF.rglob("*") if p.is_file() and p.name != "report.html")  # not committed
    assert size < 1_000_000, f"reports/reference holds {size} bytes"
    for run in runs:
        assert _results(run)["selection"]["limit"], "reference runs use a small --limit"


def test_leaderboard_equals_results_json_and_page_is_self_contained():
    html = render_report([CHAT, PLAIN])
    page = _parse(html)
    # nothing outside the file: no external script, stylesheet, image, font, frame or import
    for tag, attrs in page.tags:
        assert tag not in ("link", "img", "iframe", "object", "embed"), tag
        assert "src" not in attrs, (tag, attrs)
        href = attrs.get("href")
        assert href is None or href.startswith("#"), href
    inline = "\n".join(page.inline)
    assert "url(" not in inline and "@import" not in inline and "fetch(" not in inline
    assert "XMLHttpRequest" not in inline
    cells = _board_cells(html)
    entries = load_entries([CHAT, PLAIN])
    assert len(entries) == 2 and entries[0].label != entries[1].label
    for entry, run in zip(entries, (CHAT, PLAIN)):
        res = _results(run)
        for name, task in res["tasks"].items():
            assert float(cells[(entry.label, name)]) == task["primary"]["value"]
        assert float(cells[(entry.label, "dev")]) == res["suites"]["dev"]["average"]
    limit = _results(CHAT)["selection"]["limit"]
    assert f"--limit {limit}" in html and "not comparable to full-suite results" in html  # the limit is stated


def test_drilldown_lists_failures_first_and_states_the_cap():
    entries = load_entries([CHAT, PLAIN], max_instances=3)
    html = render_report([CHAT, PLAIN], max_instances=3)
    for entry in entries:
        for name, view in entry.views.items():
            assert view.total == entry.tasks[name]["num_instances"]
            assert len(view.shown) == min(3, view.total)
            verdicts = [r.verdict for r in view.shown]
            assert verdicts == sorted(verdicts)  # failures (lowest verdicts) first
            # nothing better than the shown ones was left out in favour of them
            rows = [json.loads(x) for x in (entry.task_run[name].path / "predictions" / f"{name}.jsonl").open()]
            assert sorted(r["verdict"] for r in rows)[:3] == verdicts
            assert f"Showing 3 of {view.total}" in html
    assert "cap 3" in html and "--max-instances" in html


def test_paired_bootstrap_reproduces_the_reported_difference():
    """On real predictions, the bootstrap's observed difference is the difference of the task metrics."""
    chat, plain = load_entries([CHAT, PLAIN])
    for name in chat.tasks:
        result, note = compare_task(chat.views[name], plain.views[name], iters=500)
        assert result is not None, note
        assert math.isclose(result.diff, chat.tasks[name]["primary"]["value"] - plain.tasks[name]["primary"]["value"],
                            abs_tol=1e-9), name
        assert result.ci_low <= result.diff + 1e-12 and result.diff - 1e-12 <= result.ci_high
        assert 0.0 <= result.p_value <= 1.0


def test_paired_bootstrap_shortcut_matches_naive_resampling():
    rng = np.random.default_rng(3)
    a = (rng.random(400) < 0.62).astype(float)
    b = (rng.random(400) < 0.5).astype(float)
    fast = paired_bootstrap_test(a, b, iters=4000, seed=1)
    idx = rng.integers(0, 400, size=(4000, 400))
    naive = (a[idx] - b[idx]).mean(axis=1)
    lo, hi = np.quantile(naive, [0.025, 0.975])
    assert abs(fast.ci_low - lo) < 0.015 and abs(fast.ci_high - hi) < 0.015
    assert abs(fast.p_a_not_better - np.mean(naive <= 0)) < 0.01
    assert fast.winner() == 1 and fast.p_value < 0.05
    same = paired_bootstrap_test(a, a)
    assert same.diff == 0 and same.p_value == 1.0 and same.winner() == 0


def test_weighted_bootstrap_statistic_is_micro_or_macro_aggregate():
    recs_a = [{"metrics": {"m": [1, 0, 1]}, "group": "x"}, {"metrics": {"m": [1]}, "group": "y"},
              {"metrics": {"m": [0, 0]}, "group": "y"}]
    recs_b = [{"metrics": {"m": [0, 0, 1]}, "group": "x"}, {"metrics": {"m": [1]}, "group": "y"},
              {"metrics": {"m": [1, 1]}, "group": "y"}]
    counts = [3, 1, 2]
    a = [sum(r["metrics"]["m"]) / len(r["metrics"]["m"]) for r in recs_a]
    b = [sum(r["metrics"]["m"]) / len(r["metrics"]["m"]) for r in recs_b]
    micro = paired_bootstrap_test(a, b, weights=counts, iters=200)
    assert math.isclose(micro.diff, aggregate_records(recs_a)["m"].value - aggregate_records(recs_b)["m"].value)
    macro_w = [3 / 3, 1 / 3, 2 / 3]  # judgements / judgements in the instance's group
    macro = paired_bootstrap_test(a, b, weights=macro_w, iters=200)
    assert math.isclose(macro.diff, aggregate_records(recs_a, True)["m"].value - aggregate_records(recs_b, True)["m"].value)


def test_reference_dev_and_unseen_runs_share_a_row_with_their_gap():
    entries = load_entries(REF_RUNS)
    assert len(entries) == 2 and all(len(e.runs) == 2 for e in entries)
    html = render_report(REF_RUNS)
    cells = _board_cells(html)
    for e in entries:
        by_suite = {r.results["selection"]["suite"]: r.results for r in e.runs}
        dev, uns = by_suite["dev"]["suites"]["dev"]["average"], by_suite["unseen"]["suites"]["unseen"]["average"]
        assert float(cells[(e.label, "dev")]) == dev and float(cells[(e.label, "unseen")]) == uns
        assert math.isclose(float(cells[(e.label, "gap")]), dev - uns)
    assert "dev average against unseen average" in html and 'id="no-scatter"' not in html


def test_dev_and_unseen_runs_of_one_model_share_a_row(tmp_path):
    unseen = REF / "smollm2-chat-unseen"  # the real unseen-suite run of the same model and settings
    entries = load_entries([CHAT, unseen, PLAIN])
    assert len(entries) == 2 and len(entries[0].runs) == 2
    html = render_report([CHAT, unseen, PLAIN])
    cells = _board_cells(html)
    label = entries[0].label
    dev, uns = float(cells[(label, "dev")]), float(cells[(label, "unseen")])
    assert math.isclose(dev, _results(CHAT)["suites"]["dev"]["average"])
    assert math.isclose(uns, _results(unseen)["suites"]["unseen"]["average"])
    assert math.isclose(float(cells[(label, "gap")]), dev - uns)
    assert cells[(entries[1].label, "unseen")] == ""  # the plain dev run alone has no unseen average
    assert "dev average against unseen average" in html and 'id="no-scatter"' not in html
    assert "Dev → unseen gap" in html


def test_missing_predictions_are_reported_not_fatal(tmp_path):
    run = shutil.copytree(PLAIN, tmp_path / "plain")
    for path in (run / "predictions").glob("*.jsonl"):
        path.unlink()
    html = render_report([CHAT, run])
    assert "predictions missing" in html and "is missing" in html
    cells = _board_cells(html)  # the scores still come from results.json
    label = load_entries([CHAT, run])[1].label
    assert float(cells[(label, "dev")]) == _results(PLAIN)["suites"]["dev"]["average"]


def test_single_run_report_has_no_scatter_and_no_pairs():
    html = render_report([CHAT])
    assert 'id="no-scatter"' in html and "nothing to compare" in html


def test_model_output_is_escaped(tmp_path):
    run = shutil.copytree(CHAT, tmp_path / "run")
    path = next((run / "predictions").glob("*.jsonl"))
    rows = [json.loads(x) for x in path.open()]
    rows[0]["output"] = "</pre><script>alert(1)</script>"
    rows[0]["verdict"] = 0.0
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    html = render_report([run])
    assert "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("<script>") == 1


def test_cli_report_writes_file_and_bad_folder_is_one_line_exit_2(tmp_path):
    out = tmp_path / "r.html"
    res = run_cli("report", str(CHAT), str(PLAIN), "-o", str(out), "--max-instances", "5")
    assert res.returncode == 0, res.stderr
    assert out.stat().st_size > 10_000 and "wrote" in res.stdout
    bad = run_cli("report", str(tmp_path / "nope"))
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "nope" in bad.stderr
    not_run = run_cli("report", str(tmp_path))
    assert not_run.returncode == 2 and "results.json" in not_run.stderr


def test_failing_report_only_warns(tmp_path, capsys):
    assert write_run_report(tmp_path) is None
    assert "report.html not written" in capsys.readouterr().err
    assert not (tmp_path / "report.html").exists()


def test_benchmark_script_runs_on_a_small_case(tmp_path):
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import bench_report  # noqa: PLC0415
    finally:
        sys.path.pop(0)
    res = bench_report.bench(runs=2, tasks=3, instances=120, max_instances=10, workdir=tmp_path)
    assert res["report_mb"] > 0.05 and res["total_s"] < 5


@pytest.mark.slow
def test_benchmark_budget_5_runs_20_tasks_1000_instances():
    res = run_cli_bench()
    assert res.returncode == 0, res.stdout + res.stderr


def run_cli_bench():
    import subprocess  # noqa: PLC0415

    return subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_report.py")], capture_output=True,
                          text=True, timeout=600, cwd=REPO)


def test_run_writes_report_unless_told_not_to(tmp_path, bundled_model, data_dir):
    args = ["run", "--tasks", "gsm8k", "--limit", "2", "--backend", "hf", "--max-tokens", "8"]
    res = run_cli(*args, "-o", str(tmp_path / "with"))
    assert res.returncode == 0, res.stderr
    report = (tmp_path / "with" / "report.html").read_text()
    value = _results(tmp_path / "with")["tasks"]["gsm8k"]["primary"]["value"]
    assert f'data-v="{float(value)!r}" data-key="gsm8k"' in report
    res = run_cli(*args, "--no-report", "-o", str(tmp_path / "without"))
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "without" / "results.json").is_file() and not (tmp_path / "without" / "report.html").exists()
