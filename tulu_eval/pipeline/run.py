"""``tulu-eval pipeline PIPELINE.yaml``: train the stages a pipeline file lists, evaluate the base model
and every stage's output the same way, and write one report comparing them.

A pipeline file (``training/tulu3_mini.yaml``)::

    base: bundled                       # the starting model: bundled, a checkpoint folder or a hub id
    output_dir: runs/pipeline/tulu3_mini
    stages:                             # in order; each trains from the previous stage's output
      - name: sft
        recipe: training/sft_codealpaca.yaml
        overrides: {trl.max_steps: 50}  # recipe keys, as `--set` takes them
      - name: dpo
        recipe: training/dpo_hh_rlhf.yaml
    eval: {suite: "dev,unseen", tasks: null, limit: 20,        # suite, tasks or both (neither: dev,unseen)
           backend: null, model_args: {}, max_tokens: null,
           allow_code_execution: false}

Everything is checked before anything trains (the file's keys, every stage's recipe with its
overrides, TRL's own checks of the trl section, the training data files, the eval task names): a
mistake is one line naming the file, exit 2. Then, in ``output_dir``:

* ``<stage>/``: the stage's trained model (``tulu-eval train-<kind>`` run as a child process, so its
  memory is returned before the next stage). A stage whose folder has ``train_summary.json`` is
  finished and not re-run; one with checkpoints but no summary (stopped) continues with ``--resume``.
* ``eval/<base|stage>/``: a run folder per model (``tulu-eval run`` machinery; the generation cache
  makes a re-evaluation free). Each stage's run carries the training manifests
  (``decontamination.json``) of that stage and every stage before it, so contaminated instances are
  flagged (:mod:`tulu_eval.decontam.manifest`). A run folder already evaluated for the same model
  fingerprint and eval settings (``pipeline_eval.json``) is kept.
* ``report.html`` (stage rows, gains over the base and the previous stage with paired-bootstrap p,
  dev → unseen gap per stage, the full leaderboard below), ``comparison.json`` (base vs the last
  stage, as ``tulu-eval compare-runs`` writes it) and ``pipeline.json`` (the same numbers as data).
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from ..api.backends import BACKENDS
from ..errors import UserError

STAMP = "pipeline_eval.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass
class EvalSpec:
    suite: str | None = None  # neither suite nor tasks: dev,unseen
    tasks: str | None = None
    limit: int | None = None
    backend: str | None = None
    model_args: dict = field(default_factory=dict)
    max_tokens: int | None = None
    allow_code_execution: bool = False


@dataclass
class Stage:
    name: str
    recipe: str
    overrides: dict = field(default_factory=dict)
    kind: str = ""         # the recipe's trainer (checked)
    recipe_path: str = ""  # resolved


@dataclass
class Pipeline:
    source: str
    base: str
    output_dir: Path
    stages: list[Stage]
    eval: EvalSpec

    def stage_dir(self, stage: Stage) -> Path:
        return self.output_dir / stage.name

    def eval_dir(self, name: str) -> Path:
        return self.output_dir / "eval" / name


def _fields(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def _mapping(value: Any, where: str, known: set[str]) -> dict:
    if not isinstance(value, dict):
        raise UserError(f"{where} must be a mapping")
    unknown = sorted(set(value) - known)
    if unknown:
        raise UserError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    return value


def load_pipeline(path: str | Path, *, output_dir: str | None = None, limit: int | None = None,
                  backend: str | None = None, max_tokens: int | None = None, data_dir: str | None = None,
                  check_data: bool = True) -> Pipeline:
    """Read and check a pipeline file and every recipe it names; every mistake is one UserError."""
    from ..train.recipe import coerce  # noqa: PLC0415

    file = Path(path)
    if not file.is_file():
        raise UserError(f"{path}: no such pipeline file")
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise UserError(f"{file}: not valid YAML{f' (line {mark.line + 1})' if mark else ''}") from None
    name = file.name
    raw = coerce(_mapping(raw, name, {"base", "output_dir", "stages", "eval"}))
    base = raw.get("base", "bundled")
    if not isinstance(base, str) or not base:
        raise UserError(f"{name}: base must be a model: bundled, a checkpoint folder or a hub id")
    out = output_dir or raw.get("output_dir")
    if not isinstance(out, str) or not out:
        raise UserError(f"{name}: output_dir is missing (or pass -o)")
    stages_raw = raw.get("stages")
    if not isinstance(stages_raw, list) or not stages_raw:
        raise UserError(f"{name}: stages must be a non-empty list of {{name, recipe, overrides}}")
    spec = EvalSpec(**_mapping(raw.get("eval") or {}, f"{name}: eval", _fields(EvalSpec)))
    if not spec.suite and not spec.tasks:
        spec.suite = "dev,unseen"
    spec.limit = limit if limit is not None else spec.limit
    spec.backend = backend or spec.backend
    spec.max_tokens = max_tokens if max_tokens is not None else spec.max_tokens
    _check_eval(spec, name)
    pipe = Pipeline(str(file), base, Path(out).expanduser(), [], spec)
    previous = base
    for i, item in enumerate(stages_raw, 1):
        where = f"{name}: stage {i}"
        item = _mapping(item, where, {"name", "recipe", "overrides"})
        stage = Stage(**item)
        if not isinstance(stage.name, str) or not _NAME.match(stage.name) or stage.name in ("eval", "base"):
            raise UserError(f"{where}: name must be a folder name of letters, digits, - _ . (not eval or base), "
                            f"not {stage.name!r}")
        if stage.name in {s.name for s in pipe.stages}:
            raise UserError(f"{where}: name {stage.name!r} is used twice")
        where = f"{name}: stage {stage.name}"
        if not isinstance(stage.recipe, str) or not stage.recipe:
            raise UserError(f"{where}: recipe must be a recipe file (training/*.yaml)")
        if not isinstance(stage.overrides or {}, dict):
            raise UserError(f"{where}: overrides must be a mapping of recipe keys (trl.max_steps: 50)")
        stage.overrides = dict(stage.overrides or {})
        for key in ("model", "output_dir"):
            if key in stage.overrides:
                raise UserError(f"{where}: overrides.{key} is set by the pipeline (the previous stage's output; "
                                f"output_dir/{stage.name})")
        _check_stage(stage, where, previous, pipe.stage_dir(stage), data_dir, check_data)
        pipe.stages.append(stage)
        previous = str(pipe.stage_dir(stage))
    return pipe


def _check_eval(spec: EvalSpec, name: str) -> None:
    from ..registry import Registry  # noqa: PLC0415

    if spec.limit is not None and (not isinstance(spec.limit, int) or isinstance(spec.limit, bool) or spec.limit < 1):
        raise UserError(f"{name}: eval.limit must be a positive integer or null, not {spec.limit!r}")
    if spec.max_tokens is not None and (not isinstance(spec.max_tokens, int) or spec.max_tokens < 1):
        raise UserError(f"{name}: eval.max_tokens must be a positive integer or null, not {spec.max_tokens!r}")
    if spec.backend is not None and spec.backend not in BACKENDS:
        raise UserError(f"{name}: eval.backend must be one of {', '.join(BACKENDS)} or null, not {spec.backend!r}")
    if not isinstance(spec.model_args, dict):
        raise UserError(f"{name}: eval.model_args must be a mapping")
    try:
        Registry().select(spec.suite, spec.tasks)
    except UserError as exc:
        raise UserError(f"{name}: eval: {exc}") from None


def _check_stage(stage: Stage, where: str, model: str, out: Path, data_dir: str | None, check_data: bool) -> None:
    from ..train.recipe import KINDS, load_recipe, make_trl_config, resolve_recipe_path  # noqa: PLC0415

    try:
        path = resolve_recipe_path(stage.recipe)
    except UserError:
        raise UserError(f"{where}: recipe {stage.recipe}: no such file") from None
    try:
        kind = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("trainer")
    except (yaml.YAMLError, AttributeError):
        kind = None
    if kind not in KINDS:
        raise UserError(f"{where}: {stage.recipe} names no trainer (trainer: {' | '.join(KINDS)})")
    try:
        recipe = load_recipe(path, kind, {**stage.overrides, "model": model, "output_dir": str(out)})
        make_trl_config(recipe, out)
        if check_data:
            from ..train.data import locate  # noqa: PLC0415

            locate(recipe.data.path, data_dir)
    except UserError as exc:
        raise UserError(f"{where}: {exc}") from None
    stage.kind, stage.recipe_path = kind, str(path)


# ------------------------------------------------------------------------------------------------
# running


def _say(text: str) -> None:
    print(f"pipeline: {text}", file=sys.stderr, flush=True)


def finished(folder: Path) -> dict | None:
    """The train_summary.json of a finished stage folder, else None."""
    summary = folder / "train_summary.json"
    if summary.is_file() and (folder / "config.json").is_file():
        try:
            return json.loads(summary.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            return None
    return None


def train_stage(pipe: Pipeline, stage: Stage, model: str, data_dir: str | None) -> dict:
    """Run ``tulu-eval train-<kind>`` for one stage in a child process; returns its train_summary.json."""
    from ..procs import child_kwargs  # noqa: PLC0415
    from ..train.run import checkpoints  # noqa: PLC0415

    out = pipe.stage_dir(stage)
    cmd = [sys.executable, "-m", "tulu_eval.cli", f"train-{stage.kind}", "--recipe", stage.recipe_path,
           "--model", model, "-o", str(out)]
    for key, value in stage.overrides.items():
        cmd += ["--set", f"{key}={json.dumps(value)}"]
    if data_dir:
        cmd += ["--data-dir", data_dir]
    if out.is_dir() and checkpoints(out):
        cmd.append("--resume")
        _say(f"stage {stage.name}: continuing from {checkpoints(out)[-1].name}")
    proc = subprocess.run(cmd, **child_kwargs())
    if proc.returncode != 0:
        raise UserError(f"stage {stage.name}: train-{stage.kind} failed (exit {proc.returncode}; its output is "
                        "above); rerun the pipeline to resume it")
    summary = finished(out)
    if summary is None:
        raise UserError(f"stage {stage.name}: train-{stage.kind} ended without {out / 'train_summary.json'}")
    return summary


def _eval_key(pipe: Pipeline, fp: str | None, manifests: list[str]) -> dict:
    return {"model_fingerprint": fp, "eval": dataclasses.asdict(pipe.eval), "training_manifests": manifests}


def evaluate(pipe: Pipeline, name: str, model: str, manifests: list[str], *, data_dir: str | None,
             cache: str | None, force: bool) -> Path:
    """A run folder for one model, reused when it was made for the same weights and eval settings."""
    from ..engine.plan import RunConfig  # noqa: PLC0415
    from ..engine.run import run  # noqa: PLC0415
    from ..models import fingerprint, resolve_model  # noqa: PLC0415
    from ..results.folder import INCOMPLETE_FILE, RESULTS_FILE  # noqa: PLC0415

    out = pipe.eval_dir(name)
    key = _eval_key(pipe, fingerprint(resolve_model(model)), manifests)
    stamp = out / STAMP
    if (not force and stamp.is_file() and (out / RESULTS_FILE).is_file() and not (out / INCOMPLETE_FILE).exists()
            and json.loads(stamp.read_text(encoding="utf-8")) == key):
        _say(f"eval {name}: {out} is up to date (same weights and settings)")
        return out
    spec = pipe.eval
    _say(f"eval {name}: {model} on {spec.suite or ''}{',' if spec.suite and spec.tasks else ''}{spec.tasks or ''}"
         f"{f' --limit {spec.limit}' if spec.limit else ''} -> {out}")
    run(RunConfig(suite=spec.suite, tasks=spec.tasks, limit=spec.limit, model=model, backend=spec.backend,
                  output_dir=str(out), data_dir=data_dir, model_args=dict(spec.model_args), max_tokens=spec.max_tokens,
                  cache=cache, report=False, allow_code_execution=spec.allow_code_execution,
                  training_manifest=tuple(manifests)))
    stamp.write_text(json.dumps(key, indent=1) + "\n", encoding="utf-8")
    return out


def run_pipeline(pipe: Pipeline, *, data_dir: str | None = None, cache: str | None = None,
                 iters: int = 2000, trainer: Callable[..., dict] = train_stage) -> dict:
    from ..decontam.manifest import find_manifests  # noqa: PLC0415

    t0 = time.perf_counter()
    pipe.output_dir.mkdir(parents=True, exist_ok=True)
    base_manifests = [str(p) for p in find_manifests(pipe.base if Path(pipe.base).is_dir() else None)]
    meta = [{"name": "base", "model": pipe.base, "trainer": None, "recipe": None, "steps": None, "trained": False}]
    models = [("base", pipe.base, base_manifests, False)]
    previous, manifests = pipe.base, list(base_manifests)
    for i, stage in enumerate(pipe.stages, 1):
        out = pipe.stage_dir(stage)
        head = f"stage {i}/{len(pipe.stages)} {stage.name} (train-{stage.kind}, {stage.recipe})"
        summary = finished(out)
        if summary is not None:
            _say(f"{head}: finished already ({summary.get('steps')} steps in {out}); not re-run")
            _warn_if_changed(stage, out, previous)
            trained = False
        else:
            _say(f"{head}: training from {previous} -> {out}")
            start = time.perf_counter()
            summary = trainer(pipe, stage, previous, data_dir)
            _say(f"{head}: done, {summary.get('steps')} steps in {time.perf_counter() - start:.0f} s")
            trained = True
        if (out / "decontamination.json").is_file():
            manifests.append(str(out / "decontamination.json"))
        meta.append({"name": stage.name, "model": str(out), "trainer": stage.kind, "recipe": stage.recipe,
                     "steps": summary.get("steps"), "train_seconds": summary.get("wall_seconds"), "trained": trained})
        models.append((stage.name, str(out), list(manifests), trained))
        previous = str(out)
    run_dirs = []
    for name, model, mans, trained in models:
        run_dirs.append(evaluate(pipe, name, model, mans, data_dir=data_dir, cache=cache, force=trained))
    return write_outputs(pipe, run_dirs, meta, iters, time.perf_counter() - t0)


def _warn_if_changed(stage: Stage, out: Path, model: str) -> None:
    """A finished stage whose recipe.yaml differs from what the pipeline now asks for is kept, with a warning."""
    from ..train.recipe import load_recipe  # noqa: PLC0415

    ran = out / "recipe.yaml"
    if not ran.is_file():
        return
    want = load_recipe(stage.recipe_path, stage.kind, {**stage.overrides, "model": model, "output_dir": str(out)})
    have = yaml.safe_load(ran.read_text(encoding="utf-8")) or {}
    wanted = want.to_dict()
    differ = sorted(k for k in set(wanted) | set(have) if k != "decontam" and wanted.get(k) != have.get(k))
    if differ:
        _say(f"warning: stage {stage.name}: {out} was trained with a different recipe ({', '.join(differ)} differ); "
             f"delete the folder to train it again")


def write_outputs(pipe: Pipeline, run_dirs: list[Path], meta: list[dict], iters: int, seconds: float) -> dict:
    from ..report.compare import pairwise  # noqa: PLC0415
    from ..report.comparison import compare_runs, write_comparison  # noqa: PLC0415
    from ..report.load import load_entries  # noqa: PLC0415
    from ..report.render import write_report  # noqa: PLC0415
    from ..report.stages import stage_rows  # noqa: PLC0415

    names = [m["name"] for m in meta]
    title = f"Pipeline {Path(pipe.source).name}: " + " → ".join(names)
    report = write_report(run_dirs, pipe.output_dir / "report.html", title=title, pipeline=meta, iters=iters)
    entries = load_entries(run_dirs, max_instances=0)
    pairs = pairwise(entries, sorted({t for e in entries for t in e.tasks}), iters=iters)
    rows = stage_rows(entries, pairs, meta, iters)
    comparison = write_comparison(compare_runs(run_dirs[0], run_dirs[-1], iters=iters), pipe.output_dir / "comparison.json")
    summary = {"pipeline": pipe.source, "base": pipe.base, "output_dir": str(pipe.output_dir),
               "eval": dataclasses.asdict(pipe.eval), "seconds": round(seconds, 1),
               "stages": [{**{k: v for k, v in r.items() if k not in ("k", "label")}, "run_dir": str(d)}
                          for r, d in zip(rows, run_dirs)],
               "report": report["path"], "comparison": str(comparison)}
    path = pipe.output_dir / "pipeline.json"
    path.write_text(json.dumps(summary, indent=1, allow_nan=True) + "\n", encoding="utf-8")
    summary["_rows"] = rows
    return summary


def format_summary(summary: dict) -> str:
    def pct(v):
        return "  n/a" if v is None else f"{100 * v:5.1f}"

    def gain(g):
        return "" if not g else f"{100 * g['diff']:+.1f} (p {g['p_value']:.3f})"

    head = f"{'stage':<10} {'trainer':<7} {'steps':>5} {'dev':>6} {'unseen':>6} {'gap':>6}  {'dev vs base':<18} {'dev vs previous':<18}"
    lines = [head, "-" * len(head)]
    for r in summary["_rows"]:
        gap = "" if r["gap"] is None else f"{100 * r['gap']:+.1f}"
        lines.append(f"{r['name']:<10} {r['trainer'] or '-':<7} {r['steps'] if r['steps'] is not None else '':>5} "
                     f"{pct(r['dev']):>6} {pct(r['unseen']):>6} {gap:>6}  {gain(r['vs_base'].get('dev')):<18} "
                     f"{gain(r['vs_previous'].get('dev')):<18}")
    lines.append(f"\nreport: {summary['report']}\ncomparison (base vs {summary['_rows'][-1]['name']}): "
                 f"{summary['comparison']}\nsummary: {Path(summary['output_dir']) / 'pipeline.json'}")
    return "\n".join(lines)
