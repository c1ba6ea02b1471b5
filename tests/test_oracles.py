"""Independent oracles for the reference solutions (and their library twins) whose exercise checks compare them only
with themselves or with a property: each is held to a TransformerLens or PyTorch equivalent, a model's own forward
pass, a brute-force loop, or a case small enough to check on paper. Under the default `--impl solutions` the exercise
tests compare a reference with itself; these tests are what fails when a reference is wrong."""

import math

import pytest
import torch
import torch.nn.functional as F
import transformer_lens.patching as tl_patching
from glassbox import sampling, train
from glassbox.analysis import interventions
from glassbox.checking.answer import randomize
from glassbox.config import TransformerConfig
from glassbox.model import Transformer
from glassbox_solutions import (
    ch01_attention,
    ch05_training,
    ch05b_sampling,
    ch07_gallery,
    ch09_circuits,
    ch10_interventions,
)


def _model(**changes) -> Transformer:
    cfg = TransformerConfig(d_model=8, n_layers=2, n_heads=2, d_vocab=7, n_ctx=6, d_mlp=12, seed=0).with_(**changes)
    return randomize(Transformer(cfg), seed=1).eval()


# ------------------------------------------------------------------------------------------------ chapter 5b
def test_frequency_penalty_by_hand_and_by_loop():
    logits = torch.tensor([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0]])
    tokens = torch.tensor([[2, 2, 0], [3, 1, 3]])  # row 0: token 2 twice, token 0 once; row 1: token 3 twice, 1 once
    expected = torch.tensor([[0.5, 2.0, 2.0, 4.0], [0.0, -0.5, 0.0, -1.0]])  # alpha 0.5
    generator = torch.Generator().manual_seed(0)
    big_logits, big_tokens = torch.randn(3, 9, generator=generator), torch.randint(0, 9, (3, 11), generator=generator)
    looped = big_logits.clone()
    for b in range(3):
        for t in big_tokens[b].tolist():  # one subtraction per occurrence, in its own row only
            looped[b, t] -= 0.7
    for twin in (ch05b_sampling.frequency_penalty, sampling.frequency_penalty):
        torch.testing.assert_close(twin(logits, tokens, 0.5), expected)
        torch.testing.assert_close(twin(big_logits, big_tokens, 0.7), looped)


def test_top_k_and_top_p_by_hand():
    logits = torch.tensor([[1.0, 3.0, 2.0, 3.0, 0.0]])
    inf = float("-inf")
    probs = torch.tensor([[0.5, 0.25, 0.15, 0.1]])
    for twin in (ch05b_sampling.top_k_logits, sampling.top_k_logits):
        assert twin(logits, 1).tolist() == [[inf, 3.0, inf, 3.0, inf]]  # a tie with the k-th largest is kept
        assert twin(logits, 3).tolist() == [[inf, 3.0, 2.0, 3.0, inf]]
        assert twin(logits, 9).tolist() == logits.tolist()
    for twin in (ch05b_sampling.top_p_logits, sampling.top_p_logits):
        # cumulative 0.5, 0.75, 0.9, 1.0: p 0.5 keeps one token, 0.6 two, 0.8 three (the one that crosses p is kept)
        for p, kept in ((0.5, 1), (0.6, 2), (0.8, 3), (1.0, 4)):
            filtered = twin(probs.log(), p)
            assert torch.isfinite(filtered).sum().item() == kept, p
            assert torch.isfinite(filtered[0, :kept]).all(), p


# ------------------------------------------------------------------------------------------------ chapter 1
def test_causal_mask_from_its_words_and_against_pytorchs_causal_attention():
    assert ch01_attention.causal_mask(3).tolist() == [[True, False, False], [True, True, False], [True, True, True]]
    generator = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 5, 4, generator=generator) for _ in range(3))
    torch.testing.assert_close(
        ch01_attention.masked_attention(q, k, v), F.scaled_dot_product_attention(q, k, v, is_causal=True)
    )


