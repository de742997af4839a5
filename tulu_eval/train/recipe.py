"""Training recipes: one YAML file per recipe under ``training/``, every hyperparameter in view.

A recipe has our own keys (model, data, output folder, decontamination check, RLVR reward) and a
``trl:`` section whose keys are fields of the TRL config of that trainer (``SFTConfig``,
``DPOConfig`` or ``GRPOConfig`` of TRL 1.16), passed to it unchanged. Any unknown key, at either
level, is a one-line :class:`UserError` naming the file and the key, raised before a model is
loaded. Command-line flags override the file (``--max-steps``, ``--learning-rate``, ``--beta``,
``--model``, ``--data``, ``--output-dir``, and ``--set section.key=value`` for anything else).

YAML 1.1 reads ``2e-5`` as a string; numbers written that way are converted back, so a recipe can
spell learning rates as people do.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import UserError

KINDS = ("sft", "dpo", "rlvr")
DATA_FORMATS = ("messages", "alpaca", "hh_rlhf", "preference", "rlvr", "gsm8k", "math", "ifeval")
REPO_ROOT = Path(__file__).resolve().parents[2]
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


@dataclass
class DataSpec:
    path: str = ""          # relative to the data folder (--data-dir / $TULU_EVAL_DATA), or a file path
    format: str = "messages"  # one of DATA_FORMATS
    limit: int | None = None  # keep this many rows after shuffling (None: all)
    seed: int = 0             # shuffling seed (rows are shuffled before the limit is applied)
    keep: str | None = None   # RLVR: a file of row keys to keep (``probe-rlvr --keep-learnable``: prompts whose
                              # probe group had reward variance); the limit counts kept rows


@dataclass
class DecontamSpec:
    check: bool = True        # scan the training prompts against the eval suites before training
    suite: str = "dev,unseen"
    n: int = 8
    threshold: float = 0.5


@dataclass
class RewardSpec:
    scale: float = 10.0                    # reward = scale x verifier score (Tülu 3: 10)
    non_stop_penalty: float | None = None  # reward given instead when a completion did not stop (None: off)


@dataclass
class Recipe:
    trainer: str
    model: str = "bundled"
    data: DataSpec = field(default_factory=DataSpec)
    output_dir: str = ""
    decontam: DecontamSpec = field(default_factory=DecontamSpec)
    reward: RewardSpec = field(default_factory=RewardSpec)
    trl: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # the recipe file (not a YAML key)

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out.pop("source")
        if self.trainer != "rlvr":
            out.pop("reward")
        return out


_SECTIONS = {"data": DataSpec, "decontam": DecontamSpec, "reward": RewardSpec}


def trl_config_class(kind: str):
    """The TRL config dataclass of a trainer kind (imported lazily: TRL is slow to import)."""
    if kind == "sft":
        from trl import SFTConfig  # noqa: PLC0415
        return SFTConfig
    if kind == "dpo":
        from trl import DPOConfig  # noqa: PLC0415
        return DPOConfig
    from trl import GRPOConfig  # noqa: PLC0415
    return GRPOConfig


def coerce(value: Any) -> Any:
    """Strings that spell numbers (``2e-5``) become numbers; lists and dicts are walked."""
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        text = value.strip()
        return int(text) if re.fullmatch(r"[-+]?\d+", text) else float(text)
    if isinstance(value, list):
        return [coerce(v) for v in value]
    if isinstance(value, dict):
        return {k: coerce(v) for k, v in value.items()}
    return value


def resolve_recipe_path(path: str | Path) -> Path:
    """The recipe file as given, else under the repository's ``training/`` folder."""
    given = Path(path).expanduser()
    for candidate in (given, REPO_ROOT / given, REPO_ROOT / "training" / given.name):
        if candidate.is_file():
            return candidate
    raise UserError(f"--recipe {path}: no such file")


def load_recipe(path: str | Path, kind: str, overrides: dict[str, Any] | None = None) -> Recipe:
    """Read, override and check a recipe; every mistake is one UserError naming ``path``."""
    file = resolve_recipe_path(path)
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise UserError(f"{file}: not valid YAML{where}") from None
    if not isinstance(raw, dict):
        raise UserError(f"{file}: a recipe is a YAML mapping of keys to values")
    raw = coerce(raw)
    for key, value in (overrides or {}).items():
        _set_dotted(raw, key, coerce(value), file)
    return build_recipe(raw, kind, str(file))


def _set_dotted(raw: dict, key: str, value: Any, file: Path) -> None:
    parts = key.split(".")
    node = raw
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise UserError(f"--set {key}: {part} is not a section of {file.name}")
        node = child
    node[parts[-1]] = value


