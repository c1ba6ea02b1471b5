"""Checks for chapter 3, "Components": each class against the library's, and against TransformerLens's own
computation of the same component with the same weights (inside a one-layer native bridge); then what the exercise
asks beyond the output: every hook point fires with TransformerLens's shape and values and its returned value is
used (so patching works), and each of Attention's step methods is right on its own. Every config flag the
reference honours is varied: eps, act_fn, normalization_type, attn_only, use_residual, d_head ≠ d_model / n_heads;
all weights and biases are random, so a forgotten bias or LayerNorm weight shows."""

import math
from functools import partial

import torch
import torch.nn.functional as F

from glassbox.checking.answer import Answer, ReaderFailed
from glassbox.checking.checks.hooks import hook_behaviours
from glassbox.checking.diagnose import (
    SOFTMAX_HINT,
    clone,
    close,
    non_finite_problem,
    same,
    tensor_problem,
    value_difference,
)
from glassbox.checking.judge import Case, Exercise
from glassbox.components import ACTIVATIONS, Block
from glassbox.config import TransformerConfig
from glassbox.tl_compare import component_through_bridge

CFG = TransformerConfig(d_model=16, n_heads=2, d_vocab=11, n_ctx=8, d_mlp=24)


def _x(*shape: int, scale: float = 1.0, seed: int = 0) -> torch.Tensor:
    return scale * torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def _tokens(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, CFG.d_vocab, shape, generator=torch.Generator().manual_seed(seed))


def _residual_cases(configs: dict[str, tuple] | None = None) -> list[Case]:
    """Random residual-stream inputs for CFG, then one case per (name, (cfg, independent)) of `configs`."""
    cases = [
        Case("random batch", (CFG, _x(2, 5, CFG.d_model))),
        Case("batch of 1, one position", (CFG, _x(1, 1, CFG.d_model, seed=1))),
        Case("full context, large values", (CFG, _x(3, CFG.n_ctx, CFG.d_model, scale=30.0, seed=2))),
        Case("nearly constant vectors (variance ≈ eps)", (CFG, 1 + _x(2, 3, CFG.d_model, scale=1e-3, seed=9))),
    ]
    for i, (name, (cfg, independent)) in enumerate((configs or {}).items()):
        cases.append(Case(name, (cfg, _x(2, 4, cfg.d_model, seed=3 + i)), independent))
    return cases


def _layer_norm_cases() -> list[Case]:
    return [
        *_residual_cases(),
        Case(
            "cfg.eps = 0.1, nearly constant vectors (use the config's eps)",
            (CFG.with_(eps=0.1), 1 + _x(2, 3, CFG.d_model, scale=0.05, seed=4)),
        ),
    ]


def _token_cases() -> list[Case]:
    return [
        Case("random batch", (CFG, _tokens(2, 5))),
        Case("batch of 1, one position", (CFG, _tokens(1, 1, seed=1))),
        Case("full context", (CFG, _tokens(3, CFG.n_ctx, seed=2))),
    ]


def _through(prefix: str, out_hook: str, in_hook: str | None = None):
    """TransformerLens's computation of one component: (cfg, weights, input) -> output."""
    if in_hook is None:  # the component reads tokens
        return lambda cfg, state, tokens: component_through_bridge(cfg, prefix, state, out_hook, tokens=tokens)
    return lambda cfg, state, x: component_through_bridge(cfg, prefix, state, out_hook, x=x, in_hook=in_hook)


# Wrong variants: (cfg, state_dict, *inputs) -> what a common mistake computes
def _ln(x, state, eps, *, eps_inside=True, unbiased=False, affine=True):
    centred = x - x.mean(-1, keepdim=True)
    var = centred.pow(2).sum(-1, keepdim=True) / (x.shape[-1] - (1 if unbiased else 0))
    scale = (var + eps).sqrt() if eps_inside else var.sqrt() + eps
    out = centred / scale
    return out * state["w"] + state["b"] if affine else out


def _attention(cfg, state, x, *, scale=True, mask=True, softmax_dim=-1, biases=True, diagonal=False):
    b = {k: (state[k] if biases else torch.zeros_like(state[k])) for k in ("b_Q", "b_K", "b_V", "b_O")}
    q = torch.einsum("bpm,hmd->bphd", x, state["W_Q"]) + b["b_Q"]
    k = torch.einsum("bpm,hmd->bphd", x, state["W_K"]) + b["b_K"]
    v = torch.einsum("bpm,hmd->bphd", x, state["W_V"]) + b["b_V"]
    scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / (math.sqrt(cfg.d_head) if scale else 1.0)
    if mask:
        n = x.shape[1]
        scores = scores.masked_fill(torch.ones(n, n, dtype=torch.bool).triu(0 if diagonal else 1), float("-inf"))
    pattern = scores.softmax(softmax_dim)
    z = torch.einsum("bhqk,bkhd->bqhd", pattern if diagonal else pattern.nan_to_num(), v)
    return torch.einsum("bqhd,hdm->bqm", z, state["W_O"]) + b["b_O"]


