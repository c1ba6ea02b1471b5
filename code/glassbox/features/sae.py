"""`SparseAutoencoder`: a dictionary of sparse features learned from a model's activations, chapter 14.

The layout and the loss are SAELens's standard SAE (v6): `W_enc [d_in, d_sae]`, `b_enc`, `W_dec [d_sae, d_in]`,
`b_dec`, the decoder bias subtracted from the input before encoding; the loss is the squared reconstruction error
summed over `d_in` plus an L1 penalty on each feature's activation times the norm of its decoder row. SAELens itself
does not import with TransformerLens 4 (chapter 14 says why), so the book trains this one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import torch
from jaxtyping import Float, Int
from torch import Tensor, nn

from glassbox.cache import cached_model, model_file
from glassbox.runtime import training_seed


@dataclass(frozen=True)
class SAERecipe:
    """Everything that decides an SAE's weights, given its training activations."""

    hook_name: str = "blocks.1.hook_resid_pre"  # the residual stream between the two layers
    expansion: int = 8  # d_sae = expansion · d_in features
    l1_coefficient: float = 0.6  # L0 ≈ 24 of 512 on chapter 5's model; 0.3 keeps 56 active, 1.0 only 14 but loses more
    steps: int = 2000
    batch_size: int = 512
    lr: float = 3e-3
    seed: int = 0


def sae_encode(
    x: Float[Tensor, "... d_in"],
    W_enc: Float[Tensor, "d_in d_sae"],
    b_enc: Float[Tensor, "d_sae"],
    b_dec: Float[Tensor, "d_in"],
) -> Float[Tensor, "... d_sae"]:
    """Feature activations f = ReLU((x − b_dec) W_enc + b_enc)."""
    return torch.relu((x - b_dec) @ W_enc + b_enc)


def sae_loss(
    x: Float[Tensor, "batch d_in"],
    feature_acts: Float[Tensor, "batch d_sae"],
    W_dec: Float[Tensor, "d_sae d_in"],
    b_dec: Float[Tensor, "d_in"],
    l1_coefficient: float,
) -> Float[Tensor, ""]:
    """‖x − x̂‖² + λ Σ_f f · ‖W_dec[f]‖, averaged over the batch, with x̂ = f W_dec + b_dec."""
    reconstruction = feature_acts @ W_dec + b_dec
    mse = (reconstruction - x).pow(2).sum(-1).mean()
    sparsity = (feature_acts * W_dec.norm(dim=-1)).sum(-1).mean()
    return mse + l1_coefficient * sparsity


class SparseAutoencoder(nn.Module):
    """x ↦ f = ReLU((x − b_dec) W_enc + b_enc) ↦ x̂ = f W_dec + b_dec."""

    def __init__(self, d_in: int, d_sae: int, seed: int = 0):
        super().__init__()
        generator = torch.Generator().manual_seed(training_seed(seed))
        W_dec = torch.randn(d_sae, d_in, generator=generator)
        W_dec = 0.1 * W_dec / W_dec.norm(dim=-1, keepdim=True)  # short decoder rows, as SAELens starts
        self.W_dec = nn.Parameter(W_dec)
        self.W_enc = nn.Parameter(W_dec.T.clone())  # the encoder starts as the decoder's transpose
        self.b_enc = nn.Parameter(torch.zeros(d_sae))
        self.b_dec = nn.Parameter(torch.zeros(d_in))

    def encode(self, x: Float[Tensor, "... d_in"]) -> Float[Tensor, "... d_sae"]:
        return sae_encode(x, self.W_enc, self.b_enc, self.b_dec)

    def decode(self, feature_acts: Float[Tensor, "... d_sae"]) -> Float[Tensor, "... d_in"]:
        return feature_acts @ self.W_dec + self.b_dec

    def forward(self, x: Float[Tensor, "... d_in"]) -> Float[Tensor, "... d_in"]:
        return self.decode(self.encode(x))


