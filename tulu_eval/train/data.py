"""Training data: read a file, convert its rows to the shape a TRL trainer takes, check columns.

Formats (``data.format`` of a recipe), each row checked before any model is loaded:

* ``messages``: ``{"messages": [{"role", "content"}, ...]}`` (open-instruct / Tülu SFT mixes).
* ``alpaca``: ``{"instruction", "input", "output"}`` -> user "instruction\\n\\ninput", assistant output.
* ``hh_rlhf``: ``{"chosen", "rejected"}`` dialogues in ``\\n\\nHuman: ... \\n\\nAssistant: ...`` text;
  the prompt is the turns before the last ``Assistant:``, which both sides must share.
* ``preference``: ``{"chosen": [messages], "rejected": [messages]}`` full conversations (Tülu 3
  preference mixes), or with an explicit ``prompt`` list of messages.
* ``rlvr``: ``{"messages", "ground_truth", "verifier"}`` (open-instruct's RLVR rows, ``verifier``
  being its ``dataset`` column); ``gsm8k`` and ``math``: the train files of those benchmarks,
  turned into RLVR rows on the fly by :mod:`.rlvr_data`; ``ifeval``: Alpaca-shaped rows (Code Alpaca)
  with IFEval-style constraints appended, drawn per row from the recipe seed and the row's text,
  verifier ``ifeval``.

SFT rows become TRL's conversational prompt-completion rows, one per assistant turn (the turns
before it are the prompt), so the loss falls on assistant tokens only with any chat template,
including templates without ``{% generation %}`` markers such as SmolLM2's. DPO rows become
``{"prompt", "chosen", "rejected"}`` with message lists; RLVR rows ``{"prompt", "ground_truth",
"verifier"}``: ``verifier`` a key of the verifier table (the eval task's own object), ``ground_truth``
in the file the eval's gold *value* (a string, list or object), in the dataset JSON text of it
(``encode_gold``: one Arrow type for all), decoded once by the reward.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path
from typing import Any, Callable

from ..data.files import resolve_data_dir
from ..errors import UserError
from ..api.verifier import encode_gold
from .recipe import DataSpec
from .rows import SkipRow, read_file

ROLES = ("system", "user", "assistant")
_HH_TURN = re.compile(r"\n\n(Human|Assistant): ")


def locate(path: str, data_dir: str | None = None) -> Path:
    """A data file as given (absolute or from the working folder), else under the data folder."""
    given = Path(path).expanduser()
    if given.is_file():
        return given
    ddir = resolve_data_dir(data_dir)
    if ddir is not None and (ddir / path).is_file():
        return ddir / path
    where = f"nor under the data folder {ddir}" if ddir else "and no data folder is set (--data-dir or $TULU_EVAL_DATA)"
    raise UserError(f"data file {path} not found, {where}")


def load(spec: DataSpec, kind: str, data_dir: str | None = None) -> tuple[list[dict], dict]:
    """Converted rows for trainer ``kind`` and a summary (file, counts); UserError on bad rows."""
    path = locate(spec.path, data_dir)
    rows = read_file(path)
    if not rows:
        raise UserError(f"{path}: no rows")
    order = list(range(len(rows)))
    random.Random(spec.seed).shuffle(order)
    convert = _converter(spec.format, kind, path, spec.seed)
    keep = read_keep(spec.keep) if spec.keep else None
    out, skipped, not_kept = [], 0, 0
    for i in order:
        if spec.limit is not None and len(out) >= spec.limit:
            break
        try:
            converted = convert(rows[i])
        except SkipRow:
            skipped += 1
            continue
        except _Bad as exc:
            raise UserError(f"{path}: row {i + 1}: {exc}") from None
        if keep is not None:
            kept = [r for r in converted if row_key(r) in keep]
            not_kept += len(converted) - len(kept)
            converted = kept
        out.extend(converted)
    if not out:
        why = f", {not_kept} not in data.keep {spec.keep}" if keep is not None else ""
        raise UserError(f"{path}: no usable rows ({skipped} skipped{why})")
    if kind == "rlvr":
        check_verifiers(out, path)
    summary = {"file": str(path), "format": spec.format, "rows_read": len(rows), "examples": len(out),
               "skipped": skipped}
    if keep is not None:
        summary.update(keep=spec.keep, not_kept=not_kept)
    return out, summary


def row_key(row: dict) -> str:
    """A converted RLVR row's identity (prompt, gold, verifier): what ``data.keep`` files list."""
    blob = json.dumps([row.get("prompt"), row.get("ground_truth"), row.get("verifier")], sort_keys=True,
                      ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def read_keep(path: str) -> set[str]:
    """The row keys of a ``data.keep`` file (``{"keys": [...]}``, as ``probe-rlvr --keep-learnable`` writes)."""
    from .recipe import REPO_ROOT  # noqa: PLC0415

    given = Path(path).expanduser()
    file = given if given.is_file() or given.is_absolute() else REPO_ROOT / given
    try:
        keys = json.loads(file.read_text(encoding="utf-8"))["keys"]
    except FileNotFoundError:
        raise UserError(f"data.keep {path}: no such file") from None
    except (ValueError, KeyError, TypeError):
        raise UserError(f"data.keep {path}: expected JSON with a list of row keys under \"keys\"") from None
    return set(map(str, keys))


class _Bad(ValueError):
    """A row that does not have the format's columns."""


def _converter(fmt: str, kind: str, path: Path, seed: int = 0) -> Callable[[dict], list[dict]]:
    from . import rlvr_data  # noqa: PLC0415

    table: dict[str, dict[str, Callable[[dict], list[dict]]]] = {
        "sft": {"messages": lambda r: sft_rows(_messages(r)), "alpaca": lambda r: sft_rows(alpaca_messages(r))},
        "dpo": {"hh_rlhf": lambda r: [hh_rlhf_pair(r)], "preference": lambda r: [preference_pair(r)]},
        "rlvr": {"rlvr": lambda r: [rlvr_row(r)], "gsm8k": lambda r: [rlvr_row(rlvr_data.gsm8k_row(r))],
                 "math": lambda r: [rlvr_row(rlvr_data.math_row(r))],
                 "ifeval": lambda r: [rlvr_row(rlvr_data.alpaca_ifeval_row(r, seed))]},
    }
    if fmt not in table[kind]:
        raise UserError(f"data.format {fmt!r} is not for train-{kind} (use one of {', '.join(table[kind])})")

    def guarded(row: dict) -> list[dict]:
        if not isinstance(row, dict):
            raise _Bad("not a JSON object")
        try:
            return table[kind][fmt](row)
        except rlvr_data.BadRow as exc:
            raise _Bad(str(exc)) from None
    return guarded


def _need(row: dict, *keys: str) -> None:
    missing = [k for k in keys if k not in row]
    if missing:
        raise _Bad(f"missing column {missing[0]!r} (has: {', '.join(sorted(row)) or 'nothing'})")


def _messages(row: dict, key: str = "messages") -> list[dict]:
    _need(row, key)
    msgs = row[key]
    if not isinstance(msgs, list) or not msgs:
        raise _Bad(f"{key} must be a non-empty list of {{role, content}}")
    out = []
    for m in msgs:
        if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
            raise _Bad(f"{key}: each message needs a role ({'/'.join(ROLES)}) and a string content, got {m!r:.80}")
        out.append({"role": m["role"], "content": m["content"]})
    return out


def alpaca_messages(row: dict) -> list[dict]:
    _need(row, "instruction", "output")
    user = row["instruction"].strip()
    if str(row.get("input") or "").strip():
        user += "\n\n" + row["input"].strip()
    return [{"role": "user", "content": user}, {"role": "assistant", "content": row["output"]}]


def sft_rows(messages: list[dict]) -> list[dict]:
    """One prompt-completion row per non-empty assistant turn."""
    rows = [{"prompt": messages[:i], "completion": [m]} for i, m in enumerate(messages)
            if m["role"] == "assistant" and i > 0 and m["content"].strip()]
    if not rows:
        raise SkipRow()
    return rows


def hh_turns(text: str) -> list[dict]:
    """``\\n\\nHuman: ...\\n\\nAssistant: ...`` -> messages (text before the first turn is dropped;
    consecutive turns of one speaker, which a few dialogues have, are joined)."""
    parts = _HH_TURN.split(text)
    if len(parts) < 3:
        raise _Bad("no '\\n\\nHuman: ' / '\\n\\nAssistant: ' turns in the dialogue")
    turns: list[dict] = []
    for who, body in zip(parts[1::2], parts[2::2]):
        role = "user" if who == "Human" else "assistant"
        if turns and turns[-1]["role"] == role:  # a few dialogues have two turns in a row: one turn
            turns[-1]["content"] += "\n\n" + body.strip()
        else:
            turns.append({"role": role, "content": body.strip()})
    return turns


def _split_last(messages: list[dict], side: str) -> tuple[list[dict], dict]:
    if messages[-1]["role"] != "assistant" or len(messages) < 2:
        raise _Bad(f"{side} does not end with an assistant turn after a prompt")
    return messages[:-1], messages[-1]


def _pair(prompt_c: list[dict], chosen: dict, prompt_r: list[dict], rejected: dict) -> dict:
    if prompt_c != prompt_r:
        raise SkipRow()  # the two sides answer different conversations: not a preference pair
    if not chosen["content"] or not rejected["content"] or chosen["content"] == rejected["content"]:
        raise SkipRow()
    return {"prompt": prompt_c, "chosen": [chosen], "rejected": [rejected]}


def hh_rlhf_pair(row: dict) -> dict:
    _need(row, "chosen", "rejected")
    if not isinstance(row["chosen"], str) or not isinstance(row["rejected"], str):
        raise _Bad("chosen and rejected must be dialogue strings in HH-RLHF format")
    pc, c = _split_last(hh_turns(row["chosen"]), "chosen")
    pr, r = _split_last(hh_turns(row["rejected"]), "rejected")
    return _pair(pc, c, pr, r)


def preference_pair(row: dict) -> dict:
    _need(row, "chosen", "rejected")
    if "prompt" in row:
        prompt = _messages(row, "prompt")
        c, r = _messages(row, "chosen"), _messages(row, "rejected")
        if len(c) != 1 or len(r) != 1 or c[0]["role"] != "assistant" or r[0]["role"] != "assistant":
            raise _Bad("with a prompt column, chosen and rejected must each be one assistant message")
        return _pair(prompt, c[0], prompt, r[0])
    pc, c = _split_last(_messages(row, "chosen"), "chosen")
    pr, r = _split_last(_messages(row, "rejected"), "rejected")
    return _pair(pc, c, pr, r)


# verifier keys whose gold is a list of answers: a string that is JSON text of a list is the old encoding there
# (elsewhere, e.g. a MATH answer "[0, 1]", such a string is a legitimate gold)
_LIST_GOLDS = ("popqa", "drop")


def ground_truth_text(value: Any, verifier: str | None = None) -> str:
    """The ``ground_truth`` column: JSON text of the gold value (one encoding; ``api/verifier.py``).

    Rows of the old encoding (JSON text of an object, or of a list for list-gold verifiers) are refused
    with a one-line error, not left to score 0."""
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict) or (isinstance(parsed, list) and verifier in _LIST_GOLDS):
            raise _Bad("ground_truth is JSON text of a value; write the value itself (a JSON object or list), "
                       "as `tulu-eval build-rlvr-data` does")
    return encode_gold(value)


