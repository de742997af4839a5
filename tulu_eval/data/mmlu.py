"""MMLU's Hendrycks CSVs: a subject's rows (checked, with subject and index), and with its first 5
dev questions as exemplar rows (``doc["fewshot"]``)."""

from __future__ import annotations

from pathlib import Path

from .files import DataFile
from .sources import checked_rows

SUBJECTS = (
    "abstract_algebra", "anatomy", "astronomy", "business_ethics", "clinical_knowledge", "college_biology",
    "college_chemistry", "college_computer_science", "college_mathematics", "college_medicine", "college_physics",
    "computer_security", "conceptual_physics", "econometrics", "electrical_engineering", "elementary_mathematics",
    "formal_logic", "global_facts", "high_school_biology", "high_school_chemistry", "high_school_computer_science",
    "high_school_european_history", "high_school_geography", "high_school_government_and_politics",
    "high_school_macroeconomics", "high_school_mathematics", "high_school_microeconomics", "high_school_physics",
    "high_school_psychology", "high_school_statistics", "high_school_us_history", "high_school_world_history",
    "human_aging", "human_sexuality", "international_law", "jurisprudence", "logical_fallacies", "machine_learning",
    "management", "marketing", "medical_genetics", "miscellaneous", "moral_disputes", "moral_scenarios", "nutrition",
    "philosophy", "prehistory", "professional_accounting", "professional_law", "professional_medicine",
    "professional_psychology", "public_relations", "security_studies", "sociology", "us_foreign_policy", "virology",
    "world_religions",
)
LETTERS = "ABCD"
FIELDS = ["question", "A", "B", "C", "D", "answer"]
HOW_TO_GET = "copy data/mmlu/ of github.com/stanford-cs336/assignment5-alignment (the Hendrycks data.tar layout)"


def subject_file(subject: str, split: str) -> DataFile:
    return DataFile(f"mmlu/{split}/{subject}_{split}.csv", kwargs={"fieldnames": FIELDS}, how_to_get=HOW_TO_GET)


def read_subject(subject: str, split: str, data_dir: Path | None) -> list[dict]:
    rows = checked_rows(subject_file(subject, split), data_dir, expected="expected 4 choices and an answer in A-D",
                        check=lambda r: r["answer"] in LETTERS and all(r[k] is not None for k in FIELDS))
    for i, row in enumerate(rows):
        row.update(subject=subject, index=i)
    return rows


def read_test(subject: str, data_dir: Path | None) -> list[dict]:
    return read_subject(subject, "test", data_dir)


def with_shots(subject: str, data_dir: Path | None) -> list[dict]:
    """The subject's test questions, each with the first 5 dev questions as its exemplars."""
    shots = read_subject(subject, "dev", data_dir)[:5]
    return [{**row, "fewshot": shots} for row in read_subject(subject, "test", data_dir)]
