"""The sparse autoencoder (chapter 14): it recovers a planted sparse dictionary, its loss is SAELens's standard
loss, and the spliced-in loss is the model's loss with the reconstruction in place."""

import pytest
import torch
import torch.nn.functional as F
from glassbox.config import TransformerConfig
from glassbox.features import sae as saes
from glassbox.model import Transformer


@pytest.fixture(autouse=True)
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSBOX_CACHE", str(tmp_path))


def planted(n: int, d_in: int = 16, n_features: int = 24, p: float = 0.06, seed: int = 0):
    """Data made of a known dictionary: each sample is a sparse, non-negative sum of unit directions."""
    generator = torch.Generator().manual_seed(seed)
    dictionary = F.normalize(torch.randn(n_features, d_in, generator=generator), dim=-1)
    present = torch.rand(n, n_features, generator=generator) < p
    coefficients = (0.5 + 0.5 * torch.rand(n, n_features, generator=generator)) * present  # clearly on or off
    return coefficients @ dictionary, dictionary


def test_sae_recovers_a_planted_sparse_dictionary():
    acts, dictionary = planted(20000)
    recipe = saes.SAERecipe(expansion=3, l1_coefficient=0.1, steps=400, batch_size=256, lr=1e-2)
    sae = saes.train_sae(acts, recipe, decided_by="planted")
    learned = F.normalize(sae.W_dec.detach(), dim=-1)
    best = (dictionary @ learned.T).max(-1).values  # each true direction's closest learned one
    assert best.min() > 0.85 and (best > 0.95).float().mean() >= 0.75, best
    stats = saes.sae_stats(sae, acts)
    assert stats.explained_variance > 0.9 and stats.l0 < 8  # about 1.4 planted features are active a sample


def test_loss_is_reconstruction_plus_decoder_weighted_l1():
    # By hand: decoder rows of norm 5 and 1, activations 2 and 3, b_dec (1, 0): x̂ = 2·(3, 4) + 3·(0, 1) + (1, 0)
    # = (7, 11). Sample 0 is x = 0: squared error 49 + 121 = 170; sample 1 is x = x̂: 0. Penalty 2·5 + 3·1 = 13 for
    # each. Batch means: 85 + 0.5 · 13 = 91.5.
    W_dec, b_dec = torch.tensor([[3.0, 4.0], [0.0, 1.0]]), torch.tensor([1.0, 0.0])
    x, f = torch.tensor([[0.0, 0.0], [7.0, 11.0]]), torch.tensor([[2.0, 3.0], [2.0, 3.0]])
    assert saes.sae_loss(x, f, W_dec, b_dec, 0.5).item() == pytest.approx(91.5)
    sae = saes.SparseAutoencoder(4, 6, seed=1)
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
    f = sae.encode(x)
    expected = saes.sae_loss(x, f, sae.W_dec, sae.b_dec, 0.3)
    # Scaling a decoder row up and its activation down leaves the penalty unchanged (what the norm weighting is for)
    with torch.no_grad():
        sae.W_dec[0] *= 4
    torch.testing.assert_close(
        saes.sae_loss(x, f * torch.tensor([0.25, 1, 1, 1, 1, 1]), sae.W_dec, sae.b_dec, 0.3), expected
    )


def tiny_model() -> Transformer:
    cfg = TransformerConfig(d_model=8, n_layers=2, n_heads=2, n_ctx=6, d_vocab=7, normalization_type="LN", seed=0)
    return Transformer(cfg).eval()


class Identity(torch.nn.Module):
    def forward(self, x):
        return x


def test_spliced_loss_with_a_perfect_reconstruction_is_the_clean_loss_and_with_zeros_the_ablated_one():
    model, tokens = tiny_model(), torch.randint(0, 7, (3, 6), generator=torch.Generator().manual_seed(0))
    hook = "blocks.1.hook_resid_pre"
    clean = model(tokens, return_type="loss")
    torch.testing.assert_close(saes.spliced_loss(model, Identity(), tokens, hook), clean)
    zero_sae = saes.SparseAutoencoder(8, 16)  # biases zero, so an all-zero code decodes to zero
    with torch.no_grad():
        zero_sae.b_enc.fill_(-1e3)
    torch.testing.assert_close(
        saes.spliced_loss(model, zero_sae, tokens, hook), saes.zero_ablated_loss(model, tokens, hook)
    )
    assert saes.loss_recovered(2.0, 2.0, 4.0) == 1 and saes.loss_recovered(2.0, 4.0, 4.0) == 0


def test_activations_are_collected_in_batches_and_the_sae_is_cached(tmp_path):
    model = tiny_model()
    windows = torch.randint(0, 7, (5, 6), generator=torch.Generator().manual_seed(1))
    acts = saes.collect_activations(model, windows, "blocks.0.hook_resid_post", batch_size=2)
    _, cache = model.run_with_cache(windows)
    torch.testing.assert_close(acts, cache["blocks.0.hook_resid_post"])
    recipe = saes.SAERecipe(expansion=2, steps=5, batch_size=8)
    first = saes.train_sae(acts.flatten(0, 1), recipe, decided_by=saes.weights_digest(model))
    assert len(list(tmp_path.glob("sae-*.pt"))) == 1
    again = saes.train_sae(acts.flatten(0, 1), recipe, decided_by=saes.weights_digest(model))
    assert torch.equal(first.W_dec, again.W_dec)


def test_same_forward_as_saelens_standard_sae_on_the_same_weights(monkeypatch):
    """SAELens is not a dependency: its releases that fit our pins import TransformerLens 2/3 module paths that
    TransformerLens 4 removed (chapter 14). Where it is installed (e.g. `pip install --no-deps sae-lens==6.51.1`
    into a scratch path), stand-ins for those paths let its StandardSAE load our state dict (strictly: same names
    and shapes) and compute the same encoding and reconstruction."""
    import importlib.util
    import sys
    import types

    if importlib.util.find_spec("sae_lens") is None:
        pytest.skip("sae-lens not installed: sae-lens 6 needs TransformerLens 3, the book pins 4 (see docstring)")
    import transformer_lens
    import transformer_lens.utilities

    stand_ins = {
        "transformer_lens.HookedTransformer": {
            "HookedRootModule": transformer_lens.HookedRootModule,
            "HookedTransformer": object,
            "Loss": object,
            "Output": object,
        },
        "transformer_lens.ActivationCache": {"ActivationCache": transformer_lens.ActivationCache},
        "transformer_lens.components": {},
        "transformer_lens.components.mlps": {},
        "transformer_lens.components.mlps.can_be_used_as_mlp": {"CanBeUsedAsMLP": object},
    }
    for name, attributes in stand_ins.items():
        module = types.ModuleType(name)
        module.__dict__.update(attributes)
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setitem(sys.modules, "transformer_lens.utils", transformer_lens.utilities)
    monkeypatch.setitem(transformer_lens.__dict__, "HookedTransformer", object)  # its __getattr__ raises otherwise
    from sae_lens import StandardSAE, StandardSAEConfig

    ours = saes.SparseAutoencoder(16, 64, seed=0)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for param in ours.parameters():
            param.copy_(0.5 * torch.randn(param.shape, generator=generator))
    theirs = StandardSAE(StandardSAEConfig(d_in=16, d_sae=64, dtype="float32", device="cpu", apply_b_dec_to_input=True))
    theirs.load_state_dict(ours.state_dict(), strict=True)
    x = torch.randn(32, 16, generator=generator)
    torch.testing.assert_close(ours.encode(x), theirs.encode(x))
    torch.testing.assert_close(ours(x), theirs(x))
