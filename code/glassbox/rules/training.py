"""Training a glass-box model on one rule of the gallery, and the `Run` that every Part III figure draws from.

`train_rule` generates the rule's data, builds its model (`glassbox.rules.gallery`), trains it with the book's loop
(`glassbox.train`) and records the rule error as it goes; `save_run`/`load_run` keep a run on disk for the command
line's `--figures-only`; `cached_run` keeps runs in the book's model cache (`glassbox.cache`), as `glassbox.zoo`
does, so that a rebuild of chapter 7 reuses what an earlier build trained (a clean build trains them all).
"""

from __future__ import annotations

import hashlib
import inspect
import os
import shutil
import time
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from glassbox import cache
from glassbox.model import Transformer
from glassbox.rules import base, definitions, parity
from glassbox.rules import data as data_module
from glassbox.rules.accuracy import rule_accuracy, rule_targets
from glassbox.rules.data import RuleData, all_windows, make_data, window_loss, window_sampler
from glassbox.rules.definitions import Rule, get_rule
from glassbox.rules.gallery import FAST_RECIPE, Recipe, Setup, get_setup, pytorch_default_init
from glassbox.runtime import training_seed
from glassbox.train import History, TrainConfig, load_checkpoint, train


@dataclass
class Run:
    """A trained model with everything its figures need."""

    name: str
    setup: Setup
    data: RuleData
    model: Transformer
    history: History
    recipe: Recipe
    seconds: float  # wall time of training, evaluations included

    @property
    def rule(self) -> Rule:
        return self.data.rule

    def at_step(self, step: int) -> Transformer:
        """The model as it was at checkpoint `step`."""
        if step not in self.history.checkpoints:
            raise ValueError(
                f"no checkpoint at step {step}; checkpoints every {self.recipe.train.checkpoint_every} steps"
            )
        return load_checkpoint(self.model, self.history.checkpoints[step]).eval()


def train_rule(
    name: str,
    recipe: Recipe = FAST_RECIPE,
    *,
    seed: int = 0,
    steps: int | None = None,
    checkpoint_dir: Path | None = None,
    progress: bool = True,
    setup: Setup | None = None,
) -> Run:
    """Generate the data of gallery entry `name`, build its model and train it, evaluating the validation loss and
    the rule error on the validation sequences as it goes. `setup` replaces the gallery's (e.g. to try a rule
    without the residual connection: `replace(get_setup("successor"), use_residual=False)`)."""
    setup = setup or get_setup(name)
    rule = get_rule(setup.rule)
    data = make_data(rule, setup.n_sequences, seed=seed)
    cfg = recipe.train if steps is None else replace(recipe.train, steps=steps)
    cfg = replace(cfg, seed=seed, checkpoint_dir=checkpoint_dir, progress=progress)
    torch.manual_seed(training_seed(seed))
    model = pytorch_default_init(Transformer(setup.model_config(rule.d_vocab, seed=seed)), seed)
    val_windows = all_windows(data.val, setup.n_ctx)

    targets = rule_targets(rule, data.val, setup.n_ctx)

    def rule_error(model: Transformer) -> dict[str, float]:
        return {"rule_error": 1 - rule_accuracy(model, data.val, rule, targets).overall}

    start = time.perf_counter()
    history = train(
        model,
        train_batches=window_sampler(data.train, setup.n_ctx, recipe.batch_size),
        val_batches=lambda generator: val_windows,
        cfg=cfg,
        loss_fn=window_loss,
        evaluate=rule_error,
    )
    return Run(name, setup, data, model, history, replace(recipe, train=cfg), time.perf_counter() - start)


def demo_windows(run: Run, n: int = 3, min_constrained: int = 2) -> tuple[list[list[int]], list[list[int]]]:
    """`n` windows of validation text for the per-sequence figures, each with its continuation (the window plus the
    token after it), from `n` different sequences.

    For a rule with `+` (plus_last_even and its kin) they are chosen as the seed project chose its demo sequences:
    each window holds at least two `+` that retrieve *different* even numbers, every `+` in it has its latest even
    number inside the window and after position 0 (an even number at position 0 is the model's one weak spot,
    which chapter 6 shows apart), none opens with a `+` (whose target would be a guess), and the last window ends
    in a `+`, so that its continuation is a retrieval. For other rules: windows in which the rule fixes at least
    `min_constrained` next tokens."""
    n_ctx, rule, windows, continuations = run.setup.n_ctx, run.rule, [], []

    def plus_demo(span: list[int], ends_in_plus: bool) -> bool:
        window = span[:-1]
        pluses = [i for i, t in enumerate(window) if t == rule.plus]
        latest = [rule.last_even(window, i) for i in pluses]
        return (
            window[0] != rule.plus
            and len(pluses) >= 2
            and None not in latest
            and min(latest) >= 1
            and len({window[j] for j in latest}) >= 2
            and (window[-1] == rule.plus) == ends_in_plus
        )

    def generic(span: list[int], ends_in_plus: bool) -> bool:
        return sum(rule.allowed(span, i) is not None for i in range(1, len(span))) >= min_constrained

    seed_like = rule.name == "plus_last_even"
    wanted, stride = (plus_demo, 1) if seed_like else (generic, n_ctx)
    for sequence in run.data.val:
        last = len(windows) == n - 1
        found = next(
            (
                sequence[start : start + n_ctx + 1]
                for start in range(0, len(sequence) - n_ctx, stride)
                if wanted(sequence[start : start + n_ctx + 1], last)
            ),
            None,
        )
        if found is not None:
            windows.append(found[:-1])
            continuations.append(found)
        if len(windows) == n:
            return windows, continuations
    raise ValueError(f"fewer than {n} validation windows of {rule.name} fit the demo")


