"""The numbers in the quizzes' compute-and-predict questions, computed by the library the chapters use (the model,
the rules, the analysis functions) rather than typed into the quiz files.

A quiz file writes `{{name}}` or `{{name:format}}` (e.g. `{{n_params:,}}`, `{{weight:.3f}}`) where a fact goes;
`glassbox.checking.quiz.load_quiz` fills it in from `facts(quiz_name)`. A right option and its distractors come from the
same computation, so a change in the library that changes an answer changes the quiz with it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from typing import Any

import torch
import torch.nn.functional as F

from glassbox.analysis.circuits import composition_score
from glassbox.analysis.interventions import recovery_ratio
from glassbox.config import TransformerConfig
from glassbox.features.superposition import feature_dimensionality
from glassbox.model import Transformer
from glassbox.parameters import gpt2_small_shapes
from glassbox.rules import Lucky7, TwoTokenParity


def _shape(t: torch.Tensor) -> str:
    return "[" + ", ".join(str(n) for n in t.shape) + "]"


def _parameters(cfg: TransformerConfig) -> int:
    with torch.device("meta"):  # counting needs the shapes only: no memory, no random numbers
        return sum(p.numel() for p in Transformer(cfg.with_(device="meta")).parameters())


def part1() -> dict[str, Any]:
    scores = torch.tensor([2.0, 0.0, float("-inf")])
    q = k = torch.zeros(2, 3, 5, 8)
    x = torch.tensor([1.0, 2.0, 3.0])
    fully_masked = torch.softmax(torch.full((3,), float("-inf")), dim=0)
    grid = torch.linspace(-4, 4, 8001, dtype=torch.float64)
    gelu = F.gelu(grid)
    return {
        "masked_weight": torch.softmax(scores, 0)[0].item(),  # the third key is masked
        "mask_as_zero_weight": torch.softmax(scores.nan_to_num(neginf=0.0), 0)[0].item(),
        "scores_shape": _shape(q @ k.transpose(-2, -1)),
        "output_shape": _shape((q @ k.transpose(-2, -1)).softmax(-1) @ q),
        "wrong_scores_shape": _shape(q.transpose(-2, -1) @ k),
        "fully_masked_is_nan": bool(fully_masked.isnan().all()),
        "gelu_min": gelu.min().item(),
        "gelu_argmin": grid[gelu.argmin()].item(),
        "gelu_tanh_gap": (gelu - F.gelu(grid, approximate="tanh")).abs().max().item(),
        "ln_first": F.layer_norm(x, (3,))[0].item(),
        "ln_unbiased_first": ((x - x.mean()) / x.std())[0].item(),
        "ln_by_variance_first": ((x - x.mean()) / x.var(unbiased=False))[0].item(),
    }


PART2_CFG = TransformerConfig(d_model=64, n_layers=2, n_heads=4, d_vocab=100, n_ctx=32)


def part2() -> dict[str, Any]:
    cfg = PART2_CFG
    logits = torch.tensor([2.0, 1.0, 0.0])
    return {
        "n_params": _parameters(cfg),
        "n_params_no_ln": _parameters(cfg.with_(normalization_type=None)),
        "n_params_attn_only": _parameters(cfg.with_(attn_only=True)),
        "n_params_no_positions": _parameters(cfg.with_(positional_embedding="none")),
        "W_Q_shape": f"[{cfg.n_heads}, {cfg.d_model}, {cfg.d_head}]",
        "d_head": cfg.d_head,
        "p_top_half": torch.softmax(logits / 0.5, -1)[0].item(),
        "p_top_one": torch.softmax(logits, -1)[0].item(),
        "p_top_times_half": torch.softmax(logits * 0.5, -1)[0].item(),
    }


def part3() -> dict[str, Any]:
    rule = Lucky7()
    prefix = [5, 2, 7]
    allowed = [t for t in range(11) if rule.verify([*prefix, t])]
    sequence = [4, 7, 4, 7, 7, 7]
    after_3_5 = TwoTokenParity().allowed([3, 5], 2)  # same parity: a number below 10
    return {
        "lucky7_next": allowed[0] if len(allowed) == 1 else None,
        "n_constrained": int(sum(rule.constrained_mask(sequence))),
        "two_token_next": f"{min(after_3_5)}–{max(after_3_5)}",
    }


def part4() -> dict[str, Any]:
    half, query = 10, 14
    return {
        "recovery": recovery_ratio(torch.tensor(2.5), 3.0, 1.0).item(),
        "composition_identity": composition_score(torch.eye(8), torch.eye(8)),
        "sqrt_8": math.sqrt(8),
        "induction_key": query - half + 1,  # the token after the first copy of the query's token
        "copy_key": query - half,
    }


def part5() -> dict[str, Any]:
    shapes = gpt2_small_shapes()  # GPT-2 small's published configuration, counted as chapter 12 counts it
    d_vocab, d_model = shapes["embed.W_E"]
    n_heads = shapes["blocks.0.attn.W_Q"][0]
    n_layers = len({name.split(".")[1] for name in shapes if name.startswith("blocks.")})
    ours = sum(shape.numel() for shape in shapes.values())
    unembed = shapes["unembed.W_U"].numel() + shapes["unembed.b_U"].numel()  # GPT-2 reuses W_E; it has no b_U
    return {
        "untied_millions": ours / 1e6,
        "gpt2_millions": (ours - unembed) / 1e6,
        "tied_millions": shapes["unembed.W_U"].numel() / 1e6,
        "d_vocab": d_vocab,
        "d_model": d_model,
        "pattern_shape": f"[1, {n_heads}, 10, 10]",
        "n_heads": n_heads,
        "n_layers": n_layers,
        "n_patterns": n_layers * n_heads,
        "n_layers_plus_heads": n_layers + n_heads,
    }


def part6() -> dict[str, Any]:
    angles = torch.arange(5) * 2 * math.pi / 5
    pentagon = torch.stack([angles.cos(), angles.sin()])[None]  # [instance, d_hidden, feature]
    pair = torch.tensor([[[1.0, -1.0]]])  # an antipodal pair on one axis
    clean, spliced, zero = 2.0, 2.2, 4.5  # the question's losses: clean, SAE spliced in, stream zeroed
    recovered = float(recovery_ratio(torch.tensor(spliced), clean=clean, corrupted=zero))
    return {
        "pentagon_dim": float(feature_dimensionality(pentagon)[0, 0]),
        "pair_dim": float(feature_dimensionality(pair)[0, 0]),
        "sae_clean": clean,
        "sae_spliced": spliced,
        "sae_zero": zero,
        "sae_recovered": recovered,
        "sae_wrong_ratio": spliced / zero,  # spliced over zero-ablated: not a recovery
        "sae_gap": spliced - clean,
    }


FACTS: dict[str, Callable[[], dict[str, Any]]] = {
    "part1": part1,
    "part2": part2,
    "part3": part3,
    "part4": part4,
    "part5": part5,
    "part6": part6,
}


@cache
def facts(quiz: str) -> dict[str, Any]:
    """The facts a quiz's questions use (computed once a session)."""
    return FACTS[quiz]() if quiz in FACTS else {}
