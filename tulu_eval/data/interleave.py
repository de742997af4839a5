"""Round-robin interleaving of a task's subsets, so that ``--limit N`` samples every subset.

The first row of every subset, then the second of every subset, and so on; a subset that runs
out drops out. The order changes no full-data score (every row is still there once).
"""

from __future__ import annotations

from typing import Sequence


def interleave(*streams: Sequence) -> list:
    longest = max((len(s) for s in streams), default=0)
    return [s[i] for i in range(longest) for s in streams if i < len(s)]