def generations(model: Transformer, rule: Rule, starts: list[int], length: int = 40, seed: int = 0) -> list[list[int]]:
    """Sequences sampled (temperature 1, seeded) from `model`, one per start token."""
    out = model.generate(torch.tensor(starts)[:, None], max_new_tokens=length - 1, temperature=1.0, seed=seed)
    return out.tolist()


def save_run(run: Run, out: Path) -> Path:
    """Save what `--figures-only` needs (the model, its history with checkpoint files, the data) to out/run.pt.

    Plain data only (numbers, strings, lists, tensors), so `load_run` reads it with `weights_only=True`: a run.pt
    from elsewhere cannot run code. Checkpoint paths are stored relative to `out`, so a run folder can be moved or
    renamed (as `cached_run` does); the file is written beside and renamed, so a stopped save leaves no half file."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "run.pt"

    def portable(value):
        if isinstance(value, Path):
            resolved = value.resolve()
            return str(resolved.relative_to(out.resolve())) if resolved.is_relative_to(out.resolve()) else str(value)
        return value

    history = asdict(run.history) | {"checkpoints": {k: portable(v) for k, v in run.history.checkpoints.items()}}
    train_cfg = {k: portable(v) for k, v in asdict(run.recipe.train).items()}
    partial = path.with_name(f".run.pt.{os.getpid()}.partial")
    torch.save(
        {
            "format": RUN_FORMAT,
            "name": run.name,
            "setup": asdict(run.setup),  # the settings it was trained with (flags and --config included)
            "recipe": {"batch_size": run.recipe.batch_size, "train": train_cfg},
            "seconds": run.seconds,
            "model": run.model.state_dict(),
            "history": history,
            "train": run.data.train,
            "val": run.data.val,
        },
        partial,
    )
    os.replace(partial, path)
    return path


RUN_FORMAT = 2  # run.pt as plain data (1: pickled classes, read only with weights_only=False)


def load_run(out: Path) -> Run:
    """The run saved by `save_run` in `out`; one line saying what is wrong when there is none or it cannot be read."""
    path = out / "run.pt"
    if not path.exists():
        raise FileNotFoundError(f"no saved run in {out}: train first (without --figures-only)")
    try:
        saved = torch.load(path, weights_only=True)
        if not isinstance(saved, dict) or saved.get("format") != RUN_FORMAT:
            raise ValueError("not a run saved by this version")
    except Exception as error:  # a truncated, foreign or older file: say which, never a traceback
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:100]
        raise ValueError(
            f"cannot read the run saved in {path} ({reason}); train again without --figures-only"
        ) from None
    setup = Setup(**saved["setup"])
    rule = get_rule(setup.rule)
    model = Transformer(setup.model_config(rule.d_vocab))
    model.load_state_dict(saved["model"])

    def located(value):
        return out / value if isinstance(value, str) and not Path(value).is_absolute() else value

    train_cfg = saved["recipe"]["train"]
    train_cfg = TrainConfig(
        **train_cfg
        | {
            "betas": tuple(train_cfg["betas"]),
            "checkpoint_dir": None
            if train_cfg["checkpoint_dir"] is None
            else Path(located(train_cfg["checkpoint_dir"])),
        }
    )
    history = saved["history"]
    history = History(
        **history
        | {"checkpoints": {k: Path(located(v)) if isinstance(v, str) else v for k, v in history["checkpoints"].items()}}
    )
    return Run(
        saved["name"],
        setup,
        RuleData(rule, saved["train"], saved["val"]),
        model.eval(),
        history,
        Recipe(saved["recipe"]["batch_size"], train_cfg),
        saved["seconds"],
    )


def run_folder(name: str, recipe: Recipe, *, seed: int = 0, setup: Setup | None = None) -> Path:
    """Where `cached_run` keeps a run: named after the rule and a hash of everything that decides its weights — the
    setup, the recipe, the seed, the rules' generators and the data code, the torch version and thread count."""
    recipe = replace(recipe, train=replace(recipe.train, progress=True, checkpoint_dir=None))  # neither changes it
    decided_by = (
        repr(setup or get_setup(name)),
        repr(recipe),
        str(seed),
        hashlib.sha256("".join(map(inspect.getsource, (base, definitions, parity, data_module))).encode()).hexdigest(),
        torch.__version__,
        str(torch.get_num_threads()),
    )
    return cache.model_file(f"rule-{name}", *decided_by).with_suffix("")


def cached_run(name: str, recipe: Recipe = FAST_RECIPE, *, seed: int = 0, setup: Setup | None = None) -> Run:
    """`train_rule(name, recipe, …)`, from the cache when an earlier call stored the same run, else trained now and
    stored (written to a temporary folder and renamed, so a reader never sees half a run)."""
    folder = run_folder(name, recipe, seed=seed, setup=setup)
    if (folder / "run.pt").exists():
        try:
            return load_run(folder)
        except ValueError as error:  # unreadable: said in one line, then trained again below
            warnings.warn(str(error), stacklevel=2)
            shutil.rmtree(folder, ignore_errors=True)
    run = train_rule(name, recipe, seed=seed, setup=setup, progress=False)
    partial = folder.with_name(f".{folder.name}.{os.getpid()}.partial")
    save_run(run, partial)
    cache.write_provenance(partial / "run.pt")
    if not folder.exists():
        os.replace(partial, folder)
    else:  # another process stored it first
        shutil.rmtree(partial, ignore_errors=True)
    return run
