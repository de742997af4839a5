"""Generation cache: sqlite, keyed by a hash of (model fingerprint, backend identity, prompt, settings).

Written after every chunk the backend finishes, so a run killed at any point and started
again with the same arguments regenerates nothing already done. Reruns with a different
``--limit`` reuse the overlap; the same cache file can be shared between runs (``--cache``).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from ..api.outputs import GenOutput


def request_key(identity: dict, prompt: str, settings: dict) -> str:
    blob = json.dumps({"id": identity, "prompt": prompt, "settings": settings}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class GenerationCache:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(str(path), timeout=60)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS generations (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self.db.commit()

    def get_many(self, keys: list[str]) -> dict[str, GenOutput]:
        found: dict[str, GenOutput] = {}
        unique = list(dict.fromkeys(keys))
        for i in range(0, len(unique), 500):
            part = unique[i:i + 500]
            q = f"SELECT key, value FROM generations WHERE key IN ({','.join('?' * len(part))})"
            for key, value in self.db.execute(q, part):
                found[key] = GenOutput(**json.loads(value))
        return found

    def put_many(self, items: dict[str, GenOutput]) -> None:
        rows = [(k, json.dumps(v.__dict__, ensure_ascii=False)) for k, v in items.items()]
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO generations (key, value) VALUES (?, ?)", rows)

    def __len__(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM generations").fetchone()[0]

    def close(self) -> None:
        self.db.close()
