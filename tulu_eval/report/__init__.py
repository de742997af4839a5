"""HTML leaderboard report (templates live in the repo's reports/templates folder)."""

from __future__ import annotations

import sys
from pathlib import Path


def write_run_report(run_dir: Path) -> Path | None:
    """``run_dir/report.html`` for a finished run; a failing report is a warning, never lost results."""
    try:
        from .render import write_report  # noqa: PLC0415

        return Path(write_report([run_dir], Path(run_dir) / "report.html")["path"])
    except Exception as exc:  # noqa: BLE001 - the results are written already; the report is extra
        print(f"tulu-eval: warning: report.html not written ({type(exc).__name__}: {exc}); "
              f"run `tulu-eval report {run_dir}` to retry", file=sys.stderr)
        return None
