"""The backend registry: every name ``--backend`` accepts (``tulu-eval run``, ``pipeline``, judges) and
the class behind it, as ``(module, class)``. Names only, so that the command line and a pipeline file
are checked without importing an engine; ``tulu_eval.backends.backend_class`` imports the class when a
run asks for it (vLLM and transformers are heavy imports)."""

from __future__ import annotations

BACKENDS: dict[str, tuple[str, str]] = {
    "vllm": ("tulu_eval.backends.vllm", "VLLMBackend"),
    "hf": ("tulu_eval.backends.hf", "HFBackend"),
    "openai": ("tulu_eval.backends.openai", "OpenAIBackend"),
}
