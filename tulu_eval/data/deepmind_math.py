"""DeepMind Mathematics questions, generated locally and reproducibly.

No repository holds the generated test files (OLMES reads a pre-sampled 100-per-module file
from the HF hub), so the unseen suite generates its own with DeepMind's generator
(``mathematics-dataset`` on PyPI, v1.0.1): the 56 modules of the ``interpolate`` test split,
``PER_MODULE`` questions each, in sorted module order.

Reproducibility: every random source the generator draws from (Python's ``random``, NumPy's
global ``np.random``, SymPy's ``sympy.core.random``) is seeded per module from
``sha256("{seed}/{module}")``, and generation always runs in a fresh interpreter with
``PYTHONHASHSEED=0`` (SymPy's set iteration depends on string hashes). The same seed, package
versions and Python give a byte-identical file; ``tests/test_deepmind_math.py`` checks it.

Compatibility: the 2019 generator predates SymPy >= 1.7 and NumPy 2, so three names it uses
are supplied before it runs (``sympy.solvers.diophantine.base_solution_linear``, ``np.object``,
``ndarray.itemset``); its logic is untouched.

Where the file goes: always the user cache ``~/.cache/tulu_eval/data/deepmind_math/<name>``
(``$TULU_EVAL_CACHE`` moves it), never the data folder, which tulu-eval only reads, writable or
not. A file the user put at ``<data dir>/deepmind_math/<name>`` is used as is. By hand:
``python -m tulu_eval.data.deepmind_math OUT.jsonl``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import types
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from .files import DataFile, read_rows

SEED = 1234
PER_MODULE = 100
SPLIT = "interpolate"
RELPATH = f"deepmind_math/{SPLIT}-{PER_MODULE}-seed{SEED}.jsonl"
PACKAGE = "mathematics-dataset"
_SELF = "tulu_eval.data.deepmind_math"  # run as `python -m` in a child interpreter

# OLMES DEEPMIND_MATH_CATEGORIES: the interpolate modules of mathematics_dataset 1.0.1, sorted
MODULES = (
    "algebra__linear_1d", "algebra__linear_1d_composed", "algebra__linear_2d", "algebra__linear_2d_composed",
    "algebra__polynomial_roots", "algebra__polynomial_roots_composed", "algebra__sequence_next_term",
    "algebra__sequence_nth_term", "arithmetic__add_or_sub", "arithmetic__add_or_sub_in_base",
    "arithmetic__add_sub_multiple", "arithmetic__div", "arithmetic__mixed", "arithmetic__mul",
    "arithmetic__mul_div_multiple", "arithmetic__nearest_integer_root", "arithmetic__simplify_surd",
    "calculus__differentiate", "calculus__differentiate_composed", "comparison__closest",
    "comparison__closest_composed", "comparison__kth_biggest", "comparison__kth_biggest_composed",
    "comparison__pair", "comparison__pair_composed", "comparison__sort", "comparison__sort_composed",
    "measurement__conversion", "measurement__time", "numbers__base_conversion", "numbers__div_remainder",
    "numbers__div_remainder_composed", "numbers__gcd", "numbers__gcd_composed", "numbers__is_factor",
    "numbers__is_factor_composed", "numbers__is_prime", "numbers__is_prime_composed", "numbers__lcm",
    "numbers__lcm_composed", "numbers__list_prime_factors", "numbers__list_prime_factors_composed",
    "numbers__place_value", "numbers__place_value_composed", "numbers__round_number",
    "numbers__round_number_composed", "polynomials__add", "polynomials__coefficient_named",
    "polynomials__collect", "polynomials__compose", "polynomials__evaluate", "polynomials__evaluate_composed",
    "polynomials__expand", "polynomials__simplify_power", "probability__swr_p_level_set",
    "probability__swr_p_sequence",
)


def available() -> bool:
    import importlib.util  # noqa: PLC0415

    return importlib.util.find_spec("mathematics_dataset") is not None


# --- running the generator (in the child interpreter) ----------------------------------------
def _compat() -> None:
    """Supply the three names the 2019 generator expects from old SymPy / NumPy."""
    import importlib  # noqa: PLC0415

    import numpy as np  # noqa: PLC0415

    dioph = importlib.import_module("sympy.solvers.diophantine")
    if not hasattr(dioph, "base_solution_linear"):
        from sympy.solvers.diophantine.diophantine import base_solution_linear  # noqa: PLC0415

        dioph.base_solution_linear = base_solution_linear

    class ItemsetArray(np.ndarray):
        def itemset(self, index, value):  # removed in NumPy 2.0
            self[index] = value

    class NumpyCompat(types.ModuleType):
        object = object  # np.object, removed in NumPy 1.24

        def __getattr__(self, name):
            return getattr(np, name)

        @staticmethod
        def zeros(*args, **kwargs):
            return np.zeros(*args, **kwargs).view(ItemsetArray)

        @staticmethod
        def empty(*args, **kwargs):
            return np.empty(*args, **kwargs).view(ItemsetArray)

    from mathematics_dataset.sample import polynomials  # noqa: PLC0415  (the only module using them)

    polynomials.np = NumpyCompat("numpy")

    # composition.expand_entities iterates a set of Entity objects (hashed by memory address)
    # before shuffling them with the seeded `random`; hash them by creation order instead
    import itertools  # noqa: PLC0415

    from mathematics_dataset.util import composition  # noqa: PLC0415

    init = composition.Entity.__init__
    composition.Entity._creation_counter = itertools.count()  # restarted for every module (_seed_all)

    def numbered_init(self, *args, **kwargs):
        self._creation_index = next(composition.Entity._creation_counter)
        init(self, *args, **kwargs)

    composition.Entity.__init__ = numbered_init
    composition.Entity.__hash__ = lambda self: self._creation_index


def _seed_all(seed: int, module: str) -> None:
    import random  # noqa: PLC0415

    import numpy as np  # noqa: PLC0415
    import sympy.core.random  # noqa: PLC0415

    import itertools  # noqa: PLC0415

    from mathematics_dataset.util import composition  # noqa: PLC0415

    composition.Entity._creation_counter = itertools.count()
    value = int.from_bytes(hashlib.sha256(f"{seed}/{module}".encode()).digest()[:4], "big")
    random.seed(value)
    np.random.seed(value)
    sympy.core.random.seed(value)


def _flatten(tree: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in tree.items():
        name = f"{prefix}__{key}" if prefix else key
        flat.update(_flatten(value, name) if isinstance(value, dict) else {name: value})
    return flat


def generate_rows(seed: int = SEED, per_module: int = PER_MODULE, modules=MODULES):
    """Yield ``{"module", "index", "question", "answer"}`` rows (call in a PYTHONHASHSEED=0 process)."""
    _compat()
    from mathematics_dataset import generate_settings  # noqa: PLC0415
    from mathematics_dataset.modules import modules as ds_modules  # noqa: PLC0415

    test_modules = _flatten(ds_modules.test())
    for name in modules:
        _seed_all(seed, name)
        module = test_modules[name]
        for index in range(per_module):
            while True:  # the generator's own rule: drop over-long questions and answers
                problem = module()
                question, answer = str(problem.question), str(problem.answer)
                if (len(question) <= generate_settings.MAX_QUESTION_LENGTH
                        and len(answer) <= generate_settings.MAX_ANSWER_LENGTH):
                    break
            yield {"module": name, "index": index, "question": question, "answer": answer}


def _write(out: Path, seed: int, per_module: int, modules) -> None:
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8", newline="\n") as fh:
        for row in generate_rows(seed, per_module, modules):
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(tmp, out)


# --- calling it from the harness ---------------------------------------------------------------
def generate(out: Path, seed: int = SEED, per_module: int = PER_MODULE, modules=MODULES, timeout: float = 1800) -> Path:
    """Write the questions to ``out`` (atomically) from a fresh interpreter with PYTHONHASHSEED=0."""
    if not available():
        raise UserError(f"DeepMind Mathematics needs the generator: pip install {PACKAGE}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", _SELF, str(out), "--seed", str(seed), "--per-module", str(per_module),
           "--modules", ",".join(modules)]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    print(f"tulu-eval: generating DeepMind Mathematics ({len(modules)} modules x {per_module}, seed {seed}) "
          f"into {out}", file=sys.stderr)
    from ..procs import child_kwargs  # noqa: PLC0415

    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, **child_kwargs())
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise UserError(f"DeepMind Mathematics generation failed ({tail})")
    return out


def cached_path() -> Path:
    from ..models import cache_dir  # noqa: PLC0415

    return cache_dir() / "data" / RELPATH


def locate(data_dir: Path | None, create: bool = True) -> Path | None:
    """The generated file: in the data folder if the user put it there, else in the user cache,
    where it is generated on first use (the data folder is never written)."""
    candidates = ([data_dir / RELPATH] if data_dir is not None else []) + [cached_path()]
    for path in candidates:
        if path.is_file():
            return path
    if not create or not available():
        return None
    return generate(cached_path())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Generate DeepMind Mathematics test questions as JSON lines.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--per-module", type=int, default=PER_MODULE)
    parser.add_argument("--modules", default=",".join(MODULES), help="comma-separated module names")
    args = parser.parse_args(argv)
    if os.environ.get("PYTHONHASHSEED") != "0":  # set-iteration order must not vary: re-run with it set
        os.execve(sys.executable, [sys.executable, "-m", _SELF, *(argv or sys.argv[1:])],
                  {**os.environ, "PYTHONHASHSEED": "0"})
    modules = tuple(m for m in args.modules.split(",") if m)
    unknown = [m for m in modules if m not in MODULES]
    if unknown:
        parser.error(f"unknown module(s): {', '.join(unknown)}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    _write(args.out, args.seed, args.per_module, modules)


@dataclass(frozen=True)
class GeneratedFile(DataFile):
    """The generator's output as a task's data file: found in the data folder or the user cache,
    else made on first use."""

    def locate(self, data_dir: Path | None) -> Path | None:
        return locate(data_dir)

    def missing_message(self, data_dir: Path | None) -> str:
        return (f"DeepMind Mathematics is generated locally and needs the generator: pip install {PACKAGE} "
                f"(the questions then go to the user cache, data/{self.relpath})")

    def read(self, data_dir: Path | None) -> list[dict]:
        path = self.locate(data_dir)
        if path is None:
            raise UserError(self.missing_message(data_dir))
        return read_rows(path)


FILE = GeneratedFile(RELPATH, how_to_get=f"generated locally: pip install {PACKAGE}")


if __name__ == "__main__":
    main()
