"""Chapter 6, "A transformer you can see": exercise stubs (fill in each body)."""

import torch
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor


def landscape_probs(
    resid_mid: Float[Tensor, "... d_model"],
    W_in: Float[Tensor, "d_model d_mlp"],
    b_in: Float[Tensor, "d_mlp"],
    W_out: Float[Tensor, "d_mlp d_model"],
    b_out: Float[Tensor, "d_model"],
    W_U: Float[Tensor, "d_model d_vocab"],
    b_U: Float[Tensor, "d_vocab"],
) -> Float[Tensor, "... d_vocab"]:
    """What the model predicts from a point of the residual stream taken right after attention: the ReLU MLP's
    output is added back to the stream (the second residual connection), then the unembedding and a softmax over
    the vocabulary give P(next token). This is the map the output landscapes of chapter 6 draw."""
    raise NotImplementedError