@torch.no_grad()
def collect_activations(
    model: nn.Module, windows: Int[Tensor, "batch pos"], hook_name: str, batch_size: int = 256
) -> Float[Tensor, "batch pos d_in"]:
    """The activations at `hook_name` for every window of tokens."""
    chunks = []
    for start in range(0, len(windows), batch_size):
        _, cache = model.run_with_cache(windows[start : start + batch_size], names_filter=hook_name)
        chunks.append(cache[hook_name])
    return torch.cat(chunks)


def weights_digest(model: nn.Module) -> str:
    """A short hash of a model's weights: what an SAE trained on its activations depends on."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode() + tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def train_sae(acts: Float[Tensor, "n d_in"], recipe: SAERecipe, decided_by: str) -> SparseAutoencoder:
    """Train an SAE with Adam on shuffled batches of `acts` (cached: `decided_by` names where the activations came
    from, e.g. the model's weights file)."""
    d_in = acts.shape[-1]
    path = model_file("sae", repr(recipe), decided_by, str(tuple(acts.shape)), torch.__version__)

    def untrained() -> SparseAutoencoder:
        return SparseAutoencoder(d_in, recipe.expansion * d_in, seed=recipe.seed)

    def trained() -> SparseAutoencoder:
        sae = untrained()
        with torch.no_grad():
            sae.b_dec.copy_(acts.mean(0))  # start the decoder bias at the data's mean
        optimizer = torch.optim.Adam(sae.parameters(), lr=recipe.lr)
        generator = torch.Generator().manual_seed(training_seed(recipe.seed) + 1)
        for _ in range(recipe.steps):
            x = acts[torch.randint(0, len(acts), (recipe.batch_size,), generator=generator)]
            loss = sae_loss(x, sae.encode(x), sae.W_dec, sae.b_dec, recipe.l1_coefficient)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        return sae

    return cached_model(path, untrained, trained)


@dataclass(frozen=True)
class SAEStats:
    """What SAE users look at first: sparsity, reconstruction, and how often each feature fires."""

    l0: float  # mean number of features active on a token
    explained_variance: float  # 1 − ‖x − x̂‖² / ‖x − mean(x)‖², over all tokens
    density: Float[Tensor, "d_sae"]  # fraction of tokens on which each feature fires


@torch.no_grad()
def sae_stats(sae: SparseAutoencoder, acts: Float[Tensor, "n d_in"]) -> SAEStats:
    feature_acts = sae.encode(acts)
    residual = (acts - sae.decode(feature_acts)).pow(2).sum()
    total = (acts - acts.mean(0)).pow(2).sum()
    fires = (feature_acts > 0).float()
    return SAEStats(fires.sum(-1).mean().item(), 1 - (residual / total).item(), fires.mean(0))


def spliced_loss(
    model: nn.Module, sae: nn.Module, tokens: Int[Tensor, "batch pos"], hook_name: str
) -> Float[Tensor, ""]:
    """The model's mean next-token loss with the activation at `hook_name` replaced by the SAE's reconstruction."""

    def splice(activation: Tensor, hook) -> Tensor:
        return sae(activation)

    with torch.no_grad():
        return model.run_with_hooks(tokens, return_type="loss", fwd_hooks=[(hook_name, splice)])


def zero_ablated_loss(model: nn.Module, tokens: Int[Tensor, "batch pos"], hook_name: str) -> Float[Tensor, ""]:
    """The model's mean next-token loss with the activation at `hook_name` set to zero."""
    with torch.no_grad():
        return model.run_with_hooks(
            tokens, return_type="loss", fwd_hooks=[(hook_name, lambda a, hook: torch.zeros_like(a))]
        )


def loss_recovered(clean: float, spliced: float, zero: float) -> float:
    """How much of the loss that zero-ablation destroys the SAE's reconstruction keeps: 1 perfect, 0 no better than
    zeros."""
    return (zero - spliced) / (zero - clean)
