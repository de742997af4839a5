"""What tasks hand to backends: one request (chat and plain forms, settings) per instance.

Plain types that both tasks and backends import, so that neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class GenSettings:
    """Generation settings of a task (greedy by default, as in the Tülu 3 suites)."""

    max_tokens: int = 512
    temperature: float = 0.0
    top_p: float = 1.0
    n: int = 1
    stop: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"max_tokens": self.max_tokens, "temperature": self.temperature, "top_p": self.top_p,
                "n": self.n, "stop": list(self.stop)}


@dataclass
class Request:
    """One thing to generate.

    ``messages`` is the chat form (few-shot exemplars as earlier user/assistant turns);
    ``text`` is the same content as one plain prompt, used for models without a chat template.
    """

    messages: list[dict[str, str]]
    text: str
    settings: GenSettings
    # opens the assistant turn after the chat template's generation prompt (OLMES ``assistant_prefix``)
    assistant_prefix: str = ""
    # set for log-likelihood requests: score each continuation after the rendered prompt
    # instead of generating (multiple-choice tasks, see tulu_eval/api/multiple_choice.py)
    continuations: tuple[str, ...] | None = None


@dataclass
class Instance:
    task: str
    id: str
    doc: dict
    request: Request
    gold: Any
    group: str | None = None
