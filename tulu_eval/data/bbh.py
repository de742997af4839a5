"""BIG-Bench Hard's files: the 27 subtasks' examples and their chain-of-thought prompt files; a
subtask's examples each carry the subtask's CoT prefix (canary lines stripped)."""

from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from .files import DataFile

SUBTASKS = (
    "boolean_expressions", "causal_judgement", "date_understanding", "disambiguation_qa", "dyck_languages",
    "formal_fallacies", "geometric_shapes", "hyperbaton", "logical_deduction_five_objects",
    "logical_deduction_seven_objects", "logical_deduction_three_objects", "movie_recommendation",
    "multistep_arithmetic_two", "navigate", "object_counting", "penguins_in_a_table",
    "reasoning_about_colored_objects", "ruin_names", "salient_translation_error_detection", "snarks",
    "sports_understanding", "temporal_sequences", "tracking_shuffled_objects_five_objects",
    "tracking_shuffled_objects_seven_objects", "tracking_shuffled_objects_three_objects", "web_of_lies",
    "word_sorting",
)
HOW_TO_GET = "copy bbh/ and cot-prompts/ of github.com/suzgunmirac/BIG-Bench-Hard into bbh/"
EXAMPLES = {s: DataFile(f"bbh/bbh/{s}.json", how_to_get=HOW_TO_GET) for s in SUBTASKS}
PROMPTS = {s: DataFile(f"bbh/cot-prompts/{s}.txt", how_to_get=HOW_TO_GET) for s in SUBTASKS}


def cot_prefix(text: str, path: str = "cot-prompt") -> str:
    """A CoT prompt file without its canary line and the ``-----`` line that follows it."""
    lines = text.strip().split("\n")
    if len(lines) < 3 or "canary" not in lines[0].lower() or lines[1].strip() != "-----":
        raise UserError(f"{path}: expected a canary line and a '-----' line before the prompt")
    return "\n".join(lines[2:]).strip()


def read_subtask(subtask: str, data_dir: Path | None) -> list[dict]:
    """A subtask's examples, each carrying the subtask's own CoT prefix."""
    prefix = cot_prefix(PROMPTS[subtask].read(data_dir)[0]["text"], PROMPTS[subtask].relpath)
    data = EXAMPLES[subtask].read(data_dir)
    if not isinstance(data, dict) or not isinstance(data.get("examples"), list):
        raise UserError(f"{EXAMPLES[subtask].relpath}: expected an object with an 'examples' list")
    return [{"subtask": subtask, "index": i, "input": ex["input"], "target": ex["target"], "cot_prompt": prefix}
            for i, ex in enumerate(data["examples"])]
