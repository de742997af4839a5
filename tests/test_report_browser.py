"""The report in a real browser: Debian's Chromium (/usr/bin/chromium) driven by Playwright, offline.

Needs ``apt-get install -y chromium`` (done by .ci/run); Playwright's own browser download is
never used. Every request other than the report file itself is aborted and recorded, and the
test asserts that none was attempted.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import pytest

from tulu_eval.report.load import load_entries
from tulu_eval.report.render import write_report

from .test_report import CHAT, PLAIN, REF_RUNS

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="Debian's Chromium is not installed: apt-get install -y chromium")


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser, tmp_path):
    out = tmp_path / "report.html"
    write_report(REF_RUNS, out)
    url = out.resolve().as_uri()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    attempted: list[str] = []

    def guard(route):
        if route.request.url == url:
            route.continue_()
        else:
            attempted.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.goto(url)
    pg.wait_for_load_state("load")
    pg.attempted, pg.js_errors = attempted, errors
    yield pg
    context.close()


def _column_values(pg, col: int) -> list[str]:
    return pg.eval_on_selector_all("#board tbody tr", f"rows => rows.map(r => r.cells[{col}].getAttribute('data-v'))")


def _labels(pg) -> list[str]:
    return pg.eval_on_selector_all("#board tbody tr", "rows => rows.map(r => r.cells[0].getAttribute('data-v'))")


def test_leaderboard_sort_drilldown_offline(page, tmp_path):
    pg = page
    entries = load_entries(REF_RUNS)  # the rows, in page order: one per model/config, dev and unseen runs merged
    # leaderboard values are those of results.json, as numbers and as the text shown
    keys = pg.eval_on_selector_all("#board tbody tr:first-child td", "tds => tds.map(td => td.dataset.key || '')")
    rows = pg.eval_on_selector_all("#board tbody tr", "rs => rs.map(r => [...r.cells].map(c => "
                                   "[c.dataset.v, (c.querySelector('.val') || c).textContent.trim()]))")
    assert len(rows) == len(entries) == 2
    checked = expected_count = 0
    for row, entry in zip(rows, entries):
        expected = {}
        for run in entry.runs:
            res = json.loads((run.path / "results.json").read_text())
            expected.update({name: t["primary"]["value"] for name, t in res["tasks"].items()})
            expected.update({suite: s["average"] for suite, s in res["suites"].items()})
        expected_count += len(expected)
        for (value, text), key in zip(row, keys):
            if key in expected:
                assert float(value) == expected[key] and text == f"{100 * expected[key]:.1f}", (entry.label, key)
                checked += 1
            elif key == "gap":
                assert math.isclose(float(value), expected["dev"] - expected["unseen"]), entry.label
    assert checked == expected_count

    # clicking a header whose values differ re-orders the rows, both ways
    differing = [k for k, key in enumerate(keys) if k and len({r[k][0] for r in rows}) == 2]
    assert differing, "the two reference runs should differ in at least one column"
    col = differing[0]
    before = _labels(pg)
    pg.click(f'#board thead th[data-col="{col}"]')
    first = _labels(pg)
    vals = [float(v) for v in _column_values(pg, col)]
    assert vals == sorted(vals, reverse=True)
    assert pg.get_attribute(f'#board thead th[data-col="{col}"]', "aria-sort") == "descending"
    pg.click(f'#board thead th[data-col="{col}"]')
    second = _labels(pg)
    assert second == list(reversed(first)) and (first != before or second != before)
    assert [float(v) for v in _column_values(pg, col)] == sorted(vals)

    # open the drill-down of a task with failures and find a failing instance
    task = next(n for n in json.loads((CHAT / "results.json").read_text())["tasks"]
                if any(json.loads(x)["verdict"] <= 0 for x in (CHAT / "predictions" / f"{n}.jsonl").open()))
    drill = pg.locator(f"#task-{task}")
    assert drill.get_attribute("open") is None
    pg.click(f'a.task-link[data-task="{task}"]')
    pg.wait_for_function(f"document.getElementById('task-{task}').open")
    failing = drill.locator('details.inst[data-verdict="fail"]').first
    failing.scroll_into_view_if_needed()
    assert failing.is_visible()
    failing.locator("summary").click()
    output = failing.locator("pre.out")
    assert output.is_visible()
    iid = failing.get_attribute("data-id")
    entry = int(failing.get_attribute("data-entry"))
    rows_file = [json.loads(x) for x in ((CHAT, PLAIN)[entry] / "predictions" / f"{task}.jsonl").open()]
    row = next(r for r in rows_file if str(r["id"]) == iid)
    assert row["verdict"] <= 0 and output.inner_text().strip() == row["output"].strip()[:4000].strip()

    # the filters hide passing instances and count what is left
    drill.locator("select.f-verdict").select_option("pass")
    visible = drill.locator("details.inst:visible")
    assert all(v == "pass" for v in visible.evaluate_all("els => els.map(e => e.dataset.verdict)"))
    drill.locator("select.f-verdict").select_option("")
    assert "listed instances" in drill.locator(".f-count").inner_text()

    pg.wait_for_timeout(200)  # late requests (fonts, prefetch) would show up here
    assert pg.attempted == [], f"the report tried to reach the network: {pg.attempted}"
    assert pg.js_errors == [], f"JavaScript errors: {pg.js_errors}"

    shot = tmp_path / "report.png"
    pg.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    keep = os.environ.get("TULU_EVAL_ARTIFACTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "report_browser.png")


def test_contaminated_cells_are_flagged_with_the_clean_score(browser, tmp_path, data_dir):
    """A model whose training manifest (a real decontamination run over a file holding two GSM8K test
    questions) overlaps GSM8K instances: its GSM8K cell carries the flag and the clean-subset score."""
    import subprocess
    import sys

    from .test_contamination import CONTAMINATED, make_manifest

    run = tmp_path / "chat-dev"
    shutil.copytree(CHAT, run)
    manifest = make_manifest(tmp_path / "train", data_dir)
    proc = subprocess.run([sys.executable, "-m", "tulu_eval.cli", "score", str(run), "--training-manifest",
                           str(manifest)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    res = json.loads((run / "results.json").read_text())
    clean = res["tasks"]["gsm8k"]["contamination"]["clean"]["exact_match"]
    out = tmp_path / "report.html"
    write_report([run, PLAIN], out)
    url = out.resolve().as_uri()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    attempted: list[str] = []
    context.route("**/*", lambda route: route.continue_() if route.request.url == url
                  else (attempted.append(route.request.url), route.abort()))
    pg = context.new_page()
    pg.goto(url)
    flagged = pg.locator('#board tbody tr[data-entry="0"] td[data-key="gsm8k"]')
    mark = flagged.locator("sup.contam")
    assert mark.is_visible() and mark.inner_text() == "⚠2"
    assert "2 of 5 instances overlap the training data" in mark.get_attribute("title")
    assert str(manifest) in mark.get_attribute("title")
    shown = flagged.locator(".clean")
    assert shown.is_visible() and float(shown.get_attribute("data-clean-v")) == clean["value"]
    assert shown.inner_text().startswith(f"clean {100 * clean['value']:.1f}")
    # the full score stays the cell's value (sorting uses it); unflagged cells and the other run carry no mark
    assert float(flagged.get_attribute("data-v")) == res["tasks"]["gsm8k"]["primary"]["value"]
    assert pg.locator("#board sup.contam").count() == 1
    assert pg.locator('#board tbody tr[data-entry="1"] .clean').count() == 0
    assert pg.locator("#contam-legend").is_visible()
    # the drill-down names the instances and badges them
    pg.click('a.task-link[data-task="gsm8k"]')
    pg.wait_for_function("document.getElementById('task-gsm8k').open")
    badged = pg.locator('#task-gsm8k details.inst[data-contaminated="1"]')
    assert sorted(badged.evaluate_all("els => els.map(e => e.dataset.id)")) == list(CONTAMINATED)
    assert badged.evaluate_all("els => els.map(e => e.dataset.entry)") == ["0", "0"]
    assert pg.locator("#task-gsm8k tr.clean-row").is_visible()
    assert attempted == []
    keep = os.environ.get("TULU_EVAL_ARTIFACTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        pg.locator("#leaderboard").screenshot(path=str(Path(keep) / "report_contamination.png"))
    context.close()
