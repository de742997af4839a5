"""``tulu-eval train-sft | train-dpo | train-rlvr | build-rlvr-data``: parse, call, print.

The same commands run under ``accelerate launch`` (DDP, or DeepSpeed with the configs in
``training/``): ``accelerate launch --config_file training/accelerate_ddp.yaml -m tulu_eval.cli
train-sft --recipe training/sft_codealpaca.yaml``.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..options import DATA_HELP
from ..errors import UserError


def _overrides(model, data, data_format, limit, output_dir, max_steps, learning_rate, beta, sets) -> dict:
    out: dict = {}
    for key, value in (("model", model), ("data.path", data), ("data.format", data_format), ("data.limit", limit),
                       ("output_dir", output_dir), ("trl.max_steps", max_steps),
                       ("trl.learning_rate", learning_rate), ("trl.beta", beta)):
        if value is not None:
            out[key] = value
    import yaml  # noqa: PLC0415

    for item in sets:
        if "=" not in item:
            raise UserError(f"--set: expected section.key=value, got {item!r}")
        key, text = (s.strip() for s in item.split("=", 1))
        try:
            out[key] = yaml.safe_load(text) if text else None
        except yaml.YAMLError:
            out[key] = text
    return out


def _common(beta: bool):
    def deco(fn):
        opts = [
            click.option("--recipe", "recipe_path", required=True, help="Recipe YAML (see training/)."),
            click.option("--model", default=None, help="Starting model: 'bundled', a checkpoint folder or a hub id."),
            click.option("--data", default=None, help="Training file (overrides data.path of the recipe)."),
            click.option("--data-format", default=None, help="Format of --data (overrides data.format)."),
            click.option("--limit", type=int, default=None, help="Use this many training rows (data.limit)."),
            click.option("-o", "--output-dir", default=None, help="Output folder (checkpoints and final model)."),
            click.option("--max-steps", type=int, default=None, help="Stop after this many optimizer steps."),
            click.option("--learning-rate", "--lr", type=float, default=None, help="Learning rate."),
            click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
                         help="Override any recipe key, e.g. trl.per_device_train_batch_size=4 (repeatable)."),
            click.option("--resume", is_flag=True, help="Continue from the last checkpoint in the output folder."),
            click.option("--overwrite", is_flag=True, help="Delete the output folder's checkpoints and start again."),
            click.option("--no-decontam", is_flag=True, help="Skip the check of training prompts against eval suites."),
            click.option("--data-dir", default=None, help=DATA_HELP),
        ]
        if beta:
            opts.append(click.option("--beta", type=float, default=None, help="KL / DPO beta (trl.beta)."))
        for opt in reversed(opts):
            fn = opt(fn)
        return fn
    return deco


def _run(kind: str, recipe_path, model, data, data_format, limit, output_dir, max_steps, learning_rate, sets,
         resume, overwrite, no_decontam, data_dir, beta=None) -> None:
    import importlib  # noqa: PLC0415
    import importlib.util  # noqa: PLC0415

    if importlib.util.find_spec("trl") is None:
        raise UserError("the trainers need TRL: pip install 'tulu-eval[train]' (trl==1.16.0)")
    from .recipe import load_recipe  # noqa: PLC0415
    from .run import Options, train  # noqa: PLC0415

    overrides = _overrides(model, data, data_format, limit, output_dir, max_steps, learning_rate, beta, sets)
    recipe = load_recipe(recipe_path, kind, overrides)
    module = importlib.import_module(f"tulu_eval.train.{kind}")
    train(recipe, Options(data_dir=data_dir, resume=resume, overwrite=overwrite, decontam=not no_decontam),
          module.make_trainer)


@click.command("train-sft")
@_common(beta=False)
def train_sft(**kw):
    """Supervised fine-tuning (TRL SFTTrainer), loss on assistant tokens only."""
    _run("sft", **kw)


@click.command("train-dpo")
@_common(beta=True)
def train_dpo(**kw):
    """DPO (TRL DPOTrainer) with Tülu 3's length-normalized loss (dpo_norm)."""
    _run("dpo", **kw)


@click.command("train-rlvr")
@_common(beta=True)
def train_rlvr(**kw):
    """RL with verifiable rewards (TRL GRPOTrainer; reward = 10 x verifier score)."""
    _run("rlvr", **kw)


