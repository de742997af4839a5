"""IFBench ``custom:*`` checks (11 of the 58 types): one fixed task each, no parameters.

Rules as in the reference checker (``allenai/IFBench`` at db69a6f, ``ifbench/instructions.py``),
quirks included. Only ``custom:word_reverse`` and ``custom:sentence_alphabet`` split sentences
(Punkt, exact offline equivalent in :mod:`.ifbench_text`).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata

from . import text as tx
from .registry import register


def _ascii_fold(value: str) -> str:
    """NFKD, then drop every non-ASCII character ("São Tomé" -> "Sao Tome")."""
    return unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")


@register("custom:multiples")
def multiples(response, p):
    """The digit runs of the response are exactly 14, 21, 28, 35, 42, 49, in order."""
    return re.findall(r"\d+", response.replace(",", ", ")) == ["14", "21", "28", "35", "42", "49"]


_QUESTION_LABEL = re.compile(r"Question \d+[\.|\):;]?\s*")
_OPTION_LINE = re.compile(r"^[A-Ea-e][\.|\)]\s*\w+")


@register("custom:mcq_count_length")
def mcq_count_length(response, p):
    """Starts with "Question", four "Question <n>" blocks of five "A." / "b)" options each,
    question texts (lines before the first option) strictly longer each time."""
    if response[response.find("Question"):] != response:
        return False  # text before the first question (or no question at all)
    # The reference splits on r"\n*(?:Question \d+[\.|\):;]?\s*)", which backtracks through
    # every run of newlines (quadratic); the leading \n* only moves newlines out of pieces that
    # are stripped or dropped below, and the response starts with "Question", so it can go.
    blocks = _QUESTION_LABEL.split(response)
    if blocks[0] == "":
        blocks = blocks[1:]
    blocks = [b.strip() for b in blocks if b.strip()]
    if len(blocks) != 4:
        return False
    lengths = []
    for block in blocks:
        question, options, in_options = "", 0, False
        for line in block.split("\n"):
            if _OPTION_LINE.match(line.strip()):
                options += 1
                in_options = True
            elif not in_options:
                question += " " + line.strip()
        if options != 5:
            return False
        lengths.append(len(question.strip()))
    return all(a < b for a, b in zip(lengths, lengths[1:]))


@register("custom:reverse_newline")
def reverse_newline(response, p):
    """From the first line mentioning "Zimbabwe" on, at least 52 non-blank lines in reverse
    alphabetical order (lines stripped of punctuation and spaces, accents folded to ASCII)."""
    lines = [line.strip(tx.STRIP_CHARS) for line in response.split("\n")]
    lines = [line for line in lines if line]
    start = next((i for i, line in enumerate(lines) if "Zimbabwe" in line), None)
    if start is None or len(lines) - start < 52:
        return False
    folded = [_ascii_fold(line) for line in lines[start:]]
    return folded == sorted(folded, reverse=True)


@register("custom:word_reverse")
def word_reverse(response, p):
    """Read backwards word by word (lowercased, punctuation deleted), the answer contains "bald
    eagle" and is a single Punkt sentence."""
    words = tx.without_punctuation(response.lower().strip()).split()
    forward = " ".join(reversed(words))
    return "bald eagle" in forward and forward in tx.split_sentences(forward)


@register("custom:character_reverse")
def character_reverse(response, p):
    """ "elgae dlab" (bald eagle reversed) appears, case-insensitive."""
    return "elgae dlab" in response.lower()


@register("custom:sentence_alphabet")
def sentence_alphabet(response, p):
    """Exactly 26 Punkt sentences whose first whitespace words start with a, b, ... z.

    The first character counts as it is, so a sentence opening with a quote or a "*" fails (an
    open upstream change, allenai/IFBench PR #34, would skip leading punctuation).
    """
    found = tx.split_sentences(response)
    if len(found) != 26:
        return False
    for letter, sentence in zip("abcdefghijklmnopqrstuvwxyz", found):
        words = sentence.lstrip().split()
        if not words or words[0].lower()[0] != letter:
            return False
    return True


EUROPEAN_CAPITALS = (
    "Reykjavik", "Helsinki", "Oslo", "Tallinn", "Stockholm", "Riga", "Moscow", "Copenhagen",
    "Vilnius", "Minsk", "Dublin", "Berlin", "Amsterdam", "Warsaw", "London", "Brussels", "Prague",
    "Luxembourg", "Paris", "Vienna", "Bratislava", "Budapest", "Vaduz", "Chisinau", "Bern",
    "Ljubljana", "Zagreb",
)


