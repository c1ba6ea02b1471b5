"""Attribution (chapter 10): `head_components`, which mutation testing could not reach while it was under
`@torch.no_grad()`, pinned from its docstring: the terms add up to the final residual stream at `pos` in every
dimension; "embed" is the token plus the position embedding; a last-layer head's term is what zeroing its z takes
out of that stream; "biases" is every b_O."""

import pytest
import torch
from glassbox.analysis import attribution
from glassbox.config import TransformerConfig
from glassbox.model import Transformer


def attention_only(n_layers: int) -> Transformer:
    cfg = TransformerConfig(
        d_model=12, n_layers=n_layers, n_heads=2, d_head=3, d_vocab=9, n_ctx=6, attn_only=True,
        normalization_type=None, seed=0,
    )  # fmt: skip
    model = Transformer(cfg).eval().double()
    generator = torch.Generator().manual_seed(5)
    with torch.no_grad():  # non-zero biases, so that "biases" is tested too
        for param in model.parameters():
            param.copy_(0.4 * torch.randn(param.shape, generator=generator, dtype=param.dtype))
    return model


TOKENS = torch.randint(0, 9, (3, 6), generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("pos", [0, 4])
def test_terms_add_up_to_the_final_stream_at_pos(pos):
    model = attention_only(2)
    labels, parts = attribution.head_components(model, TOKENS, pos)
    assert labels == ["embed", "L0H0", "L0H1", "L1H0", "L1H1", "biases"]
    _, cache = model.run_with_cache(TOKENS)
    torch.testing.assert_close(parts.sum(0), cache["blocks.1.hook_resid_post"][:, pos])
    torch.testing.assert_close(parts[0], model.W_E[TOKENS[:, pos]] + model.W_pos[pos])
    torch.testing.assert_close(parts[-1], (model.b_O[0] + model.b_O[1]).expand(3, -1))
    assert not parts.requires_grad


def test_a_last_layer_heads_term_is_what_zeroing_its_z_takes_out():
    model = attention_only(2)
    labels, parts = attribution.head_components(model, TOKENS, 3)
    _, cache = model.run_with_cache(TOKENS)
    for head in range(2):

        def zero_head(z, hook, head=head):
            z = z.clone()
            z[:, :, head] = 0.0
            return z

        with torch.no_grad(), model.hooks(fwd_hooks=[("blocks.1.attn.hook_z", zero_head)]):
            _, ablated = model.run_with_cache(TOKENS)
        taken_out = cache["blocks.1.hook_resid_post"][:, 3] - ablated["blocks.1.hook_resid_post"][:, 3]
        torch.testing.assert_close(parts[labels.index(f"L1H{head}")], taken_out)


def test_head_components_refuses_a_model_with_layer_norm_in_one_sentence():
    model = Transformer(attention_only(1).cfg.with_(normalization_type="LN"))
    with pytest.raises(ValueError) as error:
        attribution.head_components(model, TOKENS, 0)
    assert str(error.value) == "head_components needs an attention-only model without LayerNorm"
