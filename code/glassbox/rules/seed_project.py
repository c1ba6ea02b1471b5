"""The seed project's names, flags and figures, as `python -m glassbox.rules` answers them (chapter 6's command line).

The creating_transformer project that Part III grew out of named three configs differently, had flags this command
line does without, and numbered its figures its own way. A reader who knows it types those; each is accepted, or
answered in one line with what does its job here, and `--map` prints seed figure → file → chapter figure.
"""

from __future__ import annotations

SEED_NAMES = {  # the seed project's config names that the book spells out
    "default": "odd_even_index",
    "paritygt10": "two_token_parity",
    "lucky7_no_resid": "lucky7_no_residual",
}
SEED_FLAGS = {  # the seed project's main.py flags, and what does their job here
    "--visualize": "--figures-only (draw from the run saved in --out)",
    "--force-retrain": "nothing: every run without --figures-only trains afresh",
    "--video": "nothing: the animations are written by default (GIF, and MP4 where imageio-ffmpeg is installed)",
    "--video-qkv": "--figure learning_qkv",
    "--fps": "nothing: the frame rate is fixed",
    "--journal": "nothing: there are no A4 versions; the PNGs are 1,400 px wide",
    "--reseed": "nothing: the demo windows are chosen from the validation text (rules.demo_windows)",
    "--visualize-all": "a loop over the rules, one --figures-only run each",
}
# The seed project's figures (numbered as in its design document; its HEAD renumbers 02 ↔ 03 and 11 → 12, 13 → 14,
# 14 → 16, 15 → 17), the file this command writes, and the figure of chapter 6 (or 6b) that shows it.
FIGURE_MAP = (
    ("01 architecture", "01_architecture", "ch06, the whole model"),
    ("02 learning curve", "02_learning_curve", "ch06, loss and rule error"),
    ("03 training data", "03_training_data", "ch06, six training sequences"),
    ("04 generated sequences", "04_generated_sequences", "ch06, sampled before and after training"),
    ("05 token embeddings", "05_token_embeddings", "ch06, embeddings as tables"),
    ("06 embedding scatter", "06_embedding_scatter", "ch06, embeddings as points"),
    ("07 output probabilities", "07_output_probabilities", "ch06, the twelve landscapes"),
    ("07 output landscape summary (HEAD)", "06_2_output_landscape_summary", "ch06, argmax and entropy maps"),
    ("08 QKV transforms", "08_qkv_transforms", "ch06, W_Q, W_K, W_V and what they make"),
    ("08 extended (HEAD)", "08_2_qkv_per_dimension", "ch06b, one coordinate at a time"),
    ("09 Q/K space", "09_qk_space", "ch06, queries and keys"),
    ("10 Q/K focus", "10_qk_space_focus", "ch06, the query of + at position 5"),
    ("11_1 + query row of blocks (HEAD)", "11_1_plus_score_row", "ch06, the + query's scores"),
    ("11 probability heatmap with values", "11_probability_heatmap_with_values", "ch06, landscapes with values"),
    ("12 sequence embeddings", "12_sequence_embeddings", "ch06, the first window's embeddings"),
    ("13 QK attention", "13_qk_attention", "ch06, queries, keys and patterns"),
    ("14 value and output", "14_value_output", "ch06, values and the head's output"),
    ("15 residuals", "15_residual_stream", "ch06, the residual connection at work"),
    ("15 residuals on the argmax map (HEAD 17)", "15_2_residual_on_argmax_map", "ch06, arrows on the argmax map"),
    ("15 q·k gradients (HEAD)", "15_3_query_dot_product_gradients", "ch06b, each query as a direction"),
    ("16–18 value demos", "16_value_demo0_* … 18_value_demo2_*", "ch06, the windows on every landscape"),
    ("frozen_output (HEAD)", "frozen_output_pos*", "ch06b, one position, every attention output"),
    ("supplementary 07 QKV overview", "supplementary_07_qkv_overview", "ch06b, the head on one page"),
    ("supplementary 09 / HEAD 11 score grid", "supplementary_score_grid", "ch06, every query against every key"),
    ("supplementary 14 attention matrix", "supplementary_14_attention_matrix", "ch06b, position by position"),
    ("supplementary 16 value arrows", "15_residual_stream", "ch06, the residual figure draws the same arrows"),
    ("learning dynamics 01–05", "learning_*.gif (.mp4)", "ch06, the five animations"),
)


def figure_map() -> str:
    """The seed's figures → this command's files → the chapter figure, as a table for the terminal."""
    width = max(len(seed) for seed, _, _ in FIGURE_MAP)
    file_width = max(len(file) for _, file, _ in FIGURE_MAP)
    lines = [f"{'seed project':{width}}  {'file (--figure takes its number or name)':{file_width}}  chapter"]
    lines += [f"{seed:{width}}  {file:{file_width}}  {where}" for seed, file, where in FIGURE_MAP]
    return "\n".join(lines)


def seed_flags(argv: list[str]) -> list[str]:
    """The seed project's flags in `argv` answered: `--visualize` becomes `--figures-only`, `--figure 8` is `08`;
    each other one is an error that names what does its job here."""
    out = []
    for arg in argv:
        flag = arg.split("=", 1)[0]
        if flag == "--visualize":
            print("note: --visualize is the seed's name for --figures-only")
            out.append("--figures-only")
        elif flag in ("--force-retrain", "--force", "--video"):
            print(f"note: {flag} is not needed here: {SEED_FLAGS.get(flag, SEED_FLAGS['--force-retrain'])}")
        elif flag in SEED_FLAGS:
            raise SystemExit(f"python -m glassbox.rules: error: {flag} is the seed's flag; here: {SEED_FLAGS[flag]}")
        else:
            out.append(arg)
    return out


def figure_names(wanted: list[str] | None) -> list[str] | None:
    """`--figure 8 15` as the seed wrote it: a bare number is the two-digit prefix of our file names (08, 15)."""
    if wanted is None:
        return None
    return [f"{int(w):02d}" if w.isdigit() else w for w in wanted]
