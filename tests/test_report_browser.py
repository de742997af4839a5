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
