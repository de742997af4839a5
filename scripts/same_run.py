"""Are two run folders the same run? For checking that a refactor changes no result.

    python scripts/same_run.py BEFORE_RUN_DIR AFTER_RUN_DIR

Compares every ``predictions/*.jsonl`` byte for byte, and ``results.json`` as JSON with the
fields that differ between two runs of the same thing left out: when and how it was started
(``created``, ``command``), how long it took (``timings``), and how much of the workload came
from the generation cache (``generation``, ``tokens_generated``: a rerun on the same cache
generates nothing). Prints each difference; exits 1 if there is one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

VOLATILE = ("created", "command", "timings", "generation", "tokens_generated")


def _diff(a, b, path: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                out.append(f"{path}.{key}: only in {'after' if key in b else 'before'}")
            else:
                _diff(a[key], b[key], f"{path}.{key}", out)
    elif json.dumps(a) != json.dumps(b):  # NaN (a stderr of one instance) equals itself here
        out.append(f"{path}: {json.dumps(a)[:120]} != {json.dumps(b)[:120]}")


def compare(before: Path, after: Path) -> list[str]:
    out: list[str] = []
    names = sorted({p.name for d in (before, after) for p in (d / "predictions").glob("*.jsonl")})
    for name in names:
        a, b = before / "predictions" / name, after / "predictions" / name
        if not a.is_file() or not b.is_file():
            out.append(f"predictions/{name}: only in {'after' if b.is_file() else 'before'}")
        elif a.read_bytes() != b.read_bytes():
            out.append(f"predictions/{name}: bytes differ")
    ra, rb = (json.loads((d / "results.json").read_text()) for d in (before, after))
    for key in VOLATILE:
        ra.pop(key, None)
        rb.pop(key, None)
    _diff(ra, rb, "results.json", out)
    return out


def main() -> int:
    before, after = (Path(a) for a in sys.argv[1:3])
    diffs = compare(before, after)
    n = len(list((before / "predictions").glob("*.jsonl")))
    print("\n".join(diffs) if diffs else f"same: {n} predictions files byte-identical, results.json equal "
                                             f"except {', '.join(VOLATILE)}")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
