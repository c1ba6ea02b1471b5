"""Value tests for what was tested by shape only: TransformerLens's `stack_head_results` and `logit_attrs` on our
model, `use_residual=False`, `random_windows` and `split`. Each expected value comes from somewhere other than the
code under test: the model's own hooked activations and weights, a forward pass written out by hand, or a token
stream whose every window can be read off."""

from __future__ import annotations

import einops
import pytest
import torch
from glassbox.config import TransformerConfig
from glassbox.data import random_windows, split
from glassbox.model import Transformer

SMALL = TransformerConfig(d_model=12, n_layers=2, n_heads=3, d_vocab=11, n_ctx=8, d_mlp=16)


def random_model(cfg: TransformerConfig = SMALL) -> Transformer:
    """Every parameter random (biases and LayerNorm too), in float64, so that no term is zero by accident."""
    model = Transformer(cfg).to(torch.float64)
    generator = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(torch.randn(param.shape, generator=generator, dtype=torch.float64) * 0.4)
    return model.eval()


TOKENS = torch.tensor([[1, 4, 2, 9, 0, 3, 3], [7, 7, 1, 10, 5, 2, 6]])


# ------------------------------------------------------------------------------------ the activation cache's tools
def test_stack_head_results_is_each_heads_z_times_its_w_o_and_sums_to_the_attention_output():
    model = random_model()
    _, cache = model.run_with_cache(TOKENS)
    heads = cache.stack_head_results(layer=-1)  # [layer * head, batch, pos, d_model], layer-major
    assert heads.shape == (SMALL.n_layers * SMALL.n_heads, *TOKENS.shape, SMALL.d_model)
    for layer in range(SMALL.n_layers):
        z = cache[f"blocks.{layer}.attn.hook_z"]  # [batch, pos, head, d_head]
        for head in range(SMALL.n_heads):
            by_hand = z[:, :, head] @ model.W_O[layer, head]
            torch.testing.assert_close(heads[layer * SMALL.n_heads + head], by_hand)
        ours = heads[layer * SMALL.n_heads : (layer + 1) * SMALL.n_heads].sum(0) + model.b_O[layer]
        torch.testing.assert_close(ours, cache[f"blocks.{layer}.hook_attn_out"])
    only_first = cache.stack_head_results(layer=1)  # the heads before layer 1: layer 0's only
    torch.testing.assert_close(only_first, heads[: SMALL.n_heads])


def test_logit_attrs_of_the_decomposed_stream_add_up_to_each_tokens_logit():
    """The final LayerNorm is linear once its scale is fixed, so the attributions of the stream's parts (embedding,
    each attention and MLP output) add up to the logit minus the unembedding bias and the LayerNorm's bias term."""
    model = random_model()
    logits, cache = model.run_with_cache(TOKENS)
    parts = cache.decompose_resid()[:, :, -1]  # [component, batch, d_model] at the last position
    targets = torch.tensor([3, 8])  # a different token for each sequence
    attrs = cache.logit_attrs(parts, tokens=targets, pos_slice=-1)
    assert attrs.shape == (parts.shape[0], 2)
    w, b = model.ln_final.w, model.ln_final.b
    for batch, token in enumerate(targets.tolist()):
        direction = model.W_U[:, token]
        scale = cache["ln_final.hook_scale"][batch, -1]
        for c in range(parts.shape[0]):  # each part centred and divided by the final LayerNorm's scale
            part = parts[c, batch]
            torch.testing.assert_close(attrs[c, batch], (part - part.mean()) / scale @ direction)
        # TL's attribution leaves out the LayerNorm's gain w; with w the parts add up to the logit exactly
        weighted = sum(((parts[c, batch] - parts[c, batch].mean()) / scale * w) @ direction for c in range(len(parts)))
        torch.testing.assert_close(weighted + b @ direction + model.b_U[token], logits[batch, -1, token])
    incorrect = torch.tensor([0, 0])
    diff = cache.logit_attrs(parts, tokens=targets, incorrect_tokens=incorrect, pos_slice=-1)
    torch.testing.assert_close(diff, attrs - cache.logit_attrs(parts, tokens=incorrect, pos_slice=-1))


