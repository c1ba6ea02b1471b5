"""Circuits read from the weights of an attention-only model (chapter 9), after "A Mathematical Framework for
Transformer Circuits" (Elhage et al., 2021).

The QK circuit `W_E W_Q W_Kᵀ W_Eᵀ` says which key token a query token attends to; the OV circuit
`W_E W_V W_O W_U` says what a head adds to the logits when it attends to a token. Both are low-rank products, kept
as TransformerLens `FactoredMatrix`es. Path decomposition splits a model's logits into the direct path, one path per
head and one per pair of heads (virtual weights). Composition scores measure how much a later head reads what an
earlier one writes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from jaxtyping import Float, Int
from torch import Tensor
from transformer_lens import FactoredMatrix

from glassbox.model import Transformer


def _check_head(model: Transformer, layer: int, head: int) -> None:
    if not (0 <= layer < model.cfg.n_layers and 0 <= head < model.cfg.n_heads):
        raise ValueError(
            f"no head L{layer}H{head} in a model of {model.cfg.n_layers} layers × {model.cfg.n_heads} heads"
        )


def qk_circuit(model: Transformer, layer: int, head: int) -> FactoredMatrix:
    """`W_E W_Q W_Kᵀ W_Eᵀ` [d_vocab query, d_vocab key]: the attention score of a query token for a key token,
    through the direct path (embedding to head, no position, no bias)."""
    _check_head(model, layer, head)
    return FactoredMatrix(model.W_E @ model.W_Q[layer, head], (model.W_E @ model.W_K[layer, head]).T)


def positional_qk_circuit(model: Transformer, layer: int, head: int) -> FactoredMatrix:
    """`W_pos W_Q W_Kᵀ W_posᵀ` [query position, key position]: the score a head gives by position alone."""
    _check_head(model, layer, head)
    return FactoredMatrix(model.W_pos @ model.W_Q[layer, head], (model.W_pos @ model.W_K[layer, head]).T)


def ov_circuit(model: Transformer, layer: int, head: int) -> FactoredMatrix:
    """`W_E W_V W_O W_U` [d_vocab attended, d_vocab predicted]: what the head adds to each output logit when it
    attends (fully) to a token, through the direct path."""
    _check_head(model, layer, head)
    return FactoredMatrix(model.W_E @ model.W_V[layer, head], model.W_O[layer, head] @ model.W_U)


def copying_score(circuit: FactoredMatrix) -> float:
    """The eigenvalue copying score of an OV circuit (Elhage et al., 2021): Σλ / Σ|λ| over its eigenvalues λ (real
    part of the sum). 1 when every eigenvalue is positive — reading a token raises that token's logit, a copier —
    −1 when all are negative (the head suppresses what it reads), near 0 for a random matrix. Computed from the
    d_head × d_head product of the factors, which has the same nonzero eigenvalues."""
    eigenvalues = circuit.eigenvalues
    return (eigenvalues.sum().real / eigenvalues.abs().sum()).item()


def k_composition_circuit(model: Transformer, earlier: tuple[int, int], later: tuple[int, int]) -> FactoredMatrix:
    """`W_E W_Q (W_E W_V W_O W_K)ᵀ` [query token, token at the key]: the score the later head's query token gives a
    key position whose residual stream holds the earlier head's output on a token (its OV circuit), through the
    later head's keys — K-composition, e.g. an induction head reading a previous-token head."""
    (l1, h1), (l2, h2) = earlier, later
    _check_head(model, l1, h1)
    _check_head(model, l2, h2)
    if l1 >= l2:
        raise ValueError(f"the earlier head must be in an earlier layer, got layers {l1} and {l2}")
    written = model.W_E @ model.W_V[l1, h1] @ model.W_O[l1, h1]  # [d_vocab, d_model]: what the earlier head writes
    return FactoredMatrix(model.W_E @ model.W_Q[l2, h2], (written @ model.W_K[l2, h2]).T)


