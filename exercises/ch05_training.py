"""Chapter 5, "Training a small language model": exercise stubs (fill in each body)."""

import torch
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor


def temperature_probs(logits: Float[Tensor, "... d_vocab"], temperature: float) -> Float[Tensor, "... d_vocab"]:
    """The distribution that sampling at `temperature` draws the next token from: softmax(logits / temperature).

    Temperature 0 means greedy decoding: all the probability on the most likely token (the first one, on a tie).
    A negative temperature is a ValueError.
    """
    raise NotImplementedError()
