"""IFBench ``format:*`` checks (14 of the 58 types).

Rules as in the reference checker (``allenai/IFBench`` at db69a6f, ``ifbench/instructions.py``),
quirks included; several are far looser or stricter than their prompt, and each docstring says
how. ``format:emoji`` uses the reference's own ``emoji`` package; ``format:title_case`` and
``format:no_bullets_bullets`` use NLTK's tokenizers, for which :mod:`.ifbench_text` has exact
offline equivalents.
"""

from __future__ import annotations

import re
import string

from . import text as tx
from .registry import one, register, text


@register("format:emoji")
def emoji_ends(response, p):
    """Every sentence ends with an emoji, or the next sentence starts with one.

    Per sentence, punctuation is deleted and the ends stripped; the last or second-to-last
    character must be an emoji (``emoji.is_emoji``), else the first character of the next
    sentence (likewise cleaned); a sentence left empty fails.
    """
    found = tx.split_sentences(response)
    cleaned = [tx.without_punctuation(s).strip() for s in found]
    for i, sentence in enumerate(cleaned):
        if not sentence:
            return False
        if tx.is_emoji(sentence[-1]) or tx.is_emoji(sentence[-2] if len(sentence) > 1 else sentence[-1]):
            continue
        if i == len(cleaned) - 1 or not cleaned[i + 1] or not tx.is_emoji(cleaned[i + 1][0]):
            return False
    return True


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


@register("format:line_indent")
def line_indent(response, p):
    """Each line is indented by more spaces than the line before.

    Blank lines are meant to be skipped, but the reference removes them from the list it is
    iterating over, which skips the line after each removal; so some blank lines stay (with
    indent = their spaces) and usually break the stairs. That behaviour is reproduced.
    """
    lines = response.split("\n")
    position = 0
    while position < len(lines):  # the reference's for-loop, with its own running index
        line = lines[position]
        if not line.strip():
            lines.remove(line)  # the first equal line, as list.remove does
        position += 1
    return all(_indent(after) > _indent(before) for before, after in zip(lines, lines[1:]))


@register("format:list", one("sep", text))
def special_list(response, p):
    """The separator occurs at least twice anywhere (not necessarily at line starts)."""
    return response.count(p["sep"]) >= 2


@register("format:newline")
def newline(response, p):
    """As many lines as words, with punctuation deleted first.

    Only empty lines are discarded: a line of spaces counts as a line (with no word).
    """
    plain = tx.without_punctuation(response).strip()
    lines = [line for line in plain.split("\n") if line != ""]
    return len(lines) == len(plain.split())


@register("format:no_bullets_bullets")
def no_bullets_bullets(response, p):
    """Prose lines holding at least two Punkt sentences, then at least two ``*`` lines, and
    nothing after the bullets.

    Quirk kept: the reference stores each prose line's sentence list in its "still in prose"
    flag, so a blank prose line (no sentences) ends the prose part, and any later non-bullet
    line fails.
    """
    in_prose, sentence_total, bullets = True, 0, 0
    for line in response.split("\n"):
        if line.strip().startswith("*"):
            in_prose = False
            if sentence_total < 2:
                return False
            bullets += 1
        elif in_prose:
            found = tx.split_sentences(line.strip())
            sentence_total += len(found)
            in_prose = bool(found)
        else:
            return False
    return bullets >= 2


@register("format:no_whitespace")
def no_whitespace(response, p):
    return not any(char.isspace() for char in response)


def _options_params(kw: dict) -> dict:
    options = text(kw, "options")
    strict = re.match(r"\W*[aA]\W*[bB]\W*[cC]\W*", options) is not None
    separator = "/" if "/" in options else "or" if "or" in options else ","
    return {"strict": strict, "options": [o.strip() for o in options.split(separator)]}


