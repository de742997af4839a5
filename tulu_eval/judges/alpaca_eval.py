"""AlpacaEval 2: the pairwise annotator (the length-controlled win rate is ``tulu_eval/scoring/lc_winrate.py``).

Annotator: a judge model reads one instruction and two outputs (the evaluated model's and the
GPT-4-turbo reference), labelled ``m`` and ``M``, and names the better one. The prompt has the
structure of alpaca_eval's ``alpaca_eval_clf_gpt4_turbo`` template (system turn, JSON-ish
instruction and outputs blocks, "answer with the identifier only"), in our own words. Which
output is shown first is fixed per instance by a hash of the instruction (about half the
instances each way, so position bias cancels on average; alpaca_eval also randomizes the
order), and recorded in the verdict. The verdict is parsed from text; a weighted preference
from the judge's logprobs (alpaca_eval's ``weighted_`` annotator) is not implemented.
"""

from __future__ import annotations

import hashlib
import re

from ..api.judge import Judge
from ..api.request import GenSettings, Request

JUDGE_SYSTEM = ("You are a careful, efficient judge. You compare the answers that large language models give to "
                "the same instruction and pick the better one, for a leaderboard that should reflect which answers "
                "people prefer.")

JUDGE_TEMPLATE = '''I am ranking large language models. Below is an instruction that two models were given, and the output of each model. Pick the model whose output a careful human reader would prefer.

## Instruction

{{
    "instruction": """{instruction}""",
}}

## Model outputs

The outputs are listed in no particular order; each carries the identifier of the model that wrote it.

{{
    {{
        "model_identifier": "m",
        "output": """{output_m}"""
    }},
    {{
        "model_identifier": "M",
        "output": """{output_M}"""
    }}
}}

## Task

Judge both outputs on quality and relevance to the instruction, and choose the model that produced the better one. Reply with that model's identifier and nothing else: exactly one of m or M, without quotes, spaces, punctuation or new lines.

## Best model identifier
'''

# the first standalone m or M (not inside a word such as "I'm" or "Model")
_LABEL = re.compile(r"(?<![A-Za-z0-9_'\u2019])([mM])(?![A-Za-z0-9_'\u2019])")


def model_label(instruction: str) -> str:
    """Identifier under which the evaluated model's output is shown: "m" (first) or "M" (second)."""
    return "m" if hashlib.sha256(instruction.encode("utf-8")).digest()[0] % 2 == 0 else "M"


def judge_prompt(instruction: str, output: str, reference: str) -> tuple[str, str]:
    """(label of the model's output, user message) for one comparison."""
    label = model_label(instruction)
    first, second = (output, reference) if label == "m" else (reference, output)
    return label, JUDGE_TEMPLATE.format(instruction=instruction, output_m=first, output_M=second)


def parse_label(text: str) -> str | None:
    """The identifier the judge named ("m" or "M"), or None when it named neither."""
    match = _LABEL.search(text or "")
    return match.group(1) if match else None


class AlpacaEvalJudge(Judge):
    """Pairwise annotator; ``row["gold"]`` holds the instruction and the reference output."""

    required = True

    def __init__(self, max_tokens: int = 16):
        self.settings = GenSettings(max_tokens=max_tokens, temperature=0.0)

    def requests(self, row: dict) -> list[Request]:
        gold = row["gold"]
        _, user = judge_prompt(gold["instruction"], row["output"], gold["reference"])
        messages = [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}]
        return [Request(messages=messages, text=f"{JUDGE_SYSTEM}\n\n{user}", settings=self.settings)]

    def attach(self, row: dict, outputs: list[str]) -> dict:
        label = model_label(row["gold"]["instruction"])
        named = parse_label(outputs[0])
        preference = None if named is None else float(named == label)
        return {"raw": outputs[0], "model_label": label, "named": named, "preference": preference}