def composition_score(left: Float[Tensor, "rows inner"], right: Float[Tensor, "inner_right cols"]) -> float:
    """‖left · right‖_F / (‖left‖_F ‖right‖_F): how much of what `left` writes `right` reads (0 to 1).

    For random matrices it is small (about 1/√d for d×d matrices); 1 when the output space of `left` lines up with
    the input space of `right` along their largest singular directions.
    """
    if left.ndim != 2 or right.ndim != 2 or left.shape[1] != right.shape[0]:
        raise ValueError(
            f"composition needs left [a, b] and right [b, c], got {tuple(left.shape)} and {tuple(right.shape)}"
        )
    return ((left @ right).norm() / (left.norm() * right.norm())).item()


def all_composition_scores(model: Transformer, mode: str) -> Float[Tensor, "layer_1 head_1 layer_2 head_2"]:
    """Q-, K- or V-composition score of every earlier head (layer_1, head_1) with every later head (layer_2, head_2).

    The earlier head writes with its OV matrix `W_V W_O`; the later head reads it through its query (Q: the
    earlier OV times `W_Q W_Kᵀ`), its key (K: times `W_K W_Qᵀ`) or its value (V: times `W_V W_O`). Pairs whose
    second head is not in a later layer score 0, as in TransformerLens's `all_composition_scores`.
    """
    if mode not in ("Q", "K", "V"):
        raise ValueError(f"mode must be 'Q', 'K' or 'V', got {mode!r}")
    L, H = model.cfg.n_layers, model.cfg.n_heads
    ov = model.W_V @ model.W_O  # [layer, head, d_model, d_model]
    reads = {"Q": model.W_Q @ model.W_K.transpose(-1, -2), "K": model.W_K @ model.W_Q.transpose(-1, -2), "V": ov}[mode]
    scores = torch.zeros(L, H, L, H)
    for l1 in range(L):
        for l2 in range(l1 + 1, L):
            for h1 in range(H):
                for h2 in range(H):
                    scores[l1, h1, l2, h2] = composition_score(ov[l1, h1], reads[l2, h2])
    return scores


@dataclass(frozen=True)
class PathDecomposition:
    """The logits of an attention-only model split into paths; `logits.sum(0)` equals the model's logits.

    `labels[i]` names path i: "direct" (embedding straight to the unembedding), "L0H1" (through one head),
    "L0H1→L1H2" (through two heads: a virtual weight), or "biases" (everything the biases add).
    """

    labels: list[str]
    logits: Float[Tensor, "path batch pos d_vocab"]

    def __getitem__(self, label: str) -> Float[Tensor, "batch pos d_vocab"]:
        return self.logits[self.labels.index(label)]


@torch.no_grad()
def path_decomposition(model: Transformer, tokens: Int[Tensor, "batch pos"]) -> PathDecomposition:
    """Split the logits on `tokens` into one term per path through the heads, with the attention patterns of this run.

    Holding the patterns fixed, every layer is linear in the residual stream, so the stream is a sum over paths:
    each head maps the part of the stream a path carries to `A (x W_V) W_O`, a new, longer path. A head's value
    bias gives `A 1 b_V W_O = b_V W_O` (pattern rows sum to one), which with `b_O` and `b_U` goes to "biases".
    Needs an attention-only model without LayerNorm (LayerNorm divides by a norm of the whole stream).
    """
    cfg = model.cfg
    if not cfg.attn_only or cfg.normalization_type is not None:
        raise ValueError("path decomposition needs an attention-only model without LayerNorm")
    tokens = model.validate_tokens(tokens)
    _, cache = model.run_with_cache(tokens)
    paths: dict[str, Tensor] = {
        "direct": cache["embed"] + (cache["pos_embed"] if cfg.positional_embedding != "none" else 0)
    }
    bias = torch.zeros_like(paths["direct"])
    for layer in range(cfg.n_layers):
        pattern = cache["pattern", layer]  # [batch, head, query, key]
        streams = list(paths.items()) + [("biases", bias)]  # what this layer reads: the paths so far
        for head in range(cfg.n_heads):
            name = f"L{layer}H{head}"
            W_OV = model.W_V[layer, head] @ model.W_O[layer, head]  # [d_model, d_model]
            for label, stream in streams:
                moved = torch.einsum("bqk,bkm,mn->bqn", pattern[:, head], stream, W_OV)
                if label == "biases":
                    bias = bias + moved
                else:
                    paths[name if label == "direct" else f"{label}→{name}"] = moved
            bias = bias + model.b_V[layer, head] @ model.W_O[layer, head]
        bias = bias + model.b_O[layer]
    labels = list(paths) + ["biases"]
    stacked = torch.stack([paths[label] for label in labels[:-1]] + [bias]) @ model.W_U  # [path, batch, pos, vocab]
    stacked[-1] += model.b_U
    return PathDecomposition(labels=labels, logits=stacked)


