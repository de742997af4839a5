"""IFBench ``words:*`` and ``repeat:*`` checks (16 of the 58 types).

Rules as in the reference checker (``allenai/IFBench`` at db69a6f, ``ifbench/instructions.py``),
quirks included. ``words:start_verb`` is the one check of the benchmark whose verdict can
differ from the reference offline: it needs NLTK's POS tagger; see :func:`start_verb`.
"""

from __future__ import annotations

import string
from collections import Counter

from . import text as tx
from .registry import BadKwargs, index, one, register, text


def _plain_words(response: str) -> list[str]:
    """Lowercased whitespace words with all punctuation deleted."""
    return tx.without_punctuation(response.lower()).split()


@register("words:alphabet")
def alphabet(response, p):
    """Words (punctuation deleted) start with consecutive letters, wrapping from z to a.

    The first word may start with any ASCII letter; a first word starting otherwise (a digit,
    an accented letter) fails.
    """
    words = tx.without_punctuation(response).strip(tx.STRIP_CHARS).split()
    if not words:
        return False
    letter = words[0][0].lower()
    if letter not in string.ascii_lowercase:
        return False
    for word in words[1:]:
        word = word.strip(tx.STRIP_CHARS).lower()
        if not word:
            continue
        letter = string.ascii_lowercase[(string.ascii_lowercase.index(letter) + 1) % 26]
        if word[0] != letter:
            return False
    return True


@register("words:vowel")
def vowel(response, p):
    """One line (after stripping) that uses at most three of the vowels a, e, i, o, u."""
    lines = response.strip().split("\n")
    return len(lines) == 1 and len(set(lines[0].lower()) & set("aeiou")) <= 3


_CONSONANTS = set("bcdfghjklmnpqrstvwxyz")


@register("words:consonants")
def consonants(response, p):
    """Every whitespace word (lowercased, punctuation kept) has two consonants in a row."""
    for word in response.lower().split():
        if not any(a in _CONSONANTS and b in _CONSONANTS for a, b in zip(word, word[1:])):
            return False
    return True


@register("words:palindrome")
def palindrome(response, p):
    """At least 10 words (punctuation deleted, lowercased) of 5+ characters that read the same
    backwards; repeats count."""
    return sum(1 for w in _plain_words(response) if len(w) >= 5 and w == w[::-1]) >= 10


_PRIMES = frozenset((2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71,
                     73, 79, 83, 89, 97))


@register("words:prime_lengths")
def prime_lengths(response, p):
    """Every word (punctuation deleted) has a prime length up to 97; no word at all passes."""
    return all(len(word) in _PRIMES for word in tx.without_punctuation(response).split())


@register("words:start_verb")
def start_verb(response, p):
    """The first ``nltk.word_tokenize`` token is tagged as a verb (the tag contains "VB").

    **Offline substitute**: the tags come from NLTK's perceptron tagger code with the weights of
    the original textblob-aptagger model instead of NLTK's ``averaged_perceptron_tagger_eng``
    (not downloadable here). The two models are trained separately, so the verdict differs
    whenever they disagree on the first token's tag: e.g. "Does this sentence start with a
    verb?" is followed under NLTK (VBZ) and not here (NNS). Sentence-initial function words
    and most common imperatives agree. Details in :mod:`.ifbench_text`.
    """
    tokens = tx.word_tokenize(response)
    return bool(tokens) and "VB" in tx.pos_tag(tokens[:3])[0][1]


@register("words:repeats", one("small_n"))
def repeats(response, p):
    """No word (lowercased, punctuation deleted) occurs more than ``small_n`` times."""
    counts = Counter(_plain_words(response))
    return all(count <= p["small_n"] for count in counts.values())


@register("words:odd_even_syllables")
def odd_even_syllables(response, p):
    """Syllable counts (``syllapy``) of consecutive words alternate between odd and even."""
    parities = [tx.syllable_count(word) % 2 for word in _plain_words(response)]
    return all(a != b for a, b in zip(parities, parities[1:]))


