"""Frozen-heads path patching (`interventions.path_patch_frozen`) against an independent oracle: a forward pass
written out from the weights in float64, with no hooks, in which step 2 and step 3 of Wang et al.'s procedure are
explicit overrides of head outputs and head inputs. Without LayerNorm and MLPs it must also equal `path_patch`'s
shortcut; and the oracle tells the learner's mistakes (nothing frozen, the runs swapped) from the right answer."""

import pytest
import torch
from glassbox.analysis import interventions
from glassbox.config import TransformerConfig
from glassbox.model import Transformer

Head = tuple[int, int]


def _model(layer_norm: bool, attn_only: bool, seed: int = 0) -> Transformer:
    cfg = TransformerConfig(
        d_model=12, n_layers=3, n_heads=2, d_head=6, d_vocab=9, n_ctx=8, d_mlp=16, attn_only=attn_only,
        normalization_type="LN" if layer_norm else None, act_fn="relu", init_range=0.5, seed=seed,
    )  # fmt: skip
    model = Transformer(cfg).eval().double()
    generator = torch.Generator().manual_seed(seed + 10)
    with torch.no_grad():  # LayerNorm weights and biases away from 1 and 0, so a mistake about them shows
        for name, param in model.named_parameters():
            if name.endswith((".w", ".b")) and "ln" in name:
                param.add_(0.3 * torch.randn(param.shape, generator=generator, dtype=param.dtype))
    return model