# ------------------------------------------------------------------------------------------------ chapter 5
def test_warmup_cosine_lr_at_the_points_its_words_fix():
    for twin in (ch05_training.warmup_cosine_lr, train.warmup_cosine_lr):
        assert twin(1, 1.0, 4, 14) == pytest.approx(0.25)  # warm-up from max_lr / warmup_steps
        assert twin(4, 1.0, 4, 14) == pytest.approx(1.0)  # max_lr at the end of the warm-up
        assert twin(9, 1.0, 4, 14, min_lr=0.2) == pytest.approx(0.6)  # half-way down the cosine: the middle
        assert twin(14, 1.0, 4, 14, min_lr=0.2) == pytest.approx(0.2)  # min_lr at the last step
        assert twin(6, 2.0, 0, 11) == pytest.approx(2.0 * 0.5 * (1 + math.cos(math.pi * 6 / 11)))


def _next_token_loss_by_hand(model, batch):
    logits = model(batch)
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))


def test_train_step_is_one_sgd_step_on_the_next_token_loss():
    model = _model()
    batch = torch.randint(0, 7, (3, 6), generator=torch.Generator().manual_seed(2))
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    expected_loss = _next_token_loss_by_hand(model, batch)
    grads = dict(zip(before, torch.autograd.grad(expected_loss, list(model.parameters())), strict=True))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for p in model.parameters():
        p.grad = torch.ones_like(p)  # stale gradients: train_step must clear them, not add to them
    loss = ch05_training.train_step(model, optimizer, batch, max_grad_norm=None)
    assert loss == pytest.approx(expected_loss.item(), rel=1e-5)  # the loss before the update
    for name, p in model.named_parameters():
        torch.testing.assert_close(p.detach(), before[name] - 0.1 * grads[name], msg=name)


