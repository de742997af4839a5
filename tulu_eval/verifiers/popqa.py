"""PopQA: does the response name the answer entity (any of its aliases)?

Ground truth is the list of accepted answers (PopQA's ``possible_answers``: every object of
the relation with its Wikidata aliases; our data's ``golden_answers``), or one string (the
value itself, never JSON text of it: one gold encoding, see ``tulu_eval/api/verifier.py``).

* ``exact_match`` (the score; PopQA's ``run_model.py`` rule, which OLMES ``popqa`` keeps): 1
  if some answer ``a`` occurs in the response as a substring as ``a``, ``a.lower()`` or
  ``a.capitalize()``. The check is case-sensitive otherwise (a response "PARIS" does not
  match "Paris"), and an answer inside a longer word counts ("Paris" in "Parisian"). Empty
  answers are ignored.
* ``exact_match_first_line``: the same on the response's first line only (after a leading
  blank line is dropped), which is how the PopQA paper cut its 15-token generations; OLMES
  scores the whole generation, which its stop sequence ("\\n\\n") already shortens.
"""

from __future__ import annotations

from typing import Any

from ..api.verifier import Verifier, VerifierResult


def answers_of(ground_truth: Any) -> list[str]:
    if isinstance(ground_truth, str):  # one answer; a list holds several (never JSON text, see api/verifier.py)
        ground_truth = [ground_truth]
    return [str(a) for a in ground_truth if str(a)]


def matched_answer(response: str, answers: list[str]) -> str | None:
    for a in answers:
        if a in response or a.lower() in response or a.capitalize() in response:
            return a
    return None


def first_line(response: str) -> str:
    return (response[2:] if response.startswith("\n\n") else response).split("\n")[0]


class PopQAVerifier(Verifier):
    name = "popqa"

    def _verify(self, response: str, ground_truth: Any) -> VerifierResult:
        answers = answers_of(ground_truth)
        hit = matched_answer(response, answers)
        em = float(hit is not None)
        return VerifierResult(em, {
            "extracted": hit,
            "exact_match": em,
            "exact_match_first_line": float(matched_answer(first_line(response), answers) is not None),
        })
