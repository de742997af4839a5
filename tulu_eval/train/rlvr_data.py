"""RLVR data builder: training prompts with a ground truth and the name of the verifier that checks it.

Rows are ``{"messages": [{"role": "user", ...}], "ground_truth": value, "verifier": key}``, the shape
of open-instruct's RLVR sets (``dataset`` there, ``verifier`` here). Sources (train splits only):

* ``gsm8k``: ``gsm8k/train.jsonl``; ground truth = the number after ``####`` (the eval task's rule);
  verifier ``gsm8k``.
* ``math``: ``math_train/train.jsonl`` (problems + final answers); verifier ``math``. The two rows
  with an empty answer are skipped.
* ``ifeval``: IFEval-style constraints (all 25 IFEval instruction types) drawn at random (instruction type and its kwargs, one or
  two per prompt, never two that contradict each other) and appended, as a sentence, to real
  training prompts: Code Alpaca instructions and the Alpaca seed tasks. IFEval's own test prompts
  are never used (a base prompt equal to one of them is dropped if the IFEval file is present).
  Ground truth is the object ``{"instruction_id_list", "kwargs"}``, read by the ``ifeval`` verifier.
  The constraint sentences are our own wording of IFEval's instruction types.

``tulu-eval build-rlvr-data -o rlvr.jsonl --gsm8k 2000 --math 2000 --ifeval 1000`` writes a mix.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Callable

from .rows import SkipRow, read_file

GSM8K_HINT = 'Solve the problem step by step, then finish with "So the answer is N."'
MATH_HINT = "Solve the problem step by step. Put the final answer in \\boxed{}."
SOURCES = {"gsm8k": "gsm8k/train.jsonl", "math": "math_train/train.jsonl",
           "codealpaca": "codealpaca/code_alpaca_2k.json", "alpaca_seed": "alpaca_seed_tasks/seed_tasks.jsonl"}
IFEVAL_TEST = "ifeval/input_data.jsonl"


class BadRow(ValueError):
    """A source row without the columns its format needs."""


def gsm8k_row(row: dict) -> dict:
    if not isinstance(row.get("question"), str) or "####" not in str(row.get("answer", "")):
        raise BadRow("a GSM8K row needs 'question' and an 'answer' ending in '#### N'")
    from ..verifiers.gsm8k import short_answer  # noqa: PLC0415  (the gold rule of the gsm8k eval task)

    return {"messages": [{"role": "user", "content": f"{row['question'].strip()}\n{GSM8K_HINT}"}],
            "ground_truth": short_answer(row["answer"]), "verifier": "gsm8k"}


def math_row(row: dict) -> dict:
    if not isinstance(row.get("problem"), str) or "answer" not in row:
        raise BadRow("a MATH train row needs 'problem' and 'answer'")
    if not str(row["answer"]).strip():
        raise SkipRow()
    return {"messages": [{"role": "user", "content": f"{row['problem'].strip()}\n{MATH_HINT}"}],
            "ground_truth": str(row["answer"]).strip(), "verifier": "math"}


# --- IFEval-style constraints -------------------------------------------------------------------
KEYWORDS = ("example", "simple", "important", "result", "step", "reason", "data", "value", "first", "clear",
            "question", "answer", "method", "idea", "time", "work", "summary", "detail", "list", "code")
END_PHRASES = ("Is there anything else I can help with?", "Any other questions?", "That is all.",
               "Let me know if you have additional questions.")
LANGUAGES = {"fr": "French", "de": "German", "es": "Spanish", "it": "Italian", "pt": "Portuguese"}
FIRST_WORDS = ("first", "then", "finally", "overall", "however", "next")
RELATIONS = ("less than", "at least")

Constraint = tuple[str, dict, str]  # instruction id, kwargs, the sentence added to the prompt


def _no_comma(r, p):
    return "punctuation:no_comma", {}, "Do not use any commas in your response."


def _lowercase(r, p):
    return ("change_case:english_lowercase", {},
            "Your entire response must be in English and in lowercase letters; no capital letters are allowed.")


def _capital(r, p):
    return "change_case:english_capital", {}, "Your entire response must be in English and in capital letters only."


def _capital_words(r, p):
    n, rel = r.randint(2, 10), r.choice(RELATIONS)
    return ("change_case:capital_word_frequency", {"capital_frequency": n, "capital_relation": rel},
            f"In your response, words written in all capital letters should appear {rel} {n} times.")


def _language(r, p):
    code = r.choice(sorted(LANGUAGES))
    return ("language:response_language", {"language": code},
            f"Your entire response must be in {LANGUAGES[code]}; no other language is allowed.")


def _words(r, p):
    n, rel = r.choice((50, 80, 100, 150, 200, 300)), r.choice(RELATIONS)
    return ("length_constraints:number_words", {"num_words": n, "relation": rel},
            f"Answer with {rel} {n} words.")


def _sentences(r, p):
    n, rel = r.randint(2, 8), r.choice(RELATIONS)
    return ("length_constraints:number_sentences", {"num_sentences": n, "relation": rel},
            f"Your response should contain {rel} {n} sentences.")


def _paragraphs(r, p):
    n = r.randint(2, 5)
    return ("length_constraints:number_paragraphs", {"num_paragraphs": n},
            f"Write exactly {n} paragraphs, separated from each other by the markdown divider ***.")


def _nth_paragraph(r, p):
    n = r.randint(2, 4)
    nth, word = r.randint(1, n), r.choice(FIRST_WORDS)
    return ("length_constraints:nth_paragraph_first_word",
            {"num_paragraphs": n, "nth_paragraph": nth, "first_word": word},
            f"Write exactly {n} paragraphs separated by blank lines; paragraph {nth} must start with the word {word}.")


def _keywords(r, p):
    words = r.sample(KEYWORDS, r.randint(1, 3))
    return ("keywords:existence", {"keywords": words},
            f"Include the keywords {', '.join(repr(w) for w in words)} in your response.")


def _keyword_frequency(r, p):
    word, n, rel = r.choice(KEYWORDS), r.randint(1, 4), r.choice(RELATIONS)
    return ("keywords:frequency", {"keyword": word, "frequency": n, "relation": rel},
            f"In your response, the word '{word}' should appear {rel} {n} times.")


def _forbidden(r, p):
    words = r.sample(KEYWORDS, 2)
    return ("keywords:forbidden_words", {"forbidden_words": words},
            f"Do not include the words {' or '.join(repr(w) for w in words)} in your response.")


def _letter(r, p):
    letter, n, rel = r.choice("abcdefghilmnoprstuwy"), r.randint(3, 12), r.choice(RELATIONS)
    return ("keywords:letter_frequency", {"letter": letter, "let_frequency": n, "let_relation": rel},
            f"In your response, the letter '{letter}' should appear {rel} {n} times.")


def _placeholders(r, p):
    n = r.randint(1, 4)
    return ("detectable_content:number_placeholders", {"num_placeholders": n},
            f"Include at least {n} placeholders in square brackets, such as [name].")


def _postscript(r, p):
    marker = r.choice(("P.S.", "P.P.S"))
    return ("detectable_content:postscript", {"postscript_marker": marker},
            f"At the end of your response, add a postscript starting with {marker}")


def _bullets(r, p):
    n = r.randint(2, 5)
    return ("detectable_format:number_bullet_lists", {"num_bullets": n},
            f"Your answer must contain exactly {n} markdown bullet points, each starting with '* '.")


def _highlights(r, p):
    n = r.randint(1, 3)
    return ("detectable_format:number_highlighted_sections", {"num_highlights": n},
            f"Highlight at least {n} sections of your answer with markdown, as in *highlighted section*.")


def _sections(r, p):
    n, splitter = r.randint(2, 4), r.choice(("SECTION", "PARAGRAPH"))
    return ("detectable_format:multiple_sections", {"section_spliter": splitter, "num_sections": n},
            f"Your response must have {n} sections; begin each one with {splitter} X, X being its number.")


def _json(r, p):
    return "detectable_format:json_format", {}, "Your entire output must be valid JSON (markdown ``` fences allowed)."


def _title(r, p):
    return "detectable_format:title", {}, "Give your answer a title wrapped in double angular brackets, like <<title>>."


def _two_responses(r, p):
    return ("combination:two_responses", {},
            "Give two different responses, separated by six asterisks ****** and nothing else between them.")


def _repeat(r, p):
    return ("combination:repeat_prompt", {"prompt_to_repeat": p},
            "First repeat the request above word for word without change, then give your answer "
            "(do not say anything before repeating it; this sentence is not part of the request).")


def _end(r, p):
    phrase = r.choice(END_PHRASES)
    return ("startend:end_checker", {"end_phrase": phrase},
            f'Finish your response with the exact phrase "{phrase}" and no other words after it.')


def _constrained(r, p):
    return ("detectable_format:constrained_response", {},
            'Your answer must contain one of these exact phrases: "My answer is yes.", "My answer is no.", '
            '"My answer is maybe."')


def _quotation(r, p):
    return "startend:quotation", {}, "Wrap your entire response in double quotation marks."


# Combinable constraints (group names: at most one per group); the rest are drawn alone.
COMBINABLE: dict[Callable, str] = {
    _no_comma: "comma", _capital_words: "case", _words: "length", _sentences: "length", _keywords: "kw",
    _keyword_frequency: "kw", _forbidden: "forbid", _letter: "letter", _placeholders: "placeholder",
    _postscript: "end", _end: "end", _highlights: "highlight", _title: "title",
}
ALONE = (_lowercase, _capital, _language, _paragraphs, _nth_paragraph, _bullets, _sections, _json, _two_responses, _repeat,
         _quotation, _constrained)


def _named_words(c: Constraint) -> set[str]:
    kw = c[1]
    return set(kw.get("keywords", [])) | set(kw.get("forbidden_words", [])) | {kw.get("keyword")} - {None}


def sample_constraints(rng: random.Random, prompt: str, max_per_prompt: int = 2) -> list[Constraint]:
    """One constraint, or two from different groups of :data:`COMBINABLE` that can hold at once."""
    first = rng.choice(list(COMBINABLE) + list(ALONE))
    chosen = [first(rng, prompt)]
    if first in COMBINABLE and max_per_prompt > 1 and rng.random() < 0.5:
        extra_fn = rng.choice([f for f in COMBINABLE if COMBINABLE[f] != COMBINABLE[first]])
        extra = extra_fn(rng, prompt)
        if not _named_words(extra) & _named_words(chosen[0]):  # never require and forbid one word
            chosen.append(extra)
    return chosen


def ifeval_row(prompt: str, constraints: list[Constraint]) -> dict:
    text = prompt.strip() + "\n\n" + " ".join(c[2] for c in constraints)
    truth = {"instruction_id_list": [c[0] for c in constraints], "kwargs": [c[1] for c in constraints]}
    return {"messages": [{"role": "user", "content": text}], "ground_truth": truth, "verifier": "ifeval"}


def alpaca_prompt(row: dict) -> str:
    """The prompt of an Alpaca-shaped row: instruction, a blank line, input (if any)."""
    if not isinstance(row.get("instruction"), str) or not row["instruction"].strip():
        raise BadRow("an IF row needs an Alpaca 'instruction' (and optional 'input')")
    inp = str(row.get("input") or "").strip()
    return row["instruction"].strip() + (f"\n\n{inp}" if inp else "")


def alpaca_ifeval_row(row: dict, seed: int = 0) -> dict:
    """Recipe format ``ifeval``: an Alpaca-shaped row + constraints drawn by an RNG seeded with the
    recipe seed and the prompt's own text (the same row gets the same constraints in every run)."""
    import hashlib  # noqa: PLC0415

    prompt = alpaca_prompt(row)
    digest = int.from_bytes(hashlib.sha256(f"{seed}\0{prompt}".encode()).digest()[:8], "big")
    rng = random.Random(digest)
    return ifeval_row(prompt, sample_constraints(rng, prompt))


