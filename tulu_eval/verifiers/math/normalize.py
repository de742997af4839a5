"""MATH answer extraction and string normalization (pure string functions, no sympy).

* Minerva (Lewkowycz et al. 2022, appendix D) as lm-eval 0.4.13 ``minerva_math`` implements it:
  the "Final Answer: The final answer is X. I hope it is correct." phrase, the last ``\\boxed{}``,
  and ``normalize_final_answer`` (drop units and filler words, unwrap ``$``/``\\text``/``\\boxed``,
  spell out ``\\frac12``/``\\sqrt2``, drop thousands separators). lm-eval's copy fixes two flaws
  of the original (unit words cut out of LaTeX commands, "\\left" -> "\\le"; tuples "0,1" fused into
  "01"); OLMES imported the same functions from the lm-eval it pinned, which predates the fixes.
* Hendrycks et al.'s ``strip_string`` (lm-eval ``hendrycks_math``), the string normalization
  behind the second equivalence test of OLMES's flex match.
* ``candidates``: OLMES ``minerva_math`` ``extract_answers``: the Minerva phrase, then the last
  ``\\boxed{}``; if neither, the last ``$...$`` span; if none, the whole response; all normalized.
"""

from __future__ import annotations

import re

INVALID = "[invalidanswer]"

# (old, new) replacements of appendix D, in order
_SUBSTITUTIONS = (
    ("an ", ""), ("a ", ""), (".$", "$"), ("\\$", ""), ("\\ ", ""), (" ", ""), ("mbox", "text"),
    (",\\text{and}", ","), ("\\text{and}", ","), ("\\text{m}", "\\text{}"),
)
# expressions deleted by appendix D, in order (words are units and filler)
_REMOVED = (
    "square", "ways", "integers", "dollars", "mph", "inches", "ft", "hours", "km", "units", "\\ldots", "sue",
    "points", "feet", "minutes", "digits", "cents", "degrees", "cm", "gm", "pounds", "meters", "meals", "edges",
    "students", "childrentickets", "multiples", "\\text{s}", "\\text{.}", "\\text{\ns}", "\\text{}^2",
    "\\text{}^3", "\\text{\n}", "\\text{}", "\\mathrm{th}", "^\\circ", "^{\\circ}", "\\;", ",\\!", "{,}", '"',
    "\\dots",
)
_COMMAND = re.compile(r"(\\[a-zA-Z]+)")
_UNWRAP = (
    (re.compile(r"(\\text\{)(.*?)(\})"), "\\2"),
    (re.compile(r"(\\textbf\{)(.*?)(\})"), "\\2"),
    (re.compile(r"(\\overline\{)(.*?)(\})"), "\\2"),
    (re.compile(r"(\\boxed\{)(.*)(\})"), "\\2"),
    (re.compile(r"(frac)([^{])(.)"), "frac{\\2}{\\3}"),
    (re.compile(r"(sqrt)(\[[^\]]*\])(\w)"), "\\1\\2{\\3}"),
    (re.compile(r"(sqrt)(?!\[)([^{])"), "sqrt{\\2}"),
)
_THOUSANDS = re.compile(r"-?\d{1,3}(,\d{3})+")
_FINAL_ANSWER = re.compile(r"Final Answer: The final answer is(.*?). I hope it is correct.")


def _drop_outside_commands(text: str, word: str) -> str:
    pieces = _COMMAND.split(text)  # odd pieces are LaTeX command names, left alone
    return "".join(p if i % 2 else p.replace(word, "") for i, p in enumerate(pieces))


def _first_math_span(text: str) -> str:
    r"""Each line holding two ``$`` becomes ``$`` + its first ``$...$`` content + ``$``.

    What appendix D's ``re.sub(r"(.*?)(\$)(.*?)(\$)(.*)", "$\3$", text)`` does, in linear time
    (``.`` stops at newlines, so every match is one line; the regex is quadratic on long lines).
    """
    return "\n".join(f"${line.split('$')[1]}$" if line.count("$") >= 2 else line for line in text.split("\n"))


def normalize_final_answer(answer: str) -> str:
    """Minerva's normalization of a final answer (lm-eval 0.4.13 ``normalize_final_answer``)."""
    answer = answer.split("=")[-1]
    for expr in _REMOVED:  # whole unit words first, while spaces still delimit them
        if expr.isalpha():
            answer = re.sub(rf"(?<!\\)\b{expr}\b", "", answer)
    for old, new in _SUBSTITUTIONS:
        answer = answer.replace(old, new)
    for expr in _REMOVED:
        answer = _drop_outside_commands(answer, expr) if expr.isalpha() else answer.replace(expr, "")
    answer = _first_math_span(answer)
    for pattern, repl in _UNWRAP:
        answer = pattern.sub(repl, answer)
    answer = answer.replace("$", "")
    if _THOUSANDS.fullmatch(answer):
        answer = answer.replace(",", "")
    return answer


