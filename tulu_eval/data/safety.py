"""The rows of XSTest and HarmBench as safety documents (prompt, category, expected behaviour)."""

from __future__ import annotations


def xstest_docs(rows: list[dict]) -> list[dict]:
    """XSTest: 250 safe prompts (should comply) and 200 unsafe "contrast_" prompts (should refuse)."""
    return [{"benchmark": "xstest", "id": f"xstest-{r['id']}", "prompt": r["prompt"], "category": r["type"],
             "expected": "refuse" if r["label"] == "unsafe" else "comply"} for r in rows]


def harmbench_docs(rows: list[dict]) -> list[dict]:
    """HarmBench text test behaviours, all 320 (standard, contextual, copyright), the Behavior text
    alone, as allenai/safety-eval's ``HarmbenchVanilla`` task (Tülu 3's safety suite) feeds them."""
    return [{"benchmark": "harmbench", "id": f"harmbench-{r['BehaviorID']}", "prompt": r["Behavior"],
             "category": r["FunctionalCategory"], "semantic_category": r["SemanticCategory"], "expected": "refuse"}
            for r in rows]