def _tokens(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    clean = torch.randint(0, 9, (3, 6), generator=generator)
    corrupted = clean.clone()
    corrupted[:, 1] = (clean[:, 1] + 1 + torch.randint(0, 8, (3,), generator=generator)) % 9
    return clean, corrupted


def _metric(logits: torch.Tensor) -> torch.Tensor:  # the last position's logit of token 2 above the mean logit
    return (logits[:, -1, 2] - logits[:, -1].mean(-1)).mean()


def _layer_norm(model: Transformer, ln, x: torch.Tensor) -> torch.Tensor:
    if model.cfg.normalization_type is None:
        return x
    x = x - x.mean(-1, keepdim=True)
    return x / (x.pow(2).mean(-1, keepdim=True) + model.cfg.eps).sqrt() * ln.w + ln.b


def _forward(model: Transformer, tokens: torch.Tensor, z_set: dict | None = None, input_set: dict | None = None):
    """The model's forward pass from its weights: z_set[(l, h)] replaces head (l, h)'s output z, input_set[(l, h)]
    its q, k or v (a (part, tensor) pair). Returns the logits, every head's z and every head's q, k and v."""
    z_set, input_set = z_set or {}, input_set or {}
    cfg = model.cfg
    positions = torch.arange(tokens.shape[1])
    residual = model.embed.W_E[tokens] + model.pos_embed.W_pos[positions]
    zs, inputs = {}, {}
    mask = torch.ones(tokens.shape[1], tokens.shape[1], dtype=torch.bool).triu(1)
    for layer, block in enumerate(model.blocks):
        attn, x = block.attn, _layer_norm(model, block.ln1, residual)
        attn_out = attn.b_O.clone().expand_as(residual)
        for head in range(cfg.n_heads):
            projected = {
                "q": x @ attn.W_Q[head] + attn.b_Q[head],
                "k": x @ attn.W_K[head] + attn.b_K[head],
                "v": x @ attn.W_V[head] + attn.b_V[head],
            }
            if (layer, head) in input_set:
                part, value = input_set[(layer, head)]
                projected[part] = value
            inputs[(layer, head)] = projected
            q, k, v = projected["q"], projected["k"], projected["v"]
            scores = (q @ k.transpose(-1, -2) / cfg.d_head**0.5).masked_fill(mask, float("-inf"))
            z = scores.softmax(-1) @ v
            z = z_set.get((layer, head), z)
            zs[(layer, head)] = z
            attn_out = attn_out + z @ attn.W_O[head]
        residual = residual + attn_out
        if not cfg.attn_only:
            mlp = block.mlp
            residual = residual + torch.relu(_layer_norm(model, block.ln2, residual) @ mlp.W_in + mlp.b_in) @ mlp.W_out
            residual = residual + mlp.b_out
    return _layer_norm(model, model.ln_final, residual) @ model.unembed.W_U + model.unembed.b_U, zs, inputs


def _oracle(model, base, source, sender: Head, receivers: list[Head], part: str, freeze: bool = True) -> float:
    with torch.no_grad():
        _, base_z, _ = _forward(model, base)
        _, source_z, _ = _forward(model, source)
        step_2 = {head: z for head, z in base_z.items() if head != sender} if freeze else {}
        step_2[sender] = source_z[sender]
        _, _, moved = _forward(model, base, z_set=step_2)
        logits, _, _ = _forward(model, base, input_set={r: (part, moved[r][part]) for r in receivers})
        return _metric(logits).item()


def test_the_oracle_is_the_models_forward_pass():
    for layer_norm, attn_only in [(True, False), (False, True)]:
        model = _model(layer_norm, attn_only)
        tokens = _tokens()[0]
        torch.testing.assert_close(_forward(model, tokens)[0], model(tokens), atol=1e-10, rtol=0)


CASES = [
    ((0, 1), [(2, 0)], "k"),  # across a layer of heads that must stay frozen, and an MLP that recomputes
    ((0, 0), [(1, 1)], "q"),  # into the next layer, whose change then flows on through layer 2
    ((0, 1), [(1, 0), (2, 1)], "v"),  # two receivers at once
    ((1, 0), [(2, 0), (2, 1)], "k"),
]


@pytest.mark.parametrize(("sender", "receivers", "part"), CASES)
@pytest.mark.parametrize(("layer_norm", "attn_only"), [(True, False), (False, True), (True, True)])
def test_path_patch_frozen_equals_the_oracle_both_ways(sender, receivers, part, layer_norm, attn_only):
    model = _model(layer_norm, attn_only)
    clean, corrupted = _tokens()
    for base, source in [(clean, corrupted), (corrupted, clean)]:  # noising, then denoising
        got = interventions.path_patch_frozen(model, base, source, _metric, sender, receivers, part).item()
        expected = _oracle(model, base, source, sender, receivers, part)
        assert got == pytest.approx(expected, abs=1e-9), (base is clean, got, expected)
        with torch.no_grad():
            unpatched = _metric(model(base)).item()
        assert abs(expected - unpatched) > 1e-4, "the edge must move the metric, or the comparison shows nothing"
        if sender[0] == 0 and any(layer == 2 for layer, _ in receivers):  # heads in between: freezing matters
            loose = _oracle(model, base, source, sender, receivers, part, freeze=False)
            assert abs(loose - expected) > 1e-4, "with nothing frozen the sender also reaches through layer 1"
        swapped = _oracle(model, source, base, sender, receivers, part)
        assert abs(swapped - expected) > 1e-4, "noising and denoising must differ on this model"


@pytest.mark.parametrize("part", ["q", "k", "v"])
def test_without_layer_norm_denoising_is_the_path_patch_shortcut(part):
    """No LayerNorm, no MLPs: a head's input is the residual stream, and the frozen-heads edge is the shortcut's
    clean − corrupted write times the receiver's W (exactly; the tables agree to float rounding)."""
    model = _model(False, True, seed=3).float()
    clean, corrupted = _tokens(1)
    shortcut = interventions.path_patch(model, clean, corrupted, _metric, (0, 1), part)
    frozen = interventions.path_patch_frozen_heads(model, corrupted, clean, _metric, (0, 1), part)
    assert torch.isnan(frozen[0]).all() and torch.isfinite(frozen[1:]).all()
    torch.testing.assert_close(frozen[1:], shortcut[1:], atol=1e-4, rtol=0)
    with torch.no_grad():
        assert (frozen[1:] - _metric(model(corrupted))).abs().max() > 1e-2


def test_with_layer_norm_the_shortcut_refuses_and_the_frozen_procedure_differs_from_a_naive_sum():
    model = _model(True, False)
    clean, corrupted = _tokens()
    with pytest.raises(ValueError, match="LayerNorm"):
        interventions.path_patch(model, clean, corrupted, _metric, (0, 1), "k")
    table = interventions.path_patch_frozen_heads(model, corrupted, clean, _metric, (0, 1), "k")
    for layer in (1, 2):
        for head in range(2):
            expected = _oracle(model, corrupted, clean, (0, 1), [(layer, head)], "k")
            assert table[layer, head].item() == pytest.approx(expected, abs=1e-6)


def test_bad_heads_and_parts_are_one_line_errors():
    model = _model(True, False)
    clean, corrupted = _tokens()
    for sender, receivers, part, message in [
        ((0, 0), [(1, 0)], "z", "part must be"),
        ((0, 5), [(1, 0)], "k", "no head L0H5"),
        ((1, 0), [(1, 1)], "k", "layer after the sender"),
        ((0, 0), [], "k", "at least one receiver"),
    ]:
        with pytest.raises(ValueError, match=message):
            interventions.path_patch_frozen(model, clean, corrupted, _metric, sender, receivers, part)
    with pytest.raises(ValueError, match="last layer"):
        interventions.path_patch_frozen_heads(model, clean, corrupted, _metric, (2, 0), "k")