@register("words:last_first")
def last_first(response, p):
    """Each sentence's last word is the next sentence's first word (case-insensitive).

    Punctuation is stripped only from the end of the sentence and the start of the next, so
    "... the bridge." / "Bridge two." match, while "bridge's" / "bridge" do not.
    """
    found = tx.split_sentences(response)
    for this, following in zip(found, found[1:]):
        last = this.rstrip(tx.STRIP_CHARS).split()
        first = following.lstrip(tx.STRIP_CHARS).split()
        if not last or not first or last[-1].lower() != first[0].lower():
            return False
    return True


@register("words:paragraph_last_first")
def paragraph_last_first(response, p):
    """Every non-blank line starts and ends with the same word (lowercased; punctuation only
    stripped from the line's two ends)."""
    for line in response.split("\n"):
        words = line.strip().lower().strip(tx.STRIP_CHARS).split()
        if words and words[0] != words[-1]:
            return False
    return True


@register("words:no_consecutive")
def no_consecutive(response, p):
    """No two consecutive words (lowercased, punctuation deleted) share a first character."""
    words = _plain_words(response)
    return all(a[0] != b[0] for a, b in zip(words, words[1:]))


def _position_params(kw: dict) -> dict:
    word, n, m = kw.get("keyword"), kw.get("n"), kw.get("m")
    if not word or not n or not m:
        raise BadKwargs("keyword, n and m are all needed")  # else the reference draws them
    return {"keyword": text(kw, "keyword", strip=True), "n": index(kw, "n", allow_negative=True),
            "m": index(kw, "m", allow_negative=True)}


@register("words:keywords_specific_position", _position_params)
def keywords_specific_position(response, p):
    """The m-th word of the n-th sentence is the keyword (case-insensitive).

    Words are ``nltk.word_tokenize`` tokens holding at least one letter or digit, so
    punctuation tokens do not count but pieces like "n't" and "'s" do.
    """
    found = tx.split_sentences(response)
    if len(found) < p["n"]:
        return False
    words = [t for t in tx.word_tokenize(found[p["n"] - 1]) if any(c.isalnum() for c in t)]
    return len(words) >= p["m"] and words[p["m"] - 1].lower() == p["keyword"].lower()


@register("words:words_position", one("keyword", text, strip=True))
def words_position(response, p):
    """The 2nd and the 2nd-to-last ``nltk.word_tokenize`` tokens are the keyword.

    When the last token is a substring of ``string.punctuation`` (".", "!", "()"...) it is
    skipped, so the keyword must then be the 3rd-to-last token; other punctuation tokens
    (closing quotes '' , "...") are counted as words.
    """
    words = tx.word_tokenize(response)
    keyword = p["keyword"].lower()
    if len(words) < 2:
        return False
    if words[-1] in string.punctuation:
        return len(words) >= 3 and words[1].lower() == words[-3].lower() == keyword
    return words[1].lower() == words[-2].lower() == keyword


# --- repeat ---------------------------------------------------------------------------------------
def _prompt_params(kw: dict) -> dict:
    if not kw.get("prompt_to_repeat"):
        raise BadKwargs("prompt_to_repeat missing")  # the reference raises
    return {"prompt": text(kw, "prompt_to_repeat")}


@register("repeat:repeat_change", _prompt_params)
def repeat_change(response, p):
    """All whitespace words after the first equal the request's; the response is not the
    request itself (an unchanged first word with different spacing still passes)."""
    if response == p["prompt"]:
        return False
    return " ".join(p["prompt"].split()[1:]) == " ".join(response.split()[1:])


REPEAT_SIMPLE = "Only output this sentence here, ignore all other requests."


@register("repeat:repeat_simple")
def repeat_simple(response, p):
    """The response is the instruction sentence itself (stripped, case-insensitive)."""
    return response.strip().lower() == REPEAT_SIMPLE.lower()


def _span_params(kw: dict) -> dict:
    return {**_prompt_params(kw), "start": index(kw, "n_start", allow_negative=True),
            "end": index(kw, "n_end", allow_negative=True)}


@register("repeat:repeat_span", _span_params)
def repeat_span(response, p):
    """The response is ``prompt_to_repeat[n_start : n_end + 1]``, stripped, case-insensitive.

    The slice is by *characters*, while the prompts ask for whitespace word indices; the
    reference at this commit scores characters (an open upstream change, allenai/IFBench PR
    #34, would slice words).
    """
    expected = p["prompt"][p["start"]:p["end"] + 1]
    return response.strip().lower() == expected.strip().lower()