def test_tokens_to_residual_directions_are_the_unembedding_columns():
    model = random_model()
    assert torch.equal(model.tokens_to_residual_directions(4), model.W_U[:, 4])
    directions = model.tokens_to_residual_directions(torch.tensor([[2, 5], [0, 10]]))
    assert directions.shape == (2, 2, SMALL.d_model)
    assert torch.equal(directions[1, 0], model.W_U[:, 0]) and torch.equal(directions[0, 1], model.W_U[:, 5])


# ---------------------------------------------------------------------------------------------- use_residual=False
@pytest.mark.parametrize("attn_only", [False, True], ids=["with MLPs", "attention-only"])
def test_without_the_residual_each_sublayer_output_replaces_the_stream(attn_only):
    """Written out by hand from the model's own sublayers: x = attn(ln1(x)), then x = mlp(ln2(x)); nothing is added
    back. The same weights with the residual give other logits (so the flag is read)."""
    cfg = SMALL.with_(use_residual=False, attn_only=attn_only)
    model = random_model(cfg)
    with torch.no_grad():
        x = model.embed.W_E[TOKENS] + model.pos_embed.W_pos[: TOKENS.shape[1]]
        for block in model.blocks:
            x = block.attn(block.ln1(x))
            if not attn_only:
                x = block.mlp(block.ln2(x))
        by_hand = model.ln_final(x) @ model.W_U + model.b_U
        logits, cache = model.run_with_cache(TOKENS)
        torch.testing.assert_close(logits, by_hand)
        last_write = "hook_attn_out" if attn_only else "hook_mlp_out"
        torch.testing.assert_close(cache["blocks.1.hook_resid_post"], cache[f"blocks.1.{last_write}"])
        if not attn_only:
            torch.testing.assert_close(cache["blocks.0.hook_resid_mid"], cache["blocks.0.hook_attn_out"])
        with_residual = random_model(cfg.with_(use_residual=True))
        assert not torch.allclose(with_residual(TOKENS), logits)


# ------------------------------------------------------------------------------------------- windows and splits
def test_random_windows_are_consecutive_runs_of_the_stream_from_every_start():
    stream = torch.arange(100, 110)  # ten tokens: a window is identified by its first token
    windows = random_windows(stream, 8, 300, torch.Generator().manual_seed(0))
    assert windows.shape == (300, 8) and windows.dtype == stream.dtype
    starts = windows[:, 0] - 100
    assert torch.equal(windows, einops.repeat(torch.arange(8), "p -> b p", b=300) + windows[:, :1])  # consecutive
    assert sorted(set(starts.tolist())) == [0, 1, 2]  # every start that fits, and only those (10 - 8 + 1 of them)
    assert windows.tolist() == random_windows(stream, 8, 300, torch.Generator().manual_seed(0)).tolist()  # seeded
    assert windows.tolist() != random_windows(stream, 8, 300, torch.Generator().manual_seed(1)).tolist()
    whole = random_windows(stream, 10, 3, torch.Generator().manual_seed(0))  # a window as long as the stream
    assert whole.tolist() == [list(range(100, 110))] * 3


def test_split_cuts_the_stream_once_at_the_fraction_keeping_order():
    stream = torch.arange(50, 150)
    train, val = split(stream)
    assert train.tolist() == list(range(50, 140)) and val.tolist() == list(range(140, 150))
    train, val = split(torch.arange(10), val_fraction=0.25)  # 7.5 training tokens: the cut rounds down
    assert train.tolist() == list(range(7)) and val.tolist() == [7, 8, 9]
    train, val = split(torch.arange(7), val_fraction=0.5)
    assert train.tolist() == [0, 1, 2] and val.tolist() == [3, 4, 5, 6]
    for bad in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="val_fraction"):
            split(stream, val_fraction=bad)
