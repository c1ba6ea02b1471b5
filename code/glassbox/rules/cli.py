"""Train a glass-box model on an integer-sequence rule, measure how well it follows the rule, and (from a terminal)
write every figure of chapters 6 and 7.

    python -m glassbox.rules plus_last_even --out figures/      # train, then write every figure and the GIFs
    python -m glassbox.rules lucky7 --steps 4000 --seed 1
    python -m glassbox.rules plus_last_even --out figures/ --figures-only   # from the checkpoints of a former run

The models are those of chapter 6: a 2-D residual stream, one attention head of size d_model without biases and
without an output projection (its W_O is fixed to the identity), a ReLU MLP of 32 units, an unembedding with a
bias, and no LayerNorm. Each prediction sees the last `n_ctx` tokens (8 for most rules).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from glassbox.analysis import planar
from glassbox.plots import animation
from glassbox.plots import planar as g
from glassbox.plots.core import png_bytes
from glassbox.rules.accuracy import rule_accuracy
from glassbox.rules.gallery import FAST_RECIPE, GALLERY, SEED_RECIPE
from glassbox.rules.training import Run, demo_windows, generations, load_run, save_run, train_rule


def figure_makers(run: Run) -> dict[str, Callable[[], Figure]]:
    """Every figure of chapter 6 for `run`, by file name (without .png), each drawn when called. Models with
    d_model > 2 get the figures that do not draw the residual stream as a plane."""
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
    if model.cfg.d_model == 2:
        focus = rule.plus if rule.has_plus else 7
        figures |= {
            "05_token_embeddings": lambda: g.embeddings(model, rule),
            "06_embedding_scatter": lambda: g.embedding_scatter(model, rule),
            "07_output_probabilities": lambda: g.output_landscape(model, rule),
            "08_qkv_transforms": lambda: g.qkv_transforms(model, rule),
            "09_qk_space": lambda: g.qk_space(model, rule),
            "10_qk_space_focus": lambda: g.qk_focus(model, rule, focus, min(5, model.cfg.n_ctx - 1)),
            "11_probability_heatmap_with_values": lambda: g.output_landscape(
                model, rule, planar.self_attention_points(model)
            ),
            "12_sequence_embeddings": lambda: g.sequence_embeddings(model, rule, windows[0]),
            "13_qk_attention": lambda: g.qk_attention(model, rule, windows),
            "14_value_output": lambda: g.value_output(model, rule, windows),
            "15_residual_stream": lambda: g.residual_stream(model, rule, windows, continuations),
            **{
                f"{16 + k}_value_demo{k}_{stage}": (
                    lambda k=k, stage=stage: g.value_demo(model, rule, windows[k], continuations[k], stage=stage)
                )
                for k in range(3)
                for stage in g.VALUE_DEMO_STAGES
            },
            "supplementary_score_grid": lambda: g.score_grid(model, rule),
        }
    return figures


def animation_makers(run: Run) -> dict[str, Callable[[], Any]]:
    """The four learning-dynamics animations of chapter 6 for `run`, by file name (without .gif); none for a model
    whose d_model is not 2."""
    if run.model.cfg.d_model != 2:
        return {}
    rule = run.rule
    windows, _ = demo_windows(run)
    plus_or_evens = [t for t in (0, 4, 8) if t < rule.d_vocab] + ([rule.plus] if rule.has_plus else [])
    return {
        "learning_embeddings": lambda: animation.embeddings_over_training(run),
        "learning_qkv": lambda: animation.qkv_over_training(run),
        "learning_qk_attention": lambda: animation.qk_attention_over_training(run, windows[0]),
        "learning_output_landscapes": lambda: animation.output_landscapes_over_training(run, plus_or_evens),
    }


def write_figures(run: Run, out: Path, gifs: bool = True) -> list[Path]:
    """Write every figure of chapter 6 for `run` as PNG files (and the learning-dynamics GIFs) into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in figure_makers(run).items():
        path = out / f"{name}.png"
        path.write_bytes(png_bytes(draw()))
        written.append(path)
    for name, make in (animation_makers(run) if gifs else {}).items():
        written.append(make().save(out / f"{name}.gif"))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m glassbox.rules", description=__doc__.split("\n\n")[0])
    parser.add_argument("rule", help=f"one of: {', '.join(GALLERY)}")
    parser.add_argument(
        "--out", type=Path, default=None, help="folder for the figures, GIFs and checkpoints (default: figures/RULE)"
    )
    parser.add_argument("--steps", type=int, default=None, help="training steps (default: the book's recipe)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--seed-recipe",
        action="store_true",
        help="train with the seed project's recipe (batch 8, lr 1e-3, 20,000 steps)",
    )
    parser.add_argument(
        "--figures-only",
        action="store_true",
        help="no training: draw from the checkpoints saved in --out by a former run",
    )
    parser.add_argument("--no-gifs", action="store_true", help="skip the learning-dynamics animations")
    args = parser.parse_args(argv)
    if args.rule not in GALLERY:
        parser.error(f"unknown rule {args.rule!r}; known rules: {', '.join(GALLERY)}")
    out = args.out or Path("figures") / args.rule
    if args.figures_only:
        try:
            run = load_run(out)
        except FileNotFoundError as error:
            parser.error(str(error))
    else:
        recipe = SEED_RECIPE if args.seed_recipe else FAST_RECIPE
        run = train_rule(args.rule, recipe, seed=args.seed, steps=args.steps, checkpoint_dir=out / "checkpoints")
        save_run(run, out)
        accuracy = rule_accuracy(run.model, run.data.val, run.rule)
        groups = ", ".join(f"{g}: {accuracy.correct[g]}/{n}" for g, n in accuracy.counts.items())
        print(
            f"{args.rule}: trained {run.recipe.train.steps} steps in {run.seconds:.1f} s; "
            f"validation rule accuracy {accuracy.overall:.2%} ({groups})"
        )
    written = write_figures(run, out, gifs=not args.no_gifs)
    print(f"wrote {len(written)} files to {out}")
    return 0