def base_prompts(data_dir: Path) -> list[str]:
    """Training prompts for constraints: Code Alpaca instructions and Alpaca seed tasks."""
    prompts = [alpaca_prompt(row) for row in read_file(data_dir / SOURCES["codealpaca"])]
    for row in read_file(data_dir / SOURCES["alpaca_seed"]):
        inp = str((row.get("instances") or [{}])[0].get("input") or "").strip()
        prompts.append(row["instruction"].strip() + (f"\n\n{inp}" if inp else ""))
    test = data_dir / IFEVAL_TEST
    if test.is_file():
        banned = {" ".join(r["prompt"].split()).lower() for r in read_file(test)}
        prompts = [p for p in prompts if " ".join(p.split()).lower() not in banned]
    return prompts


def build(data_dir: Path, gsm8k: int = 0, math: int = 0, ifeval: int = 0, seed: int = 0) -> tuple[list[dict], dict]:
    """The mixed rows (shuffled) and counts per verifier; -1 takes every row of a source."""
    rng = random.Random(seed)
    out: list[dict] = []
    for count, source, convert in ((gsm8k, "gsm8k", gsm8k_row), (math, "math", math_row)):
        if not count:
            continue
        rows = read_file(data_dir / SOURCES[source])
        rng.shuffle(rows)
        made = []
        for row in rows:
            if 0 <= count <= len(made):
                break
            try:
                made.append(convert(row))
            except SkipRow:
                continue
        out += made
    if ifeval:
        prompts = base_prompts(data_dir)
        rng.shuffle(prompts)
        n = len(prompts) if ifeval < 0 else ifeval
        out += [ifeval_row(p, sample_constraints(rng, p)) for p in (prompts * (n // len(prompts) + 1))[:n]]
    rng.shuffle(out)
    counts: dict[str, int] = {}
    for row in out:
        counts[row["verifier"]] = counts.get(row["verifier"], 0) + 1
    return out, counts


def write_jsonl(rows: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(path)