def test_evaluate_loss_is_the_mean_over_every_window_whatever_the_batch_size():
    model = _model()
    windows = torch.randint(0, 7, (7, 6), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        expected = _next_token_loss_by_hand(model, windows).item()
    model.train()
    for batch_size in (1, 3, 7, 100):
        assert ch05_training.evaluate_loss(model, windows, batch_size) == pytest.approx(expected, rel=1e-5)
    assert model.training  # left in the mode it was in


# ------------------------------------------------------------------------------------------------ chapter 7
def _is_lucky7(sequence: list[int]) -> bool:
    """lucky7 in its own words: tokens 0-10, 20 to 50 of them, and after every 7 that is not the first token, the
    token before that 7."""
    if not 20 <= len(sequence) <= 50 or not all(0 <= t <= 10 for t in sequence):
        return False
    return all(sequence[i + 1] == sequence[i - 1] for i in range(1, len(sequence) - 1) if sequence[i] == 7)


def test_lucky7_generate_obeys_the_rule_as_worded():
    assert _is_lucky7([3, 7, 3] + [1] * 20) and not _is_lucky7([3, 7, 4] + [1] * 20)  # the oracle itself
    assert _is_lucky7([7, 5] + [1] * 20)  # a 7 at position 0 copies nothing
    sequences = ch07_gallery.lucky7_generate(200, seed=0)
    assert len(sequences) == 200 and all(_is_lucky7(s) for s in sequences)
    assert sum(s[1:-1].count(7) for s in sequences) > 50  # the rule is exercised, not vacuously true
    assert {len(s) for s in sequences} >= {20, 50}  # both ends of the length range occur


# ------------------------------------------------------------------------------------------------ chapter 9
def test_head_path_logits_is_a_heads_share_of_a_real_models_logits():
    """In a one-layer, one-head, attention-only model without LayerNorm, positions or attention biases, the logits
    are the direct path (embedding → unembedding) plus the head's path: the model's own forward pass is the oracle."""
    model = _model(
        n_layers=1, n_heads=1, attn_only=True, normalization_type=None, positional_embedding="none", attn_bias=False
    )
    tokens = torch.randint(0, 7, (3, 6), generator=torch.Generator().manual_seed(4))
    logits, cache = model.run_with_cache(tokens)
    embedded = model.W_E[tokens]
    head_only = logits - embedded @ model.W_U - model.b_U
    result = ch09_circuits.head_path_logits(
        cache["pattern", 0][:, 0], embedded, model.W_V[0, 0], model.W_O[0, 0], model.W_U
    )
    torch.testing.assert_close(result, head_only, atol=1e-5, rtol=1e-5)
    # on paper: one key (weight 1) carrying e1, identity maps: the logits are e1
    eye = torch.eye(2)
    by_hand = ch09_circuits.head_path_logits(torch.tensor([[[1.0, 0.0], [0.5, 0.5]]]), eye[None], eye, eye, eye)
    torch.testing.assert_close(by_hand, torch.tensor([[[1.0, 0.0], [0.5, 0.5]]]))


# ------------------------------------------------------------------------------------------------ chapter 10
def test_zero_and_mean_ablation_by_hand():
    z = torch.arange(2 * 1 * 3 * 2, dtype=torch.float32).reshape(2, 1, 3, 2)  # [batch 2, pos 1, head 3, d_head 2]
    original = z.clone()
    zeroed = ch10_interventions.zero_ablate_head(z, 1)
    assert zeroed[:, :, 1].abs().sum() == 0 and torch.equal(zeroed[:, :, [0, 2]], z[:, :, [0, 2]])
    meaned = ch10_interventions.mean_ablate_head(z, 1)
    # head 1 holds (2, 3) in sequence 0 and (8, 9) in sequence 1: both become their mean (5, 6)
    assert meaned[:, 0, 1].tolist() == [[5.0, 6.0], [5.0, 6.0]]
    assert torch.equal(meaned[:, :, [0, 2]], z[:, :, [0, 2]]) and torch.equal(z, original)


def test_mean_ablation_by_loop_keeps_each_position_its_own_mean():
    z = torch.randn(4, 3, 2, 5, generator=torch.Generator().manual_seed(5))
    expected = z.clone()
    for pos in range(3):
        expected[:, pos, 0] = sum(z[b, pos, 0] for b in range(4)) / 4
    torch.testing.assert_close(ch10_interventions.mean_ablate_head(z, 0), expected)


def test_patch_position_gives_transformer_lens_residual_patching_table():
    model = _model()
    clean = torch.randint(0, 7, (3, 5), generator=torch.Generator().manual_seed(6))
    corrupted = clean.clone()
    corrupted[:, 1] = (clean[:, 1] + 3) % 7

    def metric(logits):
        return logits[:, -1, 2].mean()

    _, clean_cache = model.run_with_cache(clean)
    expected = tl_patching.get_act_patch_resid_pre(model, corrupted, clean_cache, metric)
    table = torch.zeros(2, 5)
    for layer in range(2):
        name = f"blocks.{layer}.hook_resid_pre"
        for pos in range(5):

            def patch(activation, hook, pos=pos, name=name):
                return ch10_interventions.patch_position(activation, clean_cache[name], pos)

            with torch.no_grad(), model.hooks(fwd_hooks=[(name, patch)]):
                table[layer, pos] = metric(model(corrupted))
    torch.testing.assert_close(table, expected)
    assert table[0, 1] != table[0, 0]  # the corrupted position matters: the table is not flat


def test_attribution_patch_estimate_is_exact_for_a_linear_metric():
    """For a metric linear in the activation, the first-order estimate of patching head h equals the metric of the
    corrupted run with head h (every position, every sequence) actually patched."""
    generator = torch.Generator().manual_seed(7)
    A = torch.randn(2, 3, 4, 5, generator=generator)  # metric(z) = Σ A·z + 1.5, so its gradient is A everywhere
    clean, corrupted = torch.randn(2, 3, 4, 5, generator=generator), torch.randn(2, 3, 4, 5, generator=generator)

    def metric(z):
        return (A * z).sum().item() + 1.5

    expected = []
    for head in range(4):
        patched = corrupted.clone()
        patched[:, :, head] = clean[:, :, head]
        expected.append(metric(patched))
    estimate = ch10_interventions.attribution_patch_estimate(A, clean, corrupted, metric(corrupted))
    torch.testing.assert_close(estimate, torch.tensor(expected))


def test_add_edge_gives_the_head_the_projection_of_the_stream_plus_the_write():
    """Path patching's edge, from its definition: head h's q/k/v must be what its own projection of (stream + write)
    gives, while every other head still projects the stream alone. The oracle is the library's projection run on the
    two streams, not a restatement of `write @ W`."""
    model = _model(n_heads=3, d_head=2, attn_only=True, normalization_type=None)
    attn = model.blocks[1].attn
    generator = torch.Generator().manual_seed(8)
    stream, write = torch.randn(2, 4, 8, generator=generator), torch.randn(2, 4, 8, generator=generator)
    with torch.no_grad():
        for W, b in ((attn.W_Q, attn.b_Q), (attn.W_K, attn.b_K), (attn.W_V, attn.b_V)):
            activation = attn.project(stream, W, b)
            moved = attn.project(stream + write, W, b)
            original = activation.clone()
            result = ch10_interventions.add_edge(activation, write, W[1], 1)
            torch.testing.assert_close(result[:, :, 1], moved[:, :, 1])
            torch.testing.assert_close(result[:, :, [0, 2]], activation[:, :, [0, 2]])
            assert torch.equal(activation, original)  # the hook's input is left as it was


def test_path_patch_against_a_second_forward_with_the_receivers_input_rebuilt():
    """`interventions.path_patch` against path patching done another way: the sender's clean and corrupted outputs
    are read from a run of its attention layer with every other head silenced (W_O and b_O zero), and the receiving
    head's keys are recomputed by its projection from the corrupted stream plus that difference."""
    model = _model(
        n_layers=3, attn_only=True, normalization_type=None
    ).double()  # float64: small edges stand clear of rounding
    clean = torch.randint(0, 7, (3, 6), generator=torch.Generator().manual_seed(9))
    corrupted = clean.clone()
    corrupted[:, 2] = (clean[:, 2] + 2) % 7

    def metric(logits):
        return logits[:, -1, 3].mean()

    sender = (0, 1)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if ".W_" in name:  # larger weights: each edge moves the metric well past the comparison's tolerance
                param.mul_(1.5)  # (much larger saturates the patterns, and an edge into a query then moves nothing)

    def sender_output(tokens):
        _, cache = model.run_with_cache(tokens)
        attn = model.blocks[0].attn
        saved = attn.W_O.detach().clone(), attn.b_O.detach().clone()
        with torch.no_grad():
            attn.W_O[0] = 0
            attn.b_O.zero_()
            out = attn(cache["blocks.0.hook_resid_pre"])
            attn.W_O.copy_(saved[0])
            attn.b_O.copy_(saved[1])
        return out

    difference = sender_output(clean) - sender_output(corrupted)
    _, corrupted_cache = model.run_with_cache(corrupted)
    unpatched = metric(model(corrupted)).item()
    for part in "qkv":
        table = interventions.path_patch(model, clean, corrupted, metric, sender, component=part)
        assert torch.isnan(table[0]).all()
        for layer in (1, 2):
            attn = model.blocks[layer].attn
            stream = corrupted_cache[f"blocks.{layer}.hook_resid_pre"]
            W, b = getattr(attn, f"W_{part.upper()}"), getattr(attn, f"b_{part.upper()}")
            for head in range(2):
                rebuilt = attn.project(stream + difference, W, b)[:, :, head].detach()

                def replace(activation, hook, head=head, rebuilt=rebuilt):
                    activation = activation.clone()
                    activation[:, :, head] = rebuilt
                    return activation

                with torch.no_grad(), model.hooks(fwd_hooks=[(f"blocks.{layer}.attn.hook_{part}", replace)]):
                    expected = metric(model(corrupted))
                torch.testing.assert_close(
                    table[layer, head], expected.float(), atol=1e-6, rtol=0, msg=f"{part}: receiver L{layer}H{head}"
                )
        assert (table[1:] - unpatched).abs().min() > 2e-5, part  # every edge moves the metric on this model