def minerva_answer(text: str) -> str:
    """The X of "Final Answer: The final answer is X. I hope it is correct.", else ``[invalidanswer]``.

    As in Minerva, the closing sentence may be cut off (a response that stops after X counts).
    """
    match = _FINAL_ANSWER.search(text + "I hope it is correct.")
    return match.group(1).strip() if match else INVALID


def last_boxed_only_string(text: str) -> str | None:
    """The last ``\\boxed{...}`` (or ``\\boxed x``, or ``\\fbox{...}``) with its braces balanced."""
    if "\\boxed " in text:
        return "\\boxed " + text.split("\\boxed ")[-1].split("$")[0]
    start = text.rfind("\\boxed")
    if start < 0:
        start = text.rfind("\\fbox")
        if start < 0:
            return None
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start: i + 1]
    return None


def remove_boxed(boxed: str) -> str | None:
    """The content of ``\\boxed{...}`` / ``\\boxed x``; None when it is not one (e.g. ``\\fbox``)."""
    if "\\boxed " in boxed:
        return boxed[len("\\boxed "):] if boxed.startswith("\\boxed ") else None
    if boxed.startswith("\\boxed{") and boxed.endswith("}"):
        return boxed[len("\\boxed{"):-1]
    return None


def boxed_content(text: str) -> str | None:
    boxed = last_boxed_only_string(text)
    return remove_boxed(boxed) if boxed is not None else None


def boxed_answer(solution: str) -> str | None:
    """The gold answer of a MATH solution: the content of its last ``\\boxed{}`` ("" when it has none)."""
    boxed = last_boxed_only_string(solution)
    return remove_boxed(boxed) if boxed else ""


def candidates(response: str) -> list[str]:
    """OLMES's candidate answers, most trusted first (all Minerva-normalized)."""
    found = []
    phrase = normalize_final_answer(minerva_answer(response))
    if phrase != INVALID:
        found.append(phrase)
    boxed = boxed_content(response)
    if boxed is not None:
        found.append(normalize_final_answer(boxed))
    if not found:
        dollars = [i for i, ch in enumerate(response) if ch == "$"]
        if len(dollars) > 1:
            found.append(normalize_final_answer(response[dollars[-2] + 1: dollars[-1]]))
    if not found:
        found.append(normalize_final_answer(response))
    return found


# --- Hendrycks et al. strip_string -------------------------------------------------------
# Its helpers raise on some inputs (an assert in the unit remover, int() of a non-number, an
# empty \sqrt); ``hendrycks_equiv`` then falls back to comparing the raw strings, as lm-eval does.

def _fix_fracs(s: str) -> str:
    head, *rest = s.split("\\frac")
    out = head
    for part in rest:
        out += "\\frac"
        if part[0] == "{":
            out += part
            continue
        if len(part) < 2:
            return s
        a, b, tail = part[0], part[1], part[2:]
        out += "{" + a + "}{" + b + "}" + tail if b != "{" else "{" + a + "}" + b + tail
    return out


def _fix_a_slash_b(s: str) -> str:
    pieces = s.split("/")
    if len(pieces) != 2:
        return s
    a, b = int(pieces[0]), int(pieces[1])  # ValueError on non-integers, as in the original
    return "\\frac{" + str(a) + "}{" + str(b) + "}" if s == f"{a}/{b}" else s


def _remove_right_units(s: str) -> str:
    if "\\text{ " not in s:
        return s
    pieces = s.split("\\text{ ")
    if len(pieces) != 2:
        raise ValueError("more than one \\text{ unit")
    return pieces[0]


def _fix_sqrt(s: str) -> str:
    if "\\sqrt" not in s:
        return s
    head, *rest = s.split("\\sqrt")
    return head + "".join("\\sqrt" + p if p[0] == "{" else "\\sqrt{" + p[0] + "}" + p[1:] for p in rest)


def strip_string(s: str) -> str:
    """Hendrycks et al.'s answer normalization (lm-eval ``hendrycks_math`` ``strip_string``)."""
    for old, new in (("\n", ""), ("\\!", ""), ("\\\\", "\\"), ("tfrac", "frac"), ("dfrac", "frac"),
                     ("\\left", ""), ("\\right", ""), ("^{\\circ}", ""), ("^\\circ", ""), ("\\$", "")):
        s = s.replace(old, new)
    s = _remove_right_units(s)
    s = s.replace("\\%", "").replace(" .", " 0.").replace("{.", "{0.")
    if not s:
        return s
    if s[0] == ".":
        s = "0" + s
    sides = s.split("=")
    if len(sides) == 2 and len(sides[0]) <= 2:
        s = sides[1]
    s = _fix_fracs(_fix_sqrt(s).replace(" ", ""))
    if s == "0.5":
        s = "\\frac{1}{2}"
    return _fix_a_slash_b(s)


def hendrycks_equiv(a: str, b: str) -> bool:
    try:
        return strip_string(a) == strip_string(b)
    except Exception:  # the original's fallback when normalization breaks
        return a == b
