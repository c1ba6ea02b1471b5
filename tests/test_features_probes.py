"""Linear probes and steering (chapter 15): a probe finds a planted linear feature, in the raw coordinates of the
stream; the majority baseline; steering adds exactly alpha · direction at the hook; the text's properties."""

import torch
import torch.nn.functional as F
from glassbox.config import TransformerConfig
from glassbox.features import interpret, probes
from glassbox.model import Transformer


def test_a_probe_finds_a_planted_linear_feature_in_the_raw_stream():
    generator = torch.Generator().manual_seed(0)
    direction = F.normalize(torch.randn(12, generator=generator), dim=0)
    # anisotropic activations with an offset, as a residual stream has: the probe must undo its standardisation
    acts = torch.randn(4000, 12, generator=generator) * torch.linspace(0.5, 3, 12) + 2.0
    labels = acts @ direction > (2.0 * direction).sum()
    probe = probes.fit_probe(acts[:3000], labels[:3000], steps=500, lr=1.0)
    assert probe.accuracy(acts[3000:], labels[3000:]) > 0.97
    assert F.cosine_similarity(probe.direction, direction, dim=0) > 0.95
    assert probes.majority_accuracy(labels[:3000], labels[3000:]) < 0.7


def test_train_probe_is_gradient_descent_from_zero_and_works_under_no_grad():
    x, y = torch.randn(50, 4), torch.rand(50) > 0.5
    w = probes.train_probe(x, y, steps=1, lr=0.5)
    expected = -0.5 * x.T @ (torch.sigmoid(torch.zeros(50)) - y.float()) / 50  # one step from w = 0
    torch.testing.assert_close(w, expected)
    with torch.no_grad():
        torch.testing.assert_close(probes.train_probe(x, y, steps=1, lr=0.5), expected)


def test_steering_adds_alpha_times_the_direction_at_the_hook():
    cfg = TransformerConfig(d_model=8, n_layers=2, n_heads=2, n_ctx=6, d_vocab=7, normalization_type="LN", seed=0)
    model = Transformer(cfg).eval()
    tokens = torch.randint(0, 7, (2, 6), generator=torch.Generator().manual_seed(1))
    direction = F.normalize(torch.randn(8), dim=0)
    torch.testing.assert_close(probes.steer(model, tokens, "blocks.1.hook_resid_post", direction, 0.0), model(tokens))
    _, cache = model.run_with_cache(tokens)
    shifted = cache["blocks.1.hook_resid_post"] + 3.0 * direction
    expected = model.unembed(model.ln_final(shifted))
    torch.testing.assert_close(probes.steer(model, tokens, "blocks.1.hook_resid_post", direction, 3.0), expected)


def test_text_properties_read_from_the_text():
    text = 'Ab "cd" e\n`x`'
    props = interpret.char_properties(text)
    assert props["inside a word"].nonzero().flatten().tolist() == [1, 5]
    assert props['inside a "string"'].nonzero().flatten().tolist() == [4, 5]
    assert props["inside `inline code`"].nonzero().flatten().tolist() == [11]
    assert props["starts a line"].nonzero().flatten().tolist() == [0, 10]
    assert props["next character is a space"].nonzero().flatten().tolist() == [1, 6]
    assert interpret.position_in_line(text).tolist()[8:12] == [8, 9, 0, 1]
