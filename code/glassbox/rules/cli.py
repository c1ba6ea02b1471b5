"""Train a glass-box model on an integer-sequence rule, measure how well it follows the rule, and (from a terminal)
write every figure of chapters 6 and 7.

    python -m glassbox.rules plus_last_even --out figures/      # train, then write every figure, GIF and MP4
    python -m glassbox.rules lucky7 --steps 4000 --seed 1
    python -m glassbox.rules plus_last_even --out figures/ --figures-only   # from the checkpoints of a former run
    python -m glassbox.rules plus_last_even --figures-only --step 500 --figure 07 15   # two figures, mid-training
    python -m glassbox.rules lucky7 --config lucky7.toml --d-model 3 --lr 0.01      # settings from a file and flags

Each rule trains with the recipe of the chapter that reports it (chapter 6's for plus_last_even, chapter 7's for
the others; `--recipe` chooses), and the headline is the chapter's number: accuracy on the learnable cases of
the chapter's fresh test sequences, 500 for plus_last_even (chapter 6's, seed 2026) and 300 for the others
(chapter 7's, seed 1): `TEST_SETS`.

The models are those of chapter 6: a 2-D residual stream, one attention head of size d_model without biases and
without an output projection (its W_O is fixed to the identity), a ReLU MLP of 32 units, an unembedding with a
bias, and no LayerNorm. Each prediction sees the last `n_ctx` tokens (8 for most rules).

Longer than 300 lines: the table of every figure and animation the command draws (and why it refuses some for a
stream that is not a plane) sits beside the arguments that select them, which are all checked before anything
trains; the seed project's names and flags live in `glassbox.rules.seed_project`.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomllib

from glassbox.rules.seed_project import SEED_NAMES, figure_map, figure_names, seed_flags, seed_name_note
from glassbox.rules.settings import settings_problem, setup_problem

if TYPE_CHECKING:  # the heavy imports (torch, matplotlib) wait until the arguments are parsed
    from matplotlib.figure import Figure

    from glassbox.rules.training import Run

# Everything below that trains or draws imports torch and matplotlib inside the function: `--help`, `--map` and
# any error in the arguments answer in well under a second.
RULE_NAMES = (  # rules.SETUPS, by name (tests/test_rules_cli_aliases.py keeps the two equal)
    "plus_last_even", "lucky7", "lucky7_no_residual", "step_back", "plus_max_of_two", "plus_means_even",
    "copy_modulo", "successor", "conditional_transform", "lookup_permutation", "odd_even_index",
    "even_to_odd_transition", "even_repeat_last_odd", "even_abs_diff", "even_greater_than_10", "parity_based",
    "two_token_parity",
)  # fmt: skip
_seed_flags, _figure_names = seed_flags, figure_names  # the names the tests knew
RECIPE_NAMES = ("chapter6", "chapter7b", "gallery", "seed")


def figure_makers(run: Run) -> dict[str, Callable[[], Figure]]:
    """Every figure of chapters 6 and 6b for `run`, by file name (without .png), each drawn when called. A model
    whose d_model is not 2 gets those that need no plane (01–04, 08_2 per dimension, the attention matrix), its
    token embeddings projected on their first two principal components (d_model ≥ 3) and its attention per head;
    `refused_figures` names the others and why."""
    from glassbox.plots import gallery as gallery_plots
    from glassbox.plots import planar as g
    from glassbox.plots import planar_views as views
    from glassbox.rules.training import demo_windows, generations

    model, rule = run.model, run.rule
    windows, continuations = demo_windows(run)
    starts = [s[0] for s in run.data.val[:4]]
    figures = {
        "01_architecture": lambda: g.architecture(model),
        "02_learning_curve": lambda: g.learning_curve(run.history),
        "03_training_data": lambda: g.training_data(rule, run.data.train[:6]),
        "04_generated_sequences": lambda: g.generated_sequences(
            rule, generations(run.at_step(0), rule, starts), generations(model, rule, starts)
        ),
    }
    focus = rule.plus if rule.has_plus else 7
    plane = {
        "05_token_embeddings": lambda: g.embeddings(model, rule),
        "06_embedding_scatter": lambda: g.embedding_scatter(model, rule),
        "06_2_output_landscape_summary": lambda: g.landscape_summary(model, rule),
        "07_output_probabilities": lambda: g.output_landscape(model, rule),
        "08_qkv_transforms": lambda: g.qkv_transforms(model, rule),
        "09_qk_space": lambda: g.qk_space(model, rule),
        "10_qk_space_focus": lambda: g.qk_focus(model, rule, focus, min(5, model.cfg.n_ctx - 1)),
        "11_probability_heatmap_with_values": lambda: g.output_landscape(model, rule, values=True),
        **({"11_1_plus_score_row": lambda: g.plus_score_row(model, rule)} if rule.has_plus else {}),
        "12_sequence_embeddings": lambda: g.sequence_embeddings(model, rule, windows[0]),
        "13_qk_attention": lambda: g.qk_attention(model, rule, windows),
        "14_value_output": lambda: g.value_output(model, rule, windows),
        "15_residual_stream": lambda: g.residual_stream(model, rule, windows, continuations),
        # the second window, as chapter 6's figure (fig-glassbox-residual-argmax) draws it: the first is drawn by
        # 15_residual_stream just before, and the chapter checks its claims about this map on the second
        "15_2_residual_on_argmax_map": lambda: g.landscape_summary(model, rule, windows[1], continuations[1]),
        **{
            f"{16 + k}_value_demo{k}_{stage}": (
                lambda k=k, stage=stage: g.value_demo(model, rule, windows[k], continuations[k], stage=stage)
            )
            for k in range(3)
            for stage in g.VALUE_DEMO_STAGES
        },
        "supplementary_score_grid": lambda: g.score_grid(model, rule),
        # the seed's extended and supplementary figures (chapter 6b)
        "08_2_qkv_per_dimension": lambda: views.qkv_per_dimension(model, rule),
        "15_3_query_dot_product_gradients": lambda: views.query_gradients(model, rule, windows[0]),
        "supplementary_07_qkv_overview": lambda: views.qkv_overview(model, rule, windows[0]),
        "supplementary_14_attention_matrix": lambda: views.attention_matrix(model, rule, windows),
        **{
            f"frozen_output_pos{p}_{rule.vocab[token]}": (lambda p=p: views.frozen_output(model, rule, windows[0], p))
            for p, token in enumerate(windows[0])
        },
    }
    if model.cfg.d_model == 2:
        return figures | plane
    any_width = {name: plane[name] for name in ANY_WIDTH}  # nothing in them is drawn in the stream
    if model.cfg.d_head > 4:  # one row of tables per head dimension
        del any_width["08_2_qkv_per_dimension"]
    if model.cfg.d_model >= 3:
        any_width["05_token_embeddings_pca"] = lambda: gallery_plots.embedding_pca(model, rule)
    any_width["13_attention_per_head"] = lambda: gallery_plots.attention_windows(model, rule, windows[0])
    return figures | any_width


ANY_WIDTH = ("08_2_qkv_per_dimension", "supplementary_14_attention_matrix")
# The names `figure_makers` and `animation_makers` give, known before anything trains, so that `--figure` is
# checked first (tests/test_rules_cli_errors.py holds them equal). The frozen-output figures are named after the
# token at each position of the first demo window, which only a trained run knows: FROZEN + "3_*" stands for them.
FIGURES = ("01_architecture", "02_learning_curve", "03_training_data", "04_generated_sequences")
VALUE_DEMO_STAGES = ("values", "arrows", "final")  # glassbox.plots.planar.VALUE_DEMO_STAGES
PLANE_FIGURES = (
    "05_token_embeddings", "06_embedding_scatter", "06_2_output_landscape_summary", "07_output_probabilities",
    "08_qkv_transforms", "09_qk_space", "10_qk_space_focus", "11_probability_heatmap_with_values",
    "11_1_plus_score_row", "12_sequence_embeddings", "13_qk_attention", "14_value_output", "15_residual_stream",
    "15_2_residual_on_argmax_map",
    *(f"{16 + k}_value_demo{k}_{stage}" for k in range(3) for stage in VALUE_DEMO_STAGES),
    "supplementary_score_grid", "08_2_qkv_per_dimension", "15_3_query_dot_product_gradients",
    "supplementary_07_qkv_overview", "supplementary_14_attention_matrix",
)  # fmt: skip
FROZEN = "frozen_output_pos"
ANIMATIONS = (
    "learning_embeddings", "learning_qkv", "learning_qk_attention", "learning_output_landscapes", "learning_qk_space",
)  # fmt: skip


def known_figures(
    has_plus: bool, d_model: int, d_head: int, n_ctx: int | None, gifs: bool = True
) -> tuple[list[str], dict[str, str]]:
    """The figures and animations a run of this shape gets, and those it is refused with the reason, by name as
    `figure_makers`, `animation_makers` and `refused_figures` give them, without a trained run: each frozen-output
    figure as FROZEN + "P_*" (any position, FROZEN + "*", where `n_ctx` is None)."""
    positions = ["*"] if n_ctx is None else [f"{p}_*" for p in range(n_ctx)]
    plane = [name for name in PLANE_FIGURES if has_plus or name != "11_1_plus_score_row"]
    plane += [FROZEN + p for p in positions]
    animations = list(ANIMATIONS) if gifs else []
    if d_model == 2:
        return [*FIGURES, *plane, *animations], {}
    any_width = [name for name in ANY_WIDTH if name != "08_2_qkv_per_dimension" or d_head <= 4]
    any_width += ["05_token_embeddings_pca"] if d_model >= 3 else []
    any_width += ["13_attention_per_head"]
    reasons = {
        name: f"draws the residual stream as a plane: it needs d_model=2, this model has d_model={d_model}"
        for name in [*plane, *ANIMATIONS]
        if name not in any_width
    }
    if "08_2_qkv_per_dimension" in reasons:
        reasons["08_2_qkv_per_dimension"] = f"draws one row per head dimension, at most 4; this head has {d_head}"
    return [*FIGURES, *any_width], reasons


def figures_problem(
    wanted: list[str] | None, names: list[str], refused: dict[str, str] | None = None, gifs: bool = True
) -> str | None:
    """What is wrong with `--figure` for a run that draws `names` (refusing `refused`), in one line, or None: the
    message `select` gives after drawing, given before anything trains."""
    if not gifs:
        for w in wanted or []:
            if not any(_named(name, w) for name in names) and any(_named(name, w) for name in ANIMATIONS):
                return f"{w} is an animation, and --no-gifs skips the animations"
    try:
        select(dict.fromkeys(names, _undrawn), wanted, refused)
    except ValueError as error:
        return str(error)
    return None


def _undrawn() -> None:
    """What `figures_problem` gives `select` to stand for each figure: their names are checked, nothing is drawn."""


def _named(name: str, wanted: str) -> bool:
    """Whether `--figure wanted` picks `name`: a prefix of it, or, for a name ending in * (known_figures), any
    name that starts as it does."""
    return name.startswith(wanted) or (name.endswith("*") and wanted.startswith(name[:-1]))


def refused_figures(run: Run) -> dict[str, str]:
    """The figures and animations of chapter 6 that `run`'s model does not get, each with the reason: those that
    draw the residual stream (or the head's space) as a plane, for a model whose d_model is not 2."""
    from glassbox.model import Transformer

    d_model, d_head = run.model.cfg.d_model, run.model.cfg.d_head
    if d_model == 2:
        return {}
    two_d = replace(run, model=Transformer(replace(run.model.cfg, d_model=2, d_head=2, n_heads=1)))
    drawn = figure_makers(run)
    reasons = {
        name: f"draws the residual stream as a plane: it needs d_model=2, this model has d_model={d_model}"
        for name in [*figure_makers(two_d), *animation_makers(two_d)]
        if name not in drawn
    }
    if "08_2_qkv_per_dimension" in reasons and d_head > 4:
        reasons["08_2_qkv_per_dimension"] = f"draws one row per head dimension, at most 4; this head has {d_head}"
    return reasons


def animation_makers(run: Run) -> dict[str, Callable[[], Any]]:
    """The five learning-dynamics animations of chapter 6 for `run`, by file name (without .gif); none for a model
    whose d_model is not 2."""
    if run.model.cfg.d_model != 2:
        return {}
    from glassbox.plots import animation
    from glassbox.rules.training import demo_windows

    windows, _ = demo_windows(run)
    return {
        "learning_embeddings": lambda: animation.embeddings_over_training(run),
        "learning_qkv": lambda: animation.qkv_over_training(run),
        "learning_qk_attention": lambda: animation.qk_attention_over_training(run, windows[0]),
        "learning_output_landscapes": lambda: animation.output_landscapes_over_training(run),
        "learning_qk_space": lambda: animation.qk_space_over_training(run),
    }


def recipes() -> dict[str, Any]:
    """The training recipes by name (`--recipe`)."""
    from glassbox.rules.gallery import FAST_RECIPE, GALLERY_RECIPE, MORE_RECIPE, SEED_RECIPE

    return {"chapter6": FAST_RECIPE, "gallery": GALLERY_RECIPE, "chapter7b": MORE_RECIPE, "seed": SEED_RECIPE}


def setup_fields() -> set[str]:
    """The model and data settings a flag or `--config` may change: the fields of `rules.Setup` but its rule and
    title (tests/test_rules_cli_aliases.py keeps this list equal to them)."""
    return {"d_model", "n_ctx", "d_mlp", "use_residual", "n_sequences", "n_heads"}


TRAIN_FIELDS = {"steps", "lr", "weight_decay", "eval_every", "checkpoint_every", "lr_schedule"}
# The fresh test sequences of the chapter that reports each rule, so that the headline is that chapter's number:
# chapter 6 scores plus_last_even on 500 sequences (seed 2026), chapter 7 the others on 300 (seed 1).
TEST_SETS = {"plus_last_even": (500, 2026)}
TEST_SEQUENCES, TEST_SEED = 300, 1


def default_recipe(rule: str) -> str:
    """The recipe of the chapter that reports `rule`: chapter 6 trains plus_last_even, chapter 7 the gallery, 7b the
    seed project's seven parity rules."""
    from glassbox.rules.gallery import MORE_GALLERY

    if rule in MORE_GALLERY:
        return "chapter7b"
    return "chapter6" if rule == "plus_last_even" else "gallery"


def select(
    makers: dict[str, Callable], wanted: list[str] | None, refused: dict[str, str] | None = None
) -> dict[str, Callable]:
    """The makers whose name starts with one of `wanted` ("07", "15_residual", "learning_qkv"), all if None; an
    unknown one is an error naming what exists, one this model cannot have (`refused`: name → reason) says why."""
    if not wanted:
        return makers
    unknown = [w for w in wanted if not any(_named(name, w) for name in makers)]
    for w in unknown:
        for name, reason in (refused or {}).items():
            if _named(name, w):
                raise ValueError(f"figure {name} is not drawn for this model: it {reason}")
    if unknown:
        raise ValueError(f"no figure {', '.join(unknown)}; figures: {', '.join(makers)}")
    return {name: make for name, make in makers.items() if any(_named(name, w) for w in wanted)}


def write_figures(
    run: Run, out: Path, gifs: bool = True, figures: list[str] | None = None, videos: bool | None = None
) -> list[Path]:
    """Write the figures of chapter 6 for `run` as PNG files and the learning-dynamics animations as GIFs and MP4
    videos into `out`: all of them, or those `figures` names. `videos=None` writes MP4 where `imageio-ffmpeg` is
    installed (else GIFs only, with a one-line notice)."""
    from glassbox.plots.core import png_bytes

    if videos is None:
        videos = importlib.util.find_spec("imageio_ffmpeg") is not None
        if gifs and not videos:
            print("MP4 videos skipped: they need imageio-ffmpeg (pip install imageio-ffmpeg); writing GIFs only")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    animations = animation_makers(run) if gifs else {}
    refused = refused_figures(run)
    wanted_figures = select({**figure_makers(run), **animations}, figures, refused)
    if refused and not figures:
        print(f"not drawn for d_model={run.model.cfg.d_model} (they draw a plane): {', '.join(refused)}")
    for name, draw in wanted_figures.items():
        if name in animations:
            continue
        path = out / f"{name}.png"
        path.write_bytes(png_bytes(draw()))
        written.append(path)
    for name, make in animations.items():
        if name not in wanted_figures:
            continue
        gif = make()
        written.append(gif.save(out / f"{name}.gif"))
        if videos:
            written.append(gif.save_mp4(out / f"{name}.mp4"))
    return written


def _settings(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict[str, Any]:
    """Model, data and training settings: a TOML file's (`--config`), then each flag given on top."""
    SETUP_FIELDS = setup_fields()
    settings: dict[str, Any] = {}
    if args.config is not None:
        try:
            settings = tomllib.loads(args.config.read_text())
        except (OSError, tomllib.TOMLDecodeError) as error:
            parser.error(f"cannot read --config {args.config}: {error}")
        unknown = set(settings) - SETUP_FIELDS - TRAIN_FIELDS - {"batch_size", "seed"}
        if unknown:
            parser.error(
                f"unknown settings in {args.config}: {', '.join(sorted(unknown))}; known: "
                f"{', '.join(sorted(SETUP_FIELDS | TRAIN_FIELDS | {'batch_size', 'seed'}))}"
            )
    for name in (*SETUP_FIELDS, *TRAIN_FIELDS, "batch_size", "seed"):
        value = getattr(args, name, None)
        if value is not None:
            settings[name] = value
    problem = settings_problem(settings)
    if problem:
        parser.error(problem)
    return settings


def headline(run: Run) -> str:
    """What the chapter that reports the rule prints: accuracy on the learnable cases of its fresh test sequences,
    then every group."""
    import numpy as np

    from glassbox.rules.accuracy import rule_accuracy

    n_sequences, seed = TEST_SETS.get(run.name, (TEST_SEQUENCES, TEST_SEED))
    test = run.rule.generate(n_sequences, np.random.default_rng(seed))
    accuracy = rule_accuracy(run.model, test, run.rule)
    groups = ", ".join(f"{g}: {accuracy.correct[g]}/{n}" for g, n in accuracy.counts.items())
    return (
        f"rule accuracy on the learnable cases of {n_sequences} fresh sequences {accuracy.learnable:.2%} "
        f"(all constrained positions {accuracy.overall:.2%}; {groups})"
    )


def stall_note(run: Run, seed: int) -> str | None:
    """For chapter 6's rule, one line when this run stopped short of the chapter's bar on the learnable cases of its
    validation sequences (training stalls from some starts; `rules.learned_run` then trains the next seed), or None."""
    from glassbox.rules.accuracy import rule_accuracy
    from glassbox.rules.retry import BAR

    if run.name != "plus_last_even":
        return None
    reached = rule_accuracy(run.model, run.data.val, run.rule).learnable
    if reached >= BAR:
        return None
    return (
        f"note: this run reached {reached:.2%} of the learnable validation cases, short of chapter 6's bar of "
        f"{BAR:.1%}: training stalls from some starts, and chapter 6 then trains the next seed "
        f"(here: --seed {seed + 1})"
    )


def out_problem(out: Path) -> str | None:
    """What stops the command from writing into folder `out`, in one line, or None: a file in its place (or in
    place of a folder above it, or of its checkpoints/ folder), or a folder it cannot write in."""
    where = out
    while not where.exists():
        if where.is_symlink():
            return f"--out {out}: {where} is a link to nothing"
        if where.parent == where:
            break
        where = where.parent
    if where == out and not out.is_dir():
        return f"--out {out} is a file, not a folder"
    if not where.is_dir():
        return f"--out {out}: {where} is a file, so the folder cannot be made"
    if not os.access(where, os.W_OK | os.X_OK):
        return f"--out {out}: cannot write in {where}"
    if (out / "checkpoints").exists() and not (out / "checkpoints").is_dir():
        return f"--out {out}: {out / 'checkpoints'} is a file; the checkpoints need that name for a folder"
    return None


def step_problem(step: int | None, steps: int, every: int) -> str | None:
    """What is wrong with `--step` for a run of `steps` steps that checkpoints every `every` (and at its last
    step), or None."""
    if step is None or (0 <= step <= steps and (step % every == 0 or step == steps)):
        return None
    saved = [*range(0, steps, every), steps]
    shown = ", ".join(map(str, saved)) if len(saved) <= 6 else f"{saved[0]}, {saved[1]}, {saved[2]}, … {steps}"
    return f"no checkpoint at step {step}; this run checkpoints every {every} steps: {shown}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m glassbox.rules",
        description=__doc__.split("\n\n")[0],
        epilog="The seed project's names default, paritygt10 and lucky7_no_resid are accepted for odd_even_index, "
        "two_token_parity and lucky7_no_residual; its flag --visualize is read as --figures-only, --force-retrain, "
        "--force and --video are ignored with a note, and its other flags are answered with what does their job "
        "here. --map prints which file is which figure of the seed project and of chapter 6.",
    )
    parser.add_argument("rule", nargs="?", help=f"one of: {', '.join(RULE_NAMES)}")
    parser.add_argument("--map", action="store_true", help="print seed figure → file → chapter figure, and stop")
    parser.add_argument(
        "--out", type=Path, default=None, help="folder for the figures, GIFs and checkpoints (default: figures/RULE)"
    )
    parser.add_argument("--recipe", choices=RECIPE_NAMES, help="training recipe (default: the chapter's)")
    parser.add_argument("--seed-recipe", action="store_true", help="the same as --recipe seed")
    parser.add_argument("--config", type=Path, help="a TOML file of settings (the flags below, as key = value)")
    parser.add_argument("--steps", type=int, help="training steps")
    parser.add_argument("--lr", type=float, help="peak learning rate")
    parser.add_argument("--batch-size", dest="batch_size", type=int, help="windows per batch")
    parser.add_argument("--seed", type=int, help="seed of the data, the initial weights and the batches (default 0)")
    parser.add_argument("--d-model", dest="d_model", type=int, help="width of the residual stream")
    parser.add_argument("--n-ctx", dest="n_ctx", type=int, help="context: tokens each prediction sees")
    parser.add_argument("--d-mlp", dest="d_mlp", type=int, help="hidden units of the MLP")
    parser.add_argument("--n-sequences", dest="n_sequences", type=int, help="sequences generated (10 %% validation)")
    parser.add_argument(
        "--no-residual", dest="use_residual", action="store_const", const=False, help="drop the residual connection"
    )
    parser.add_argument(
        "--figures-only",
        action="store_true",
        help="no training: draw from the run saved in --out by a former run of the same rule",
    )
    parser.add_argument("--step", type=int, help="draw the model as it was at this checkpoint step")
    parser.add_argument(
        "--figure", nargs="+", help="only these figures, by number or name prefix (8, 07, 15_2, learning_qkv)"
    )
    parser.add_argument("--no-gifs", action="store_true", help="skip the learning-dynamics animations (GIF and MP4)")
    args = parser.parse_args(seed_flags(list(sys.argv[1:] if argv is None else argv), parser.error))
    if args.map:
        print(figure_map())
        return 0
    # Every argument is checked here, before torch loads, as far as it can be without the rule's settings: a
    # mistake answers at once, in one line, with exit status 2.
    if args.rule is None:
        parser.error("the following arguments are required: rule")
    if args.rule in SEED_NAMES:
        print(seed_name_note(args.rule))
        args.rule = SEED_NAMES[args.rule]
    if args.rule not in RULE_NAMES:
        parser.error(f"unknown rule {args.rule!r}; known rules: {', '.join(RULE_NAMES)}")
    args.figure = figure_names(args.figure)
    gifs = not args.no_gifs
    every_shape = [*known_figures(True, 2, 2, None, gifs)[0], *known_figures(True, 3, 3, None, gifs)[0]]
    for problem in (
        figures_problem(args.figure, list(dict.fromkeys(every_shape)), gifs=gifs),
        None if args.step is None or args.step >= 0 else f"--step must be 0 or more, got {args.step}",
    ):
        if problem:
            parser.error(problem)
    settings = _settings(args, parser)
    out = args.out or Path("figures") / args.rule
    problem = out_problem(out)
    if problem:
        parser.error(problem)
    if args.figures_only:
        if settings or args.recipe or args.seed_recipe:
            given = [*settings, *(["recipe"] if args.recipe or args.seed_recipe else [])]
            parser.error(f"--figures-only draws a saved run; it takes no settings ({', '.join(given)})")
        if not (out / "run.pt").exists():
            parser.error(f"no saved run in {out}: train first (without --figures-only)")
    from glassbox.rules.definitions import get_rule
    from glassbox.rules.gallery import SETUPS, Recipe
    from glassbox.rules.training import load_run, save_run, train_rule
    from glassbox.runtime import book_threads

    book_threads()  # as the chapters train (glassbox.runtime): one thread, faster here, and the numbers match
    if args.figures_only:
        try:
            run = load_run(out)
        except (FileNotFoundError, ValueError) as error:
            parser.error(str(error))
        if run.name != args.rule:
            parser.error(f"the run saved in {out} is of {run.name!r}, not {args.rule!r}: give its --out folder")
        cfg = run.model.cfg
        problem = figures_problem(
            args.figure, *known_figures(run.rule.has_plus, cfg.d_model, cfg.d_head, cfg.n_ctx, gifs), gifs
        )
        if problem:
            parser.error(problem)
    else:
        recipe_name = "seed" if args.seed_recipe else args.recipe or default_recipe(args.rule)
        recipe = recipes()[recipe_name]
        setup = replace(SETUPS[args.rule], **{k: v for k, v in settings.items() if k in setup_fields()})
        problem = setup_problem(args.rule, setup.d_model, setup.n_heads, setup.n_ctx)
        if problem:
            parser.error(problem)
        train_cfg = replace(recipe.train, **{k: v for k, v in settings.items() if k in TRAIN_FIELDS})
        recipe = Recipe(settings.get("batch_size", recipe.batch_size), train_cfg)
        if not recipe.train.checkpoint_every:  # the animations, --step and figure 04 draw from checkpoints
            recipe = Recipe(recipe.batch_size, replace(recipe.train, checkpoint_every=recipe.train.eval_every))
        has_plus, d_head = get_rule(setup.rule).has_plus, setup.d_model // setup.n_heads
        for problem in (  # the last checks before training: those that need the rule's model and recipe
            figures_problem(args.figure, *known_figures(has_plus, setup.d_model, d_head, setup.n_ctx, gifs), gifs),
            step_problem(args.step, recipe.train.steps, recipe.train.checkpoint_every),
        ):
            if problem:
                parser.error(problem)
        run = train_rule(
            args.rule, recipe, seed=settings.get("seed", 0), checkpoint_dir=out / "checkpoints", setup=setup
        )
        save_run(run, out)
        print(f"{args.rule}: trained {run.recipe.train.steps} steps ({recipe_name} recipe) in {run.seconds:.1f} s")
        if note := stall_note(run, settings.get("seed", 0)):
            print(note)
    if args.step is not None:
        try:
            run = replace(run, model=run.at_step(args.step))
        except ValueError as error:
            parser.error(f"{error}; saved steps: {', '.join(map(str, sorted(run.history.checkpoints)))}")
    print(f"{args.rule}{'' if args.step is None else f' at step {args.step}'}: {headline(run)}")
    try:
        written = write_figures(run, out, gifs=gifs, figures=args.figure)
    except ValueError as error:
        parser.error(str(error))
    print(f"wrote {len(written)} files to {out}")
    return 0