def _mlp(cfg, state, x, act=None):
    pre = x @ state["W_in"] + state["b_in"]
    return (act(pre) if act else pre) @ state["W_out"] + state["b_out"]


def _sub(state, prefix):
    return {k.removeprefix(prefix): v for k, v in state.items() if k.startswith(prefix)}


def _post_ln_block(cfg, state, x):
    resid_mid = _ln(x + _attention(cfg, _sub(state, "attn."), x), _sub(state, "ln1."), cfg.eps)
    return _ln(resid_mid + _mlp(cfg, _sub(state, "mlp."), resid_mid, F.gelu), _sub(state, "ln2."), cfg.eps)


def _block_without_residual(cfg, state, x):
    mid = _attention(cfg, _sub(state, "attn."), _ln(x, _sub(state, "ln1."), cfg.eps))
    return _mlp(cfg, _sub(state, "mlp."), _ln(mid, _sub(state, "ln2."), cfg.eps), partial(F.gelu, approximate="tanh"))


def _block_with_residual(cfg, state, x):
    block = Block(cfg.with_(use_residual=True))
    block.load_state_dict(state)
    return block(x)


def _steps(answer: Answer) -> str | None:
    """Attention's step methods, each on its own inputs (a forward that skips them must not hide them)."""
    mine, reference = answer.build(CFG, seed=12)
    x = _x(2, 5, CFG.d_model, seed=12)
    with torch.no_grad():
        q = reference.project(x, reference.W_Q, reference.b_Q)
        k = reference.project(x, reference.W_K, reference.b_K)
        scores = reference.attention_scores(q, k)
    for name, args in (
        ("project", (x, reference.W_Q.detach(), reference.b_Q.detach())),
        ("attention_scores", (q, k)),
        ("apply_causal_mask", (scores,)),
    ):
        method = getattr(mine, name, None)
        if method is None:
            return f"Attention has no method `{name}`"
        inputs = clone(args)
        try:
            got = answer.call(method, *inputs)
        except ReaderFailed as failure:
            if isinstance(failure.error, NotImplementedError):
                return f"Attention.{name} still raises NotImplementedError: each step method is checked on its own"
            return f"Attention.{name} {failure.reason}"
        with torch.no_grad():
            expected = getattr(reference, name)(*clone(args))
        problem = (
            ("returned None — did you forget the `return` statement?" if got is None else None)
            or tensor_problem(got, expected)
            or (non_finite_problem(got, expected))
            or next(
                (
                    f"argument {i + 1} was modified in place — work on a copy"
                    for i, (a, b) in enumerate(zip(inputs, args, strict=False))
                    if not same(a, b)
                ),
                None,
            )
            or (None if close(got, expected, 1e-4, 1e-4) else value_difference(got, expected))
        )
        if problem:
            return f"Attention.{name}: {problem}"
    return None


