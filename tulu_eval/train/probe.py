"""``tulu-eval probe-rlvr``: will an RLVR recipe learn? Measure before training.

GRPO learns only from groups whose rewards differ: a group of ``num_generations`` samples that are
all wrong (or all right) has zero advantage and gives no gradient. On a small model most groups can
be flat (the round-1 GSM8K run: 10 of 240 rollouts right), and a CPU step costs minutes. This command
samples the recipe's own rollouts (its model, prompts, ``temperature``, ``top_p``,
``max_completion_length`` and ``num_generations``) on a fast inference engine, rewards them with the
recipe's reward (``VerifierReward``: 10 x the eval verifier; the non-stop penalty for a completion cut
at the length limit), and reports:

* mean reward, the share of completions rewarded, the share cut at the length limit;
* **the share of groups with reward variance** (groups that would give a gradient);
* per verifier, and for ``ifeval`` rows per instruction type (instruction-level pass rate: which
  constraints the model already follows, which it never does).

Nothing is trained; ``-o FILE`` writes the numbers and every sample as JSON. ``--keep-learnable FILE``
writes the keys of the prompts whose group had reward variance; a recipe's ``data.keep`` then trains
on those only, so that no CPU step is spent on a group that gives no gradient (an offline form of
DAPO's dynamic sampling, which drops flat groups online).
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from ..backends import make_backend
from ..models import resolve_model
from ..api.request import GenSettings, Request
from .data import load, row_key
from .recipe import Recipe
from .rewards import VerifierReward


def probe(recipe: Recipe, prompts: int, data_dir: str | None = None, backend: str | None = None,
          model_args: dict | None = None, progress: bool = True) -> dict[str, Any]:
    from ..engine.generate import progress_stream  # noqa: PLC0415
    from tqdm import tqdm  # noqa: PLC0415

    rows, summary = load(recipe.data, "rlvr", data_dir)
    rows = rows[:prompts]
    trl = recipe.trl
    group = int(trl.get("num_generations", 8))
    settings = GenSettings(max_tokens=int(trl.get("max_completion_length", 256)),
                           temperature=float(trl.get("temperature", 1.0)), top_p=float(trl.get("top_p", 1.0)), n=group)
    spec = resolve_model(recipe.model)
    engine = make_backend(backend, spec, **(model_args or {}))
    requests = [Request(messages=row["prompt"], text="\n\n".join(m["content"] for m in row["prompt"]),
                        settings=settings) for row in rows]
    prompts_text = [engine.render(r) for r in requests]
    reward = VerifierReward(recipe.reward.scale, recipe.reward.non_stop_penalty)
    samples: list[dict] = []
    try:
        with tqdm(total=len(rows), desc="probing", unit="prompt", disable=not progress, file=progress_stream()) as bar:
            for pos, out in engine.generate_stream(requests, prompts_text):
                row, key = rows[pos], row_key(rows[pos])
                for k, text in enumerate(out.texts):
                    cut = (out.finish_reasons[k] if k < len(out.finish_reasons) else "") == "length"
                    if cut and recipe.reward.non_stop_penalty is not None:
                        value, result = float(recipe.reward.non_stop_penalty), None
                    else:
                        result = reward.verify(text, row["ground_truth"], row["verifier"])
                        value = reward.scale * result.score
                    samples.append({"prompt": pos, "key": key, "verifier": row["verifier"], "ground_truth": row["ground_truth"],
                                    "completion": text, "reward": value, "cut": cut,
                                    "error": result.error if result is not None and result.is_error else None,
                                    "instructions": (result.details or {}).get("follow_instruction_list")
                                    if result is not None else None})
                bar.update(1)
    finally:
        engine.close()
    return {**summarize(samples, group, recipe.reward.scale, summary, settings), "_samples": samples}


def summarize(samples: list[dict], group: int, scale: float, data_summary: dict | None = None,
              settings: GenSettings | None = None) -> dict[str, Any]:
    by_prompt: dict[int, list[float]] = defaultdict(list)
    for s in samples:
        by_prompt[s["prompt"]].append(s["reward"])
    flat = sum(1 for rs in by_prompt.values() if len(set(rs)) <= 1)
    per_verifier: dict[str, list[float]] = defaultdict(list)
    per_type: dict[str, list[int]] = defaultdict(list)
    for s in samples:
        per_verifier[s["verifier"]].append(s["reward"])
        if s.get("cut") or not s.get("instructions"):
            continue
        for ins in s["instructions"]:
            per_type[ins["id"]].append(int(ins["loose"]))
    rewards = [s["reward"] for s in samples]
    return {
        "prompts": len(by_prompt), "samples": len(samples), "group": group,
        "settings": settings.as_dict() if settings else None, "data": data_summary,
        "mean_reward": statistics.fmean(rewards) if rewards else 0.0,
        "rewarded_share": sum(r >= scale for r in rewards) / len(rewards) if rewards else 0.0,
        "cut_share": sum(bool(s.get("cut")) for s in samples) / len(samples) if samples else 0.0,
        "groups_with_gradient": (len(by_prompt) - flat) / len(by_prompt) if by_prompt else 0.0,
        "errors": sum(1 for s in samples if s.get("error")),
        "per_verifier": {k: {"mean_reward": statistics.fmean(v), "n": len(v)} for k, v in sorted(per_verifier.items())},
        "per_instruction_type": {k: {"pass_rate": sum(v) / len(v), "n": len(v)}
                                 for k, v in sorted(per_type.items(), key=lambda kv: -sum(kv[1]) / len(kv[1]))},
    }


def format_summary(res: dict) -> str:
    lines = [f"{res['prompts']} prompts x {res['group']} samples: mean reward {res['mean_reward']:.2f}, "
             f"rewarded {100 * res['rewarded_share']:.1f}%, cut at the length limit {100 * res['cut_share']:.1f}%, "
             f"groups with reward variance (a gradient) {100 * res['groups_with_gradient']:.1f}%, "
             f"verifier errors {res['errors']}"]
    for name, v in res["per_verifier"].items():
        lines.append(f"  {name:<12} mean reward {v['mean_reward']:.2f}  ({v['n']} samples)")
    if res["per_instruction_type"]:
        lines.append("  instruction type (uncut samples)                  followed      n")
        for iid, v in res["per_instruction_type"].items():
            lines.append(f"  {iid:<48} {100 * v['pass_rate']:7.1f}% {v['n']:6d}")
    return "\n".join(lines)


def learnable_keys(samples: list[dict]) -> list[str]:
    """Keys of the prompts whose samples' rewards differ (a GRPO group that gives a gradient)."""
    by_key: dict[str, set[float]] = defaultdict(set)
    for s in samples:
        by_key[s["key"]].add(s["reward"])
    return sorted(k for k, rewards in by_key.items() if len(rewards) > 1)


def write_learnable(res: dict, path: Path, recipe: Recipe) -> int:
    """``{"keys": [...]}`` for a recipe's ``data.keep``, with how they were chosen; returns how many."""
    keys = learnable_keys(res.get("_samples", []))
    out = {"rule": "prompts whose probe group had reward variance", "recipe": Path(recipe.source).name,
           "data": {"path": recipe.data.path, "format": recipe.data.format, "seed": recipe.data.seed},
           "settings": res.get("settings"), "model": recipe.model, "probed": res["prompts"],
           "groups_with_gradient": res["groups_with_gradient"], "keys": keys}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(out, indent=1))
    tmp.replace(path)
    return len(keys)


def write(res: dict, path: Path) -> None:
    """The numbers and every sample (``samples``) as one JSON file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out = {k: v for k, v in res.items() if k != "_samples"}
    out["samples"] = res.get("_samples", [])
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(out, indent=1, ensure_ascii=False))
    tmp.replace(path)
