"""TruthfulQA multiple-choice rows: the distinct answer strings of MC1 and MC2 with their labels
(``choice_table``), the gold the task scores against, and the HF ``truthful_qa`` row in the file's form."""

from __future__ import annotations


def choice_table(doc: dict) -> tuple[list[str], list[int], list[int], list[int]]:
    """Distinct answer strings (MC1's first, then MC2's new ones), their labels, and which of
    them belong to MC1 and to MC2, in each target list's own order."""
    choices: list[str] = []
    labels: list[int] = []
    index: dict[str, int] = {}
    mc: dict[str, list[int]] = {"mc1_targets": [], "mc2_targets": []}
    for key in ("mc1_targets", "mc2_targets"):
        for text, label in doc[key].items():
            if text not in index:
                index[text] = len(choices)
                choices.append(text)
                labels.append(int(label))
            elif labels[index[text]] != int(label):
                raise ValueError(f"answer {text!r} is true in one target list and false in the other")
            mc[key].append(index[text])
    return choices, labels, mc["mc1_targets"], mc["mc2_targets"]


def gold(doc: dict) -> dict:
    _, labels, mc1, mc2 = choice_table(doc)
    return {"labels": labels, "mc1": mc1, "mc2": mc2}


def from_hub(row: dict) -> dict:
    """An HF ``truthful_qa``/``multiple_choice`` row as a row of ``mc_task.json``."""
    out = {"question": row["question"]}
    for key in ("mc1_targets", "mc2_targets"):
        out[key] = dict(zip(row[key]["choices"], row[key]["labels"]))
    return out