@register("format:options", _options_params)
def options(response, p):
    """The response is one of the options.

    Options are split on "/", else on the substring "or", else on ",". Letter options
    ("a), b), c), d)") must be matched exactly, unstripped ("a)" but not "a" or " a)"); other
    options ignore case and surrounding punctuation and spaces.
    """
    if p["strict"]:
        return response in p["options"]
    answer = response.strip(tx.STRIP_CHARS).lower()
    return any(option.strip(tx.STRIP_CHARS).lower() == answer for option in p["options"])


@register("format:output_template")
def output_template(response, p):
    """The three labels "My Answer:", "My Conclusion:", "Future Outlook:" appear, anywhere."""
    return all(label in response for label in ("My Answer:", "My Conclusion:", "Future Outlook:"))


_CLOSING = {")": "(", "]": "[", "}": "{"}


@register("format:parentheses")
def parentheses(response, p):
    """A bracket pair closes while 5+ brackets of any kind were open at once.

    A mismatched or unopened closer resets the count, so the depth must be built again.
    """
    stack, deepest = [], 0
    for char in response:
        if char in "([{":
            stack.append(char)
            deepest = max(deepest, len(stack))
        elif char in _CLOSING:
            if stack and stack[-1] == _CLOSING[char]:
                stack.pop()
                if deepest >= 5:  # closing always leaves fewer open than the deepest
                    return True
            else:
                stack, deepest = [], 0
    return False


@register("format:quotes")
def quotes(response, p):
    """Quotes (``"`` and ``'``) nest three deep: a quote closes the innermost open one if it is
    the same character, else opens a new level; passes once three levels have closed below the
    deepest point. Apostrophes count as single quotes."""
    stack, depth, deepest = [], 0, 0
    for char in response:
        if stack and char == stack[-1]:
            stack.pop()
            depth -= 1
            if deepest - depth >= 3:
                return True
        elif char in "\"'":
            stack.append(char)
            depth += 1
            deepest = max(deepest, depth)
    return False


@register("format:quote_unquote")
def quote_unquote(response, p):
    """No two double quotes touch once all whitespace is gone, and the text does not end with a
    double quote (ignoring trailing digits and other punctuation). Only ASCII ``"`` counts; the
    literal ``'"'`` is ignored. A response without quotes passes."""
    compact = "".join(response.replace("'\"'", "").split())
    if '""' in compact:
        return False
    core = compact.strip(string.digits + string.punctuation.replace('"', ""))
    return not (core and core[-1] == '"')


@register("format:sub-bullets")
def sub_bullets(response, p):
    """Every piece after a ``*`` (split on every ``*``, anywhere) contains a ``-``.

    A response without any ``*`` passes, and bold ``**text**`` needs a ``-`` between and after
    its stars.
    """
    return all("-" in piece for piece in response.split("*")[1:])


@register("format:thesis")
def thesis(response, p):
    """An ``<i>`` (else ``<em>``) element with non-blank text, and some text after its end tag.

    As in the reference, the text after ``</em>`` is taken from 4 characters past the tag's
    start (so it begins with ">"), and ``<em>`` content is read from 3 characters in (so it
    includes ">"): with ``<em>`` the check almost always passes once the tags exist.
    """
    start = response.find("<i>")
    if start == -1:
        start = response.find("<em>")
        if start == -1:
            return False
    rest = response[start:]
    end = rest.find("</i>")
    if end == -1:
        end = rest.find("</em>")
        if end == -1:
            return False
    return rest[3:end].strip() != "" and rest[end + 4:].strip() != ""


@register("format:title_case")
def title_case(response, p):
    """No ``nltk.word_tokenize`` token starting with a letter is lowercase-initial.

    One-letter tokens must be uppercase. Longer tokens fail only when their first letter is
    lowercase and the rest is all lowercase or all uppercase, so "iPhone" and "eBay" pass, and
    so do all-caps words.
    """
    for word in tx.word_tokenize(response):
        if not word or not word[0].isalpha():
            continue
        if len(word) == 1:
            if word.islower():
                return False
            continue
        if word[0].isupper() and word[1:].islower():
            continue
        if word[0].islower() and (word[1:].isupper() or word[1:].islower()):
            return False
    return True