EXERCISES = [
    Exercise(
        name="Embed",
        module="ch03_components",
        cases=_token_cases,
        is_module=True,
        agrees_with={"TransformerLens (hook_embed)": _through("embed.", "hook_embed")},
    ),
    Exercise(
        name="PosEmbed",
        module="ch03_components",
        cases=_token_cases,
        is_module=True,
        mistakes={
            "index W_pos by position (0 … pos-1), not by token id": lambda cfg, state, tokens: state["W_pos"][tokens]
        },
        agrees_with={"TransformerLens (hook_pos_embed)": _through("pos_embed.", "hook_pos_embed")},
    ),
    Exercise(
        name="LayerNorm",
        module="ch03_components",
        cases=_layer_norm_cases,
        is_module=True,
        mistakes={
            "is your epsilon inside the square root? (sqrt(var + eps), not sqrt(var) + eps)": lambda cfg, s, x: _ln(
                x, s, cfg.eps, eps_inside=False
            ),
            "use the biased variance (divide by d_model), as TransformerLens does": lambda cfg, s, x: _ln(
                x, s, cfg.eps, unbiased=True
            ),
            "did you forget to scale by w and shift by b?": lambda cfg, s, x: _ln(x, s, cfg.eps, affine=False),
            "use the config's eps (self.eps), not a number of your own": lambda cfg, s, x: _ln(x, s, 1e-5),
        },
        behaviours=hook_behaviours(CFG),
        agrees_with={
            "TransformerLens (ln1)": _through("blocks.0.ln1.", "blocks.0.ln1.hook_out", "blocks.0.hook_resid_pre")
        },
        atol=1e-4,
    ),
    Exercise(
        name="Attention",
        non_finite_hint=SOFTMAX_HINT,
        module="ch03_components",
        cases=lambda: _residual_cases(
            {"config n_heads=4, d_head=3 (d_head ≠ d_model / n_heads)": (CFG.with_(n_heads=4, d_head=3), True)}
        ),
        is_module=True,
        mistakes={
            "did you forget to divide the scores by √d_head?": partial(_attention, scale=False),
            "did you forget the causal mask? A query must not see later positions": partial(_attention, mask=False),
            "the softmax runs over keys (the last dimension of the scores), not over queries": partial(
                _attention, softmax_dim=-2
            ),
            "did you forget the biases b_Q, b_K, b_V or b_O?": partial(_attention, biases=False),
            "a query must also see its own position: mask only keys after it (triu(1)), not the diagonal": partial(
                _attention, diagonal=True
            ),
        },
        behaviours={
            **hook_behaviours(CFG),
            "each step method on its own (project, attention_scores, apply_causal_mask)": _steps,
        },
        agrees_with={
            "TransformerLens (attention of a bridge)": _through(
                "blocks.0.attn.", "blocks.0.hook_attn_out", "blocks.0.attn.hook_in"
            )
        },
        atol=1e-4,
    ),
    Exercise(
        name="MLP",
        module="ch03_components",
        cases=lambda: _residual_cases(
            {
                "config act_fn='relu'": (CFG.with_(act_fn="relu"), True),
                "config act_fn='gelu'": (CFG.with_(act_fn="gelu"), True),
            }
        ),
        is_module=True,
        mistakes={
            "did you forget the activation between W_in and W_out?": _mlp,
            "use the activation named by cfg.act_fn (ACTIVATIONS[cfg.act_fn]), not always ReLU": partial(
                _mlp, act=F.relu
            ),
            "use the activation named by cfg.act_fn (ACTIVATIONS[cfg.act_fn]), not always GPT-2's gelu_new": partial(
                _mlp, act=partial(F.gelu, approximate="tanh")
            ),
            "use the activation named by cfg.act_fn (ACTIVATIONS[cfg.act_fn]), not always the exact GELU": partial(
                _mlp, act=F.gelu
            ),
            "did you forget the biases b_in and b_out?": lambda cfg, s, x: _mlp(
                cfg, {**s, "b_in": 0 * s["b_in"], "b_out": 0 * s["b_out"]}, x, ACTIVATIONS[cfg.act_fn]
            ),
        },
        behaviours=hook_behaviours(CFG),
        agrees_with={
            "TransformerLens (MLP of a bridge)": _through(
                "blocks.0.mlp.", "blocks.0.hook_mlp_out", "blocks.0.mlp.hook_in"
            )
        },
        atol=1e-4,
    ),
    Exercise(
        name="Block",
        module="ch03_components",
        cases=lambda: _residual_cases(
            {
                "config normalization_type=None": (CFG.with_(normalization_type=None), True),
                "config attn_only=True": (CFG.with_(attn_only=True), True),
                "config use_residual=False (each sublayer's output replaces the stream)": (
                    CFG.with_(use_residual=False),
                    False,
                ),
                "config attn_only=True, use_residual=False": (CFG.with_(attn_only=True, use_residual=False), False),
            }
        ),
        is_module=True,
        mistakes={
            "LayerNorm goes before each sublayer (pre-LN, as in GPT-2), not after the residual addition": (
                _post_ln_block
            ),
            "did you forget the residual connections? Each sublayer's output is added to the stream": (
                _block_without_residual
            ),
            "with use_residual=False each sublayer's output replaces the stream: read cfg.use_residual": (
                _block_with_residual
            ),
        },
        behaviours=hook_behaviours(CFG),
        agrees_with={
            "TransformerLens (a bridge's block)": _through(
                "blocks.0.", "blocks.0.hook_resid_post", "blocks.0.hook_resid_pre"
            )
        },
        atol=1e-4,
    ),
    Exercise(
        name="Unembed",
        module="ch03_components",
        cases=_residual_cases,
        is_module=True,
        mistakes={"did you forget the bias b_U?": lambda cfg, state, x: x @ state["W_U"]},
        agrees_with={"TransformerLens (unembed of a bridge)": _through("unembed.", "hook_unembed", "unembed.hook_in")},
        atol=1e-4,
    ),
]