@click.command("build-rlvr-data")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="JSON lines file to write.")
@click.option("--gsm8k", type=int, default=0, help="GSM8K train rows (-1: all 7,473).")
@click.option("--math", "math_rows", type=int, default=0, help="MATH train rows (-1: all).")
@click.option("--ifeval", type=int, default=0, help="Training prompts with IFEval-style constraints.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--data-dir", default=None, help=DATA_HELP)
def build_rlvr_data(output, gsm8k, math_rows, ifeval, seed, data_dir):
    """Write RLVR rows {messages, ground_truth, verifier} from GSM8K/MATH train and IF constraints."""
    from ..data.files import resolve_data_dir  # noqa: PLC0415
    from .rlvr_data import SOURCES, build, write_jsonl  # noqa: PLC0415

    ddir = resolve_data_dir(data_dir)
    if ddir is None:
        raise UserError("build-rlvr-data needs the data folder: --data-dir or $TULU_EVAL_DATA")
    if not (gsm8k or math_rows or ifeval):
        raise UserError("nothing to build: give --gsm8k, --math and/or --ifeval a count")
    wanted = {"gsm8k": gsm8k, "math": math_rows, "codealpaca": ifeval, "alpaca_seed": ifeval}
    for name, count in wanted.items():
        if count and not (ddir / SOURCES[name]).is_file():
            raise UserError(f"{ddir / SOURCES[name]} is missing (needed for --{'ifeval' if 'alpaca' in name else name})")
    rows, counts = build(ddir, gsm8k=gsm8k, math=math_rows, ifeval=ifeval, seed=seed)
    write_jsonl(rows, Path(output))
    click.echo(f"wrote {len(rows)} rows to {output}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


@click.command("probe-rlvr")
@click.option("--recipe", "recipe_path", required=True, help="RLVR recipe YAML (see training/).")
@click.option("--prompts", type=click.IntRange(min=1), default=64, show_default=True,
              help="Training prompts to sample (the recipe's first rows after its shuffle).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a recipe key, e.g. trl.temperature=0.7 (repeatable).")
@click.option("--model", default=None, help="Model to probe instead of the recipe's (e.g. a checkpoint folder).")
@click.option("--backend", type=click.Choice(["vllm", "hf"]), default=None, help="Inference engine (default: vllm "
              "where it imports).")
@click.option("--model-args", default=None, help="Backend options as k=v,k=v.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the numbers and every sample as JSON.")
@click.option("--keep-learnable", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the keys of the probed prompts whose group had reward variance, for the recipe's "
                   "data.keep (the recipe's own data.keep is ignored while probing for it).")
@click.option("--data-dir", default=None, help=DATA_HELP)
@click.option("-v", "--verbose", is_flag=True, help="Show the engine's own output (default: a log file, named on failure).")
def probe_rlvr(recipe_path, prompts, sets, model, backend, model_args, output, keep_learnable, data_dir, verbose):
    """Before training: sample an RLVR recipe's rollouts and measure its reward signal.

    Uses the recipe's model, prompts, temperature, top_p, max_completion_length and num_generations
    and its reward (10 x the eval verifier; non-stop penalty). Prints the mean reward, the share of
    GRPO groups with reward variance (only those give a gradient), the share cut at the length limit,
    and for IFEval-style rows the pass rate of each instruction type. Nothing is trained.

    \b
    tulu-eval probe-rlvr --recipe training/rlvr_ifeval.yaml --prompts 100
    tulu-eval probe-rlvr --recipe training/rlvr_ifeval.yaml --set trl.temperature=1.0 -o probe.json
    tulu-eval probe-rlvr --recipe training/rlvr_ifeval.yaml --prompts 160 --keep-learnable learnable.json
    """
    from ..options import parse_model_args  # noqa: PLC0415
    from .probe import format_summary, probe, write, write_learnable  # noqa: PLC0415
    from .recipe import load_recipe  # noqa: PLC0415

    overrides = _overrides(model, None, None, None, None, None, None, None, sets)
    recipe = load_recipe(recipe_path, "rlvr", overrides)
    if keep_learnable is not None:
        recipe.data.keep = None  # probe the whole file, not an earlier selection
    from ..engine.quiet import engine_log_in_errors, engine_log_path, engine_output_to  # noqa: PLC0415

    log = None if verbose else engine_log_path()
    with engine_output_to(log), engine_log_in_errors(log):
        res = probe(recipe, prompts, data_dir=data_dir, backend=backend, model_args=parse_model_args(model_args))
    click.echo(format_summary(res))
    if output is not None:
        write(res, output)
        click.echo(f"wrote {output}")
    if keep_learnable is not None:
        n = write_learnable(res, keep_learnable, recipe)
        click.echo(f"wrote {keep_learnable}: {n} of {res['prompts']} prompts with reward variance")
