"""What a backend returns: generated texts, or log-likelihoods of continuations."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class GenOutput:
    """What a backend returns for one request: ``n`` generated texts, or, for a log-likelihood
    request, one summed log-probability per continuation (``logprobs``) and whether greedy
    decoding would have produced the continuation (``is_greedy``)."""

    texts: list[str]
    num_tokens: list[int] = field(default_factory=list)
    finish_reasons: list[str] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    is_greedy: list[bool] = field(default_factory=list)


@dataclass
class LLResult:
    logprob: float
    is_greedy: bool
    num_tokens: int