def build_recipe(raw: dict, kind: str, source: str = "<recipe>") -> Recipe:
    name = Path(source).name
    trainer = raw.get("trainer", kind)
    if trainer not in KINDS:
        raise UserError(f"{name}: trainer must be one of {', '.join(KINDS)}, not {trainer!r}")
    if trainer != kind:
        raise UserError(f"{name} is a {trainer} recipe; use tulu-eval train-{trainer}")
    known = {f.name for f in dataclasses.fields(Recipe)} - {"source"}
    if kind != "rlvr":
        known.discard("reward")
    unknown = sorted(set(raw) - known)
    if unknown:
        raise UserError(f"{name}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    values: dict[str, Any] = {"trainer": trainer, "source": source}
    for key in ("model", "output_dir"):
        if key in raw:
            if not isinstance(raw[key], str) or not raw[key]:
                raise UserError(f"{name}: {key} must be a non-empty string")
            values[key] = raw[key]
    for key, cls in _SECTIONS.items():
        if key in raw:
            values[key] = _section(raw[key], cls, key, name)
    trl = raw.get("trl") or {}
    if not isinstance(trl, dict):
        raise UserError(f"{name}: trl must be a mapping of {trl_config_class(kind).__name__} fields")
    fields = {f.name for f in dataclasses.fields(trl_config_class(kind)) if f.init}
    for key in trl:
        if key not in fields:
            raise UserError(f"{name}: trl.{key} is not a field of TRL's {trl_config_class(kind).__name__}")
        if key == "output_dir":
            raise UserError(f"{name}: set output_dir at the top level, not under trl")
    values["trl"] = dict(trl)
    recipe = Recipe(**values)
    if recipe.data.format not in DATA_FORMATS:
        raise UserError(f"{name}: data.format must be one of {', '.join(DATA_FORMATS)}, not {recipe.data.format!r}")
    if not recipe.data.path:
        raise UserError(f"{name}: data.path is missing")
    if not recipe.output_dir:
        raise UserError(f"{name}: output_dir is missing")
    return recipe


def _section(value: Any, cls, key: str, name: str):
    if not isinstance(value, dict):
        raise UserError(f"{name}: {key} must be a mapping")
    known = {f.name: f for f in dataclasses.fields(cls)}
    for k, v in value.items():
        if k not in known:
            raise UserError(f"{name}: unknown key {key}.{k!r} (known: {', '.join(known)})")
        default = known[k].default
        if v is not None and default is not None and not isinstance(v, type(default)) \
                and not (isinstance(default, float) and isinstance(v, int) and not isinstance(v, bool)):
            raise UserError(f"{name}: {key}.{k} must be a {type(default).__name__}, not {v!r}")
    return cls(**value)


# DPOConfig.loss_type values of TRL 1.16, and our names for two of them
DPO_LOSSES = ("sigmoid", "hinge", "ipo", "exo_pair", "nca_pair", "robust", "bco_pair", "sppo_hard", "aot",
              "aot_unpaired", "apo_zero", "apo_down", "discopop", "sft", "sigmoid_norm")
DPO_ALIASES = {"dpo_norm": "sigmoid_norm", "dpo": "sigmoid"}  # Tülu 3 / open-instruct names


def dpo_loss_types(value: Any, name: str) -> list[str]:
    names = [value] if isinstance(value, str) else list(value or [])
    out = [DPO_ALIASES.get(v, v) for v in names]
    for given, mapped in zip(names, out):
        if mapped not in DPO_LOSSES:
            raise UserError(f"{name}: trl.loss_type {given!r} is not a DPO loss of TRL "
                            f"(one of {', '.join(DPO_LOSSES + tuple(DPO_ALIASES))})")
    return out


def _has_accelerator() -> bool:
    import torch  # noqa: PLC0415

    return torch.cuda.is_available() or (hasattr(torch, "xpu") and torch.xpu.is_available())


def make_trl_config(recipe: Recipe, output_dir: Path, **extra):
    """The TRL config of the recipe; a value TRL rejects is a UserError naming the recipe."""
    cls = trl_config_class(recipe.trainer)
    kwargs = {**recipe.trl, **extra, "output_dir": str(output_dir)}
    if "use_cpu" not in kwargs and not _has_accelerator():
        # transformers builds a distributed (gloo) process group on CPU only with use_cpu=True; without
        # it, processes started by torchrun / `accelerate launch --multi_gpu` each train alone
        kwargs["use_cpu"] = True
    if recipe.trainer == "dpo" and "loss_type" in kwargs:
        kwargs["loss_type"] = dpo_loss_types(kwargs["loss_type"], Path(recipe.source).name)
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{Path(recipe.source).name}: TRL rejects the trl section: {first}") from None
