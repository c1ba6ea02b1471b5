"""The seed project's names, flags and figures, as `python -m glassbox.rules` answers them (chapter 6's command line).

The creating_transformer project that Part III grew out of named three configs differently, had flags this command
line does without, and numbered its figures its own way. A reader who knows it types those; each is accepted, or
answered in one line with what does its job here, and `--map` prints seed figure → file → chapter figure.

Longer than 300 lines: two tables, the seed's flags (what each did, what does its job here) and its 31 figures
(one field a line), which chapter 6's table and the command's answers are read from.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NamedTuple, NoReturn

SEED_NAMES = {  # the seed project's config names that the book spells out
    "default": "odd_even_index",
    "paritygt10": "two_token_parity",
    "lucky7_no_resid": "lucky7_no_residual",
}
# The seed project's main.py flags: what each did there, what does its job here, and whether the flag is ignored
# with a note (it asks for nothing this command does not do anyway) or refused (it asks for something else).
SEED_FLAGS = {
    "--visualize": (
        "drew the figures from its saved checkpoint without training",
        "that is --figures-only, which this run uses instead",
        "read",
    ),
    "--force-retrain": (
        "retrained even when a checkpoint was saved",
        "every run without --figures-only trains afresh, so the flag is ignored",
        "ignored",
    ),
    "--video": (
        "drew only the learning-dynamics animations",
        "every run writes them with the figures, so the flag is ignored (--figures-only --figure learning draws "
        "only them)",
        "ignored",
    ),
    "--video-qkv": (
        "drew only the animation of the embeddings and Q/K/V",
        "use --figure learning_qkv (with --figures-only to draw it from a saved run)",
        "refused",
    ),
    "--fps": ("set the animations' frame rate", "the frame rate is fixed: leave the flag out", "refused"),
    "--journal": (
        "also wrote A4 journal-sized copies of the figures",
        "there are no A4 versions: leave the flag out",
        "refused",
    ),
    "--reseed": (
        "searched sequences sampled from the model for a new demo sequence",
        "the demo windows are chosen from the held-out text (rules.demo_windows): leave the flag out",
        "refused",
    ),
    "--visualize-all": (
        "drew the figures at every saved checkpoint",
        "draw one checkpoint with --figures-only --step N, in a loop over the steps you want",
        "refused",
    ),
}
SEED_FLAGS["--force"] = SEED_FLAGS["--force-retrain"]  # its README's spelling


class SeedFigure(NamedTuple):
    """One figure of the seed project: its number and name in the design document, its file at the project's HEAD
    (which renumbered several), the file this command writes, and the figure(s) of chapter 6 or 6b that show it (their
    labels, which the page turns into "Fig. N", and in words)."""

    design: str
    head: str
    file: str
    figures: tuple[str, ...]
    where: str


# The seed project's figures, in the design document's order (its HEAD renumbers 02 ↔ 03 and 11 → 12, 12 → 13,
# 13 → 14, 14 → 16, 15 → 17), the file this command writes, and the figure of chapter 6 (or 6b) that shows it.
# Chapter 6's table "The project's figures, here" is this list; tests/test_rules_cli_aliases.py holds them together.
FIGURE_MAP = (
    SeedFigure(
        "01 architecture",
        "01_architecture_overview",
        "01_architecture",
        ("fig-glassbox-architecture",),
        "ch06, the whole model",
    ),
    SeedFigure(
        "02 learning curve",
        "03_learning_curve",
        "02_learning_curve",
        ("fig-glassbox-learning-curve",),
        "ch06, loss and rule error",
    ),
    SeedFigure(
        "03 training data",
        "02_training_data",
        "03_training_data",
        ("fig-glassbox-training-data",),
        "ch06, six training sequences",
    ),
    SeedFigure(
        "04 generated sequences",
        "04_generated_sequences",
        "04_generated_sequences",
        ("fig-glassbox-generated",),
        "ch06, sampled before and after training",
    ),
    SeedFigure(
        "05 token embeddings",
        "05_token_embeddings",
        "05_token_embeddings",
        ("fig-glassbox-embeddings",),
        "ch06, embeddings as tables",
    ),
    SeedFigure(
        "06 embedding scatter",
        "05_token_embeddings (its scatters)",
        "06_embedding_scatter",
        ("fig-glassbox-embedding-scatter",),
        "ch06, embeddings as points",
    ),
    SeedFigure(
        "07 output probabilities",
        "06_output_probs, 07_output_probs_embed",
        "07_output_probabilities",
        ("fig-glassbox-landscape",),
        "ch06, the twelve landscapes",
    ),
    SeedFigure(
        "output landscape summary",
        "07_output_landscape_summary",
        "06_2_output_landscape_summary",
        ("fig-glassbox-landscape-summary",),
        "ch06, argmax and entropy maps",
    ),
    SeedFigure(
        "08 QKV transforms",
        "08_qkv_transforms",
        "08_qkv_transforms",
        ("fig-glassbox-qkv",),
        "ch06, W_Q, W_K, W_V and what they make",
    ),
    SeedFigure(
        "08 extended",
        "extended/08_qkv_transforms_extended",
        "08_2_qkv_per_dimension",
        ("fig-views-qkv-per-dimension",),
        "ch06b, one coordinate at a time",
    ),
    SeedFigure(
        "09 Q/K space",
        "09_qk_space, 09_10_qk_space_combined",
        "09_qk_space",
        ("fig-glassbox-qk-space",),
        "ch06, queries and keys",
    ),
    SeedFigure(
        "10 Q/K focus",
        "10_qk_space_focus",
        "10_qk_space_focus",
        ("fig-glassbox-qk-focus",),
        "ch06, the query of + at position 5",
    ),
    SeedFigure(
        "+ query row of blocks",
        "11_1_qk_full_heatmap_last_row",
        "11_1_plus_score_row",
        ("fig-glassbox-plus-score-row",),
        "ch06, the + query's scores",
    ),
    SeedFigure(
        "supplementary 09 score grid",
        "11_qk_full_heatmap",
        "supplementary_score_grid",
        ("fig-glassbox-score-grid",),
        "ch06, every query against every key",
    ),
    SeedFigure(
        "11 probability heatmap with values",
        "12_probability_heatmap_with_values",
        "11_probability_heatmap_with_values",
        ("fig-glassbox-landscape-values",),
        "ch06, landscapes with values",
    ),
    SeedFigure(
        "12 sequence embeddings",
        "13_sequence_embeddings",
        "12_sequence_embeddings",
        ("fig-glassbox-sequence-embeddings",),
        "ch06, the first window's embeddings",
    ),
    SeedFigure(
        "13 QK attention",
        "14_qk_attention",
        "13_qk_attention",
        ("fig-glassbox-qk-attention",),
        "ch06, queries, keys and patterns",
    ),
    SeedFigure(
        "q·k gradients",
        "15_q_dot_product_gradients",
        "15_3_query_dot_product_gradients",
        ("fig-views-query-gradients",),
        "ch06b, each query as a direction",
    ),
    SeedFigure(
        "14 value and output",
        "16_value_output",
        "14_value_output",
        ("fig-glassbox-value-output",),
        "ch06, values and the head's output",
    ),
    SeedFigure(
        "15 residuals",
        "17_residuals",
        "15_residual_stream",
        ("fig-glassbox-residual",),
        "ch06, the residual connection at work",
    ),
    SeedFigure(
        "15 residuals on the argmax map",
        "17_residuals (its map)",
        "15_2_residual_on_argmax_map",
        ("fig-glassbox-residual-argmax",),
        "ch06, arrows on the argmax map",
    ),
    SeedFigure(
        "16–18 value demos",
        "18_final_on_output_grid",
        "16_value_demo0_* … 18_value_demo2_*",
        (
            "fig-glassbox-value-demo-0",
            "fig-glassbox-value-demo-0-values",
            "fig-glassbox-value-demo-0-final",
            "fig-glassbox-value-demo-1",
            "fig-glassbox-value-demo-2",
        ),
        "ch06, the windows on every landscape",
    ),
    SeedFigure(
        "frozen output",
        "frozen_output/frozen_output_pos*",
        "frozen_output_pos*",
        ("fig-views-frozen-output",),
        "ch06b, one position, every attention output",
    ),
    SeedFigure(
        "supplementary 07 QKV overview",
        "supplementary/07_qkv_overview",
        "supplementary_07_qkv_overview",
        ("fig-views-qkv-overview",),
        "ch06b, the head on one page",
    ),
    SeedFigure(
        "supplementary 14 attention matrix",
        "supplementary/14_attention_matrix",
        "supplementary_14_attention_matrix",
        ("fig-views-attention-matrix",),
        "ch06b, position by position",
    ),
    SeedFigure(
        "supplementary 16 value arrows",
        "supplementary/16_value_arrows",
        "15_residual_stream",
        ("fig-glassbox-residual",),
        "ch06, the residual figure draws the same arrows",
    ),
    SeedFigure(
        "learning dynamics 01",
        "learning_dynamics/01_embeddings_scatterplots",
        "learning_embeddings",
        ("fig-glassbox-gif-embeddings",),
        "ch06, embeddings over training",
    ),
    SeedFigure(
        "learning dynamics 02",
        "learning_dynamics/02_embedding_qkv_comprehensive",
        "learning_qkv",
        ("fig-glassbox-gif-qkv",),
        "ch06, Q/K/V over training",
    ),
    SeedFigure(
        "learning dynamics 03",
        "learning_dynamics/03_qk_embedding_space",
        "learning_qk_space",
        ("fig-glassbox-gif-qk-space",),
        "ch06, the Q/K space over training",
    ),
    SeedFigure(
        "learning dynamics 04",
        "learning_dynamics/04_qk_space_plus_attention",
        "learning_qk_attention",
        ("fig-glassbox-gif-attention",),
        "ch06, one window's attention over training",
    ),
    SeedFigure(
        "learning dynamics 05",
        "learning_dynamics/05_output_heatmaps_with_embeddings",
        "learning_output_landscapes",
        ("fig-glassbox-gif-landscapes",),
        "ch06, the landscapes over training",
    ),
)


def figure_map() -> str:
    """The seed's figures (design document, then HEAD file) → this command's files → the chapter figure, as a table
    for the terminal."""
    rows = [("seed project", "its file at HEAD", "file here (--figure)", "chapter")]
    rows += [(f.design, f.head, f.file, f.where) for f in FIGURE_MAP]
    widths = [max(len(row[k]) for row in rows) for k in range(3)]
    return "\n".join(f"{a:{widths[0]}}  {b:{widths[1]}}  {c:{widths[2]}}  {d}" for a, b, c, d in rows)


def seed_flag_answer(flag: str) -> str:
    """What `flag` of the seed project did, and what does its job here, in one sentence."""
    did, here, _ = SEED_FLAGS[flag]
    return f"the seed's {flag} {did}; here {here}"


def seed_name_note(name: str) -> str:
    """The note printed for one of the seed project's config names."""
    return f"note: {name} (the seed project's configs/{name}.yaml) is {SEED_NAMES[name]} here"


def _usage_error(message: str) -> NoReturn:
    print(f"python -m glassbox.rules: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def seed_flags(argv: list[str], error: Callable[[str], NoReturn] = _usage_error) -> list[str]:
    """The seed project's flags in `argv` answered: `--visualize` becomes `--figures-only`, `--force-retrain`,
    `--force` and `--video` are dropped with a note; each other one is a usage error (`error`, argparse's
    `parser.error` from the command line: exit status 2) that says what the flag did and what does its job here."""
    out = []
    for arg in argv:
        flag = arg.split("=", 1)[0]
        if flag not in SEED_FLAGS:
            out.append(arg)
        elif SEED_FLAGS[flag][2] == "refused":
            error(seed_flag_answer(flag))
        else:
            print(f"note: {seed_flag_answer(flag)}")
            if flag == "--visualize":
                out.append("--figures-only")
    return out


def figure_names(wanted: list[str] | None) -> list[str] | None:
    """`--figure 8 15` as the seed wrote it: a bare number is the two-digit prefix of our file names (08, 15)."""
    if wanted is None:
        return None
    return [f"{int(w):02d}" if w.isdigit() else w for w in wanted]