@register("custom:european_capitals_sort")
def european_capitals_sort(response, p):
    """Exactly the 27 capitals, comma-separated, in the reference's order (accents folded,
    blank items ignored, nothing else in the response)."""
    items = [item.strip() for item in _ascii_fold(response).split(",") if item.strip()]
    return items == list(EUROPEAN_CAPITALS)


def _rows(value: str, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(value), delimiter=delimiter))


@register("custom:csv_city")
def csv_city(response, p):
    """CSV (comma) of exactly 8 rows: the header ID,Country,City,Year,Count, then 7 rows of 5
    fields. Nothing else may be in the response, not even a blank line."""
    rows = _rows(response)
    return (len(rows) == 8 and rows[0] == ["ID", "Country", "City", "Year", "Count"]
            and all(len(row) == 5 for row in rows[1:]))


_PRODUCT_HEADER = re.compile(
    r'^(ProductID|"ProductID"),[ \t]*(Category|"Category"),[ \t]*(Brand|"Brand"),'
    r'[ \t]*(Price|"Price"),[ \t]*(Stock|"Stock")$')
_SPECIAL = re.compile(r"[^\d\w\s]")


def _quoted_special(field: str) -> bool:
    """Whether ``re.match(r'".*[^\\d\\w\\s].*"', field)`` matches, in linear time.

    ``.`` stops at a newline, so the match lies in the first line: it opens with a quote, and a
    character that is no letter, digit, underscore or space (a quote included) stands before
    the line's last quote.
    """
    line = field.split("\n", 1)[0]
    last = line.rfind('"')
    return line.startswith('"') and last > 1 and _SPECIAL.search(line, 1, last) is not None


@register("custom:csv_special_character")
def csv_special_character(response, p):
    """Product header on the first line, 15 CSV rows of 5 fields, and a field that is a double-
    quoted value holding a character other than letters, digits and spaces.

    As in the reference, every ``"`` is tripled before parsing so that quotes stay in the
    fields; the row-length check stops at the first row holding such a field.
    """
    if not _PRODUCT_HEADER.match(response.split("\n")[0].strip()):
        return False
    rows = _rows(response.replace('"', '"""'))
    if len(rows) != 15:
        return False
    for row in rows[1:]:
        if len(row) != 5:
            return False
        if any(_quoted_special(field) for field in row):
            return True
    return False


_STUDENT_HEADER = re.compile(
    r'^(StudentID|"StudentID")\t *(Subject|"Subject")\t *(Grade|"Grade")\t *'
    r'(Semester|"Semester")\t *(Score|"Score")$')


@register("custom:csv_quotes")
def csv_quotes(response, p):
    """Student header (tab-separated) on the first line, 4 tab-separated rows of 5 fields, every
    field (header included) wrapped in double quotes.

    An empty field makes the reference raise (IndexError); here that instruction counts as not
    followed, with the error in the verifier's details.
    """
    if not _STUDENT_HEADER.match(response.split("\n")[0].strip()):
        return False
    rows = _rows(response.replace('"', '"""'), delimiter="\t")
    if len(rows) != 4:
        return False
    for row in rows:
        if len(row) != 5:
            return False
        if not all(field.strip()[0] == '"' and field.strip()[-1] == '"' for field in row):
            return False
    return True


_MONTH_DAYS = {1: 31, 3: 31, 5: 31, 7: 31, 8: 31, 10: 31, 12: 31, 4: 30, 6: 30, 9: 30, 11: 30, 2: 29}


@register("custom:date_format_list")
def date_format_list(response, p):
    """Comma-separated YYYY-MM-DD dates only, years 1769-1821, months up to 12, days up to the
    month's length (29 for February). Month 00 and day 00 pass, as in the reference."""
    for item in response.strip().split(","):
        item = item.strip()
        if not re.match(r"^\d{4}-\d{2}-\d{2}$", item):
            return False
        year, month, day = (int(part) for part in item.split("-"))
        if not 1769 <= year <= 1821 or month > 12 or day > _MONTH_DAYS.get(month, 99):
            return False
    return True
