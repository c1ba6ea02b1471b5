"""Figure functions for the book: each takes tensors and returns a matplotlib `Figure` (no pyplot state).

`attention` (chapter 1), `positions` (chapter 2), `model` (chapter 4), `training` (chapter 5), `planar` and
`animation` (Part III), `analysis` (Part IV), `gpt2` (Part V), `features` (Part VI); `core` holds the shared heatmap
and figure helpers.
"""

from glassbox.plots.attention import attention_pattern, causal_masking, softmax_saturation
from glassbox.plots.model import parameter_breakdown
from glassbox.plots.positions import activation_functions, layer_norm_effect, position_encodings, position_similarity
from glassbox.plots.training import loss_by_position, loss_curves, training_variants

__all__ = [
    "attention_pattern",
    "causal_masking",
    "softmax_saturation",
    "activation_functions",
    "layer_norm_effect",
    "parameter_breakdown",
    "loss_by_position",
    "loss_curves",
    "training_variants",
    "position_encodings",
    "position_similarity",
]
