"""GSM8K (Cobbe et al., 2021), Tülu 3 dev-suite regime, as OLMES ``gsm8k::tulu``.

* data: ``gsm8k/test.jsonl``, all 1,319 problems (HF hub ``openai/gsm8k`` ``main``/``test``)
* prompt: "Question: {question}\\nAnswer:" after the 8 fixed chain-of-thought exemplars of OLMES
  ``STD:GSM8k`` (Wei et al. 2022, each ending "So the answer is N."), few-shot as multi-turn
  chat. As OLMES's chat format does, "Answer:" is the *assistant* prefix: the user turns say
  "Question: ...", each exemplar answer reads "Answer: ... So the answer is N.", and the
  generation prompt ends with "Answer:" after the chat template's assistant header. Without a
  chat template the prompt is the plain 8-shot text ("Question: ...\\nAnswer: ...", blank lines
  between), as OLMES ``gsm8k::olmes`` builds it.
* generation: greedy, at most 512 new tokens, stop at "Question:", "</s>", "<|im_end|>"
  (OLMES's chat stop sequences; its plain-text regime also stops at a blank line, which we do
  not, since one stop list serves both formats)
* metric: ``exact_match`` (primary, OLMES): last number of the response against the last number
  of the gold ``#### N``. Also reported: ``exact_match_strict`` (the "So the answer is N" phrase)
  and ``exact_match_flex`` (lm-eval's flexible extraction). See ``tulu_eval/verifiers/gsm8k.py``.
* deviations: none known in prompt or scoring. The "Answer:" assistant prefix follows OLMES's
  ``convert_chat_instance`` (context = chat template + ``assistant_prefix``); that GSM8K's chat
  prefix is "Answer:" comes from reproductions of ``gsm8k::tulu``, not from OLMES's own
  ``gsm8k.py``, which the search index does not hold. API chat backends cannot prefill the
  assistant turn and drop the prefix.
"""

from tulu_eval.api.request import GenSettings
from tulu_eval.api.task import GenerationTask
from tulu_eval.data.files import DataFile, HubSource
from tulu_eval.verifiers.gsm8k import short_answer

EXEMPLARS = [
    ("There are 15 trees in the grove. Grove workers will plant trees in the grove today. After they are done, "
     "there will be 21 trees. How many trees did the grove workers plant today?",
     "There are 15 trees originally. Then there were 21 trees after some more were planted. "
     "So there must have been 21 - 15 = 6.", "6"),
    ("If there are 3 cars in the parking lot and 2 more cars arrive, how many cars are in the parking lot?",
     "There are originally 3 cars. 2 more cars arrive. 3 + 2 = 5.", "5"),
    ("Leah had 32 chocolates and her sister had 42. If they ate 35, how many pieces do they have left in total?",
     "Originally, Leah had 32 chocolates. Her sister had 42. So in total they had 32 + 42 = 74. "
     "After eating 35, they had 74 - 35 = 39.", "39"),
    ("Jason had 20 lollipops. He gave Denny some lollipops. Now Jason has 12 lollipops. "
     "How many lollipops did Jason give to Denny?",
     "Jason started with 20 lollipops. Then he had 12 after giving some to Denny. So he gave Denny 20 - 12 = 8.", "8"),
    ("Shawn has five toys. For Christmas, he got two toys each from his mom and dad. How many toys does he have now?",
     "Shawn started with 5 toys. If he got 2 toys each from his mom and dad, then that is 4 more toys. 5 + 4 = 9.", "9"),
    ("There were nine computers in the server room. Five more computers were installed each day, from monday to "
     "thursday. How many computers are now in the server room?",
     "There were originally 9 computers. For each of 4 days, 5 more computers were added. "
     "So 5 * 4 = 20 computers were added. 9 + 20 is 29.", "29"),
    ("Michael had 58 golf balls. On tuesday, he lost 23 golf balls. On wednesday, he lost 2 more. "
     "How many golf balls did he have at the end of wednesday?",
     "Michael started with 58 golf balls. After losing 23 on tuesday, he had 58 - 23 = 35. "
     "After losing 2 more, he had 35 - 2 = 33 golf balls.", "33"),
    ("Olivia has $23. She bought five bagels for $3 each. How much money does she have left?",
     "Olivia had 23 dollars. 5 bagels for 3 dollars each will be 5 x 3 = 15 dollars. "
     "So she has 23 - 15 dollars left. 23 - 15 is 8.", "8"),
]


def prompt(doc: dict) -> str:
    return f"Question: {doc['question']}\nAnswer:"


TASK = GenerationTask(
    name="gsm8k",
    regime="tulu",
    suite="dev",
    skill="math",
    description=__doc__,
    data=DataFile("gsm8k/test.jsonl", hub=HubSource("openai/gsm8k", "main", "test"),
                  how_to_get="copy grade_school_math/data/test.jsonl from github.com/openai/grade-school-math"),
    prompt=prompt,
    fewshot=[(prompt({"question": q}), f"{cot} So the answer is {a}.") for q, cot, a in EXEMPLARS],
    assistant_prefix="Answer:",
    gold=lambda doc: short_answer(doc["answer"]),
    verifier="gsm8k",
    generation=GenSettings(max_tokens=512, temperature=0.0, stop=("Question:", "</s>", "<|im_end|>")),
    metric_keys=("exact_match", "exact_match_strict", "exact_match_flex"),
    primary_metric="exact_match",
)