def rlvr_row(row: dict) -> dict:
    _need(row, "messages", "ground_truth", "verifier")
    messages = _messages(row)
    if messages[-1]["role"] == "assistant":
        messages = messages[:-1]  # a reference answer in the row is not part of the prompt
    if not messages or messages[-1]["role"] != "user":
        raise _Bad("messages must end with a user turn (the prompt)")
    if not isinstance(row["verifier"], str) or not row["verifier"]:
        raise _Bad("verifier must be a key of the verifier table such as 'gsm8k' or 'mmlu_pro'")
    return {"prompt": messages, "ground_truth": ground_truth_text(row["ground_truth"], row["verifier"]),
            "verifier": row["verifier"]}


def check_verifiers(rows: list[dict], path: Path) -> None:
    from ..verifiers import verifier_keys  # noqa: PLC0415

    known = set(verifier_keys())
    for i, row in enumerate(rows):
        if row["verifier"] not in known:
            raise UserError(f"{path}: row {i + 1}: unknown verifier {row['verifier']!r} "
                            f"(known: {', '.join(sorted(known))})")


def prompt_texts(rows: list[dict]) -> list[str]:
    """The user-side text of converted rows, for the decontamination check."""
    return ["\n".join(m["content"] for m in row["prompt"] if m["role"] != "assistant") for row in rows]
