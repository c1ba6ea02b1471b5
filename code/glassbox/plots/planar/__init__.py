"""Figures of the glass-box models of Part III (chapters 6 and 7): every weight and activation of a one-layer,
one-head model whose residual stream is 2-dimensional, drawn directly — no projection needed.

Each function returns a `Figure`; they take the trained `Transformer` and the `Rule` it learned (for token names and
for colouring right and wrong predictions). Every figure is at most the page's column wide, with text of at least
8 pt (`glassbox.plots.core`); right and wrong carry ✓/✗ beside their colours. The maths they draw is in
`glassbox.analysis.planar`. One module per kind of figure, in chapter 6's order:

- `style`: token colours by kind (even blue, odd orange, `+` purple; Okabe–Ito, with a marker per kind) and the
  drawing helpers the others share;
- `labels`: names placed when a figure is drawn, off the markers and off each other;
- `basics`: the architecture, the learning curve, data and generations, the embeddings (figures 01–06);
- `landscapes`: output landscapes, the argmax/entropy summary, the value demos (07, 11, 06_2, 15_2, 16–18), the
  argmax map with and without the MLP;
- `heads`: W_Q, W_K, W_V, the Q/K space, one query's field, the `+` score row, the score grid (08–10, 11_1);
- `windows`: one window through the model: embeddings, attention, values, residual (12–15).
"""

from glassbox.plots.planar.argmax_maps import landscape_summary, mlp_landscapes
from glassbox.plots.planar.basics import (
    architecture,
    embedding_scatter,
    embeddings,
    generated_sequences,
    learning_curve,
    training_data,
)
from glassbox.plots.planar.heads import plus_score_row, qk_focus, qk_space, qkv_transforms, score_grid
from glassbox.plots.planar.landscapes import VALUE_DEMO_STAGES, output_landscape, value_demo
from glassbox.plots.planar.style import EVEN, KIND_MARKER, LANDSCAPE, ODD, PLUS, TEXT, token_colour
from glassbox.plots.planar.windows import qk_attention, residual_stream, sequence_embeddings, value_output

__all__ = [
    "EVEN",
    "KIND_MARKER",
    "LANDSCAPE",
    "ODD",
    "PLUS",
    "TEXT",
    "VALUE_DEMO_STAGES",
    "architecture",
    "embedding_scatter",
    "embeddings",
    "generated_sequences",
    "landscape_summary",
    "learning_curve",
    "mlp_landscapes",
    "output_landscape",
    "plus_score_row",
    "qk_attention",
    "qk_focus",
    "qk_space",
    "qkv_transforms",
    "residual_stream",
    "score_grid",
    "sequence_embeddings",
    "token_colour",
    "training_data",
    "value_demo",
    "value_output",
]