@dataclass(frozen=True)
class ScoreDecomposition:
    """One head's attention scores split by where its query and its key come from: `parts[i, j]` is the score that
    source `labels[i]` on the query side and source `labels[j]` on the key side contribute, before the causal mask.
    Summed over both source axes it is the head's score (`hook_attn_scores` where the mask allows)."""

    labels: list[str]
    parts: Float[Tensor, "q_source k_source batch query key"]


@torch.no_grad()
def decompose_attention_scores(
    model: Transformer, tokens: Int[Tensor, "batch pos"], layer: int, head: int
) -> ScoreDecomposition:
    """Split head (layer, head)'s attention scores by source (ARENA's `decompose_attn_scores`). Without LayerNorm the
    residual stream entering `layer` is a sum — token embedding, positional embedding, each earlier head's output,
    each earlier MLP's output, and the output biases — so its query q = Σ_i x_i W_Q + b_Q and key k = Σ_j x_j W_K + b_K
    split into one part per source (the projection biases b_Q, b_K go with the output biases, "biases"), and the
    score q·k / √d_head into one part per pair of sources."""
    _check_head(model, layer, head)
    if model.cfg.normalization_type is not None:
        raise ValueError("decompose_attention_scores needs a model without LayerNorm, whose residual stream is a sum")
    _, cache = model.run_with_cache(model.validate_tokens(tokens))
    labels, sources = ["embed"], [cache["hook_embed"]]
    if "hook_pos_embed" in cache:
        labels, sources = [*labels, "pos_embed"], [*sources, cache["hook_pos_embed"]]
    biases = torch.zeros_like(model.b_O[0])
    for earlier in range(layer):
        for h in range(model.cfg.n_heads):
            labels.append(f"L{earlier}H{h}")
            sources.append(cache[f"blocks.{earlier}.attn.hook_z"][:, :, h] @ model.W_O[earlier, h])
        biases = biases + model.b_O[earlier]
        if not model.cfg.attn_only:
            labels.append(f"L{earlier}.mlp")
            sources.append(cache[f"blocks.{earlier}.hook_mlp_out"] - model.blocks[earlier].mlp.b_out)
            biases = biases + model.blocks[earlier].mlp.b_out
    x = torch.stack(sources)  # [source, batch, pos, d_model]
    q = torch.cat(
        [
            x @ model.W_Q[layer, head],
            (biases @ model.W_Q[layer, head] + model.b_Q[layer, head]).expand(1, *x.shape[1:3], -1),
        ]
    )
    k = torch.cat(
        [
            x @ model.W_K[layer, head],
            (biases @ model.W_K[layer, head] + model.b_K[layer, head]).expand(1, *x.shape[1:3], -1),
        ]
    )
    parts = torch.einsum("ibqd,jbkd->ijbqk", q, k) / model.blocks[layer].attn.attn_scale
    return ScoreDecomposition([*labels, "biases"], parts)
