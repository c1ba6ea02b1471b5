"""Property-based tests (hypothesis) where a property is the natural oracle: the causal mask at any size, top-k and
top-p filtering and the sampling distribution, BPE (decoding inverts encoding; the merges equal a plain-Python BPE),
and parameter counts for random configurations.

Settings: derandomize=True (the examples are a function of the test, so CI cannot flake), deadline=None (a loaded
machine is slow, not wrong), and a modest max_examples so the fast tier stays fast."""

from __future__ import annotations

import math

import torch
from glassbox import bpe, sampling
from glassbox.config import TransformerConfig
from glassbox.data import CharTokenizer
from glassbox.model import Transformer
from glassbox.parameters import counts_by_kind, parameter_counts
from glassbox_solutions import ch01_attention, ch04_model, ch05b_sampling
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

PROPERTY = settings(
    max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow], database=None
)


def _logits(values: list[float]) -> torch.Tensor:
    return torch.tensor([values], dtype=torch.float64)


distinct_logits = st.lists(st.floats(-20, 20, allow_nan=False, width=64), min_size=1, max_size=12, unique=True).map(
    _logits
)
any_logits = st.lists(st.sampled_from([-3.0, -1.0, 0.0, 0.5, 2.0]), min_size=1, max_size=12).map(_logits)  # ties


# ------------------------------------------------------------------------------------------------ causal masks
@PROPERTY
@given(n=st.integers(1, 80))
def test_causal_mask_of_any_size_lets_each_query_see_exactly_the_keys_up_to_itself(n):
    mask = ch01_attention.causal_mask(n)
    assert mask.dtype == torch.bool and mask.shape == (n, n)
    for query in (0, n // 2, n - 1):
        assert mask[query].tolist() == [key <= query for key in range(n)]
    assert int(mask.sum()) == n * (n + 1) // 2


@PROPERTY
@given(n_query=st.integers(1, 20), batch=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_the_library_mask_sets_exactly_the_future_keys_to_minus_infinity(n_query, batch, seed):
    from glassbox.components import Attention

    attention = Attention(TransformerConfig(d_model=4, n_heads=2, n_ctx=32, d_vocab=5))
    scores = torch.randn(batch, 2, n_query, n_query, generator=torch.Generator().manual_seed(seed))
    masked = attention.apply_causal_mask(scores)
    future = torch.tensor([[key > query for key in range(n_query)] for query in range(n_query)])
    assert torch.isneginf(masked[..., future]).all()
    assert torch.equal(masked[..., ~future], scores[..., ~future])


_CAUSAL_MODELS = {
    name: Transformer(TransformerConfig(d_model=8, n_layers=2, n_heads=2, d_vocab=7, n_ctx=12, seed=3, **changes))
    for name, changes in {
        "LN": {},
        "no LN": {"normalization_type": None},
        "sinusoidal": {"positional_embedding": "sinusoidal"},
    }.items()
}


@settings(PROPERTY, max_examples=10)  # a forward pass is slower than the other examples: fewer of them
@given(
    name=st.sampled_from(sorted(_CAUSAL_MODELS)),
    tokens=st.lists(st.integers(0, 6), min_size=2, max_size=12),
    cut=st.integers(0, 10),
    change=st.integers(1, 6),
)
def test_a_models_output_at_a_position_never_depends_on_later_tokens(name, tokens, cut, change):
    """Causality end to end (the fast SDPA path and the hooked path): changing every token after `cut` leaves the
    logits at positions up to `cut` unchanged, and changes the last position's (so the test can see a change)."""
    assume(cut < len(tokens) - 1)
    model = _CAUSAL_MODELS[name]
    before = torch.tensor([tokens])
    after = before.clone()
    after[0, cut + 1 :] = (after[0, cut + 1 :] + change) % 7
    with torch.no_grad():
        for hooked in (False, True):
            hooks = [("blocks.0.attn.hook_pattern", lambda x, hook: x)] if hooked else []
            with model.hooks(fwd_hooks=hooks):
                first, second = model(before), model(after)
            torch.testing.assert_close(first[0, : cut + 1], second[0, : cut + 1], rtol=0, atol=1e-5)
            assert not torch.allclose(first[0, -1], second[0, -1])


# ---------------------------------------------------------------------------------------------------- samplers
@PROPERTY
@given(logits=distinct_logits, k=st.integers(1, 14))
def test_top_k_keeps_exactly_the_k_largest_logits_unchanged(logits, k):
    for top_k in (sampling.top_k_logits, ch05b_sampling.top_k_logits):
        kept = torch.isfinite(top_k(logits, k))
        assert int(kept.sum()) == min(k, logits.shape[-1])
        assert torch.equal(top_k(logits, k)[kept], logits[kept])
        if not kept.all():
            assert logits[kept].min() > logits[~kept].max()


@PROPERTY
@given(logits=any_logits, k=st.integers(1, 14))
def test_top_k_with_ties_keeps_every_logit_at_least_the_kth_largest(logits, k):
    kth = logits.sort(descending=True).values[0, min(k, logits.shape[-1]) - 1]
    for top_k in (sampling.top_k_logits, ch05b_sampling.top_k_logits):
        assert torch.isfinite(top_k(logits, k)).tolist() == (logits >= kth).tolist()


@PROPERTY
@given(logits=st.one_of(distinct_logits, any_logits), p=st.floats(0.01, 1.0))
def test_top_p_keeps_the_smallest_most_likely_set_with_mass_at_least_p(logits, p):
    probs = logits.softmax(-1)[0]
    for top_p in (sampling.top_p_logits, ch05b_sampling.top_p_logits):
        filtered = top_p(logits, p)
        kept = torch.isfinite(filtered)[0]
        assert torch.equal(filtered[0, kept], logits[0, kept])
        mass = float(probs[kept].sum())
        assert mass >= p - 1e-9  # enough mass
        assert mass - float(probs[kept].min()) < p + 1e-9  # and no smaller set of the kept would do
        if not kept.all():  # the most likely tokens: no dropped one beats a kept one
            assert probs[kept].min() >= probs[~kept].max()


@PROPERTY
@given(
    logits=st.one_of(distinct_logits, any_logits),
    temperature=st.sampled_from([0.0, 0.3, 1.0, 2.5]),
    k=st.one_of(st.none(), st.integers(1, 14)),
    p=st.one_of(st.none(), st.floats(0.05, 1.0)),
)
def test_sampling_probs_is_a_distribution_on_exactly_the_tokens_the_filters_keep(logits, temperature, k, p):
    for sampling_probs in (sampling.sampling_probs, ch05b_sampling.sampling_probs):
        probs = sampling_probs(logits, temperature, top_k=k, top_p=p)
        assert (probs >= 0).all()
        assert math.isclose(float(probs.sum()), 1.0, abs_tol=1e-9)
        if temperature == 0:  # greedy: all mass on the first largest logit
            assert probs.tolist()[0] == [float(i == int(logits.argmax())) for i in range(logits.shape[-1])]
            continue
        allowed = torch.ones_like(logits, dtype=torch.bool)
        scaled = logits / temperature
        if k is not None:
            allowed &= torch.isfinite(sampling.top_k_logits(scaled, k))
        if p is not None:
            allowed &= torch.isfinite(sampling.top_p_logits(scaled.masked_fill(~allowed, -math.inf), p))
        assert ((probs > 0) == allowed).all()
        expected = scaled.masked_fill(~allowed, -math.inf).softmax(-1)  # ratios among the kept follow exp(l / T)
        torch.testing.assert_close(probs, expected)


# --------------------------------------------------------------------------------------------------------- BPE
def _plain_bpe(ids: list[int], n_merges: int, d_vocab: int) -> list[tuple[int, int]] | None:
    """BPE in plain Python, from its definition: count adjacent pairs, merge the most frequent (ties: the smallest
    pair) left to right without overlaps, repeat. None when the sequence runs out of pairs first."""
    merges = []
    for i in range(n_merges):
        counts: dict[tuple[int, int], int] = {}
        for pair in zip(ids[:-1], ids[1:], strict=True):
            counts[pair] = counts.get(pair, 0) + 1
        if not counts:
            return None
        best = min(counts, key=lambda pair: (-counts[pair], pair))
        merged, j = [], 0
        while j < len(ids):
            if j + 1 < len(ids) and (ids[j], ids[j + 1]) == best:
                merged.append(d_vocab + i)
                j += 2
            else:
                merged.append(ids[j])
                j += 1
        ids = merged
        merges.append(best)
    return merges


texts = st.text(alphabet="abcab a", min_size=2, max_size=40)


@PROPERTY
@given(text=texts, n_merges=st.integers(0, 8))
def test_bpe_learns_the_merges_plain_python_bpe_learns(text, n_merges):
    chars = CharTokenizer.from_text(text)
    expected = _plain_bpe(chars.encode(text).tolist(), n_merges, chars.d_vocab)
    assume(expected is not None)
    learned = bpe.learn_merges(chars.encode(text), n_merges, chars.d_vocab)
    assert [tuple(pair) for pair in learned.tolist()] == expected


@PROPERTY
@given(text=texts, other=texts, n_merges=st.integers(0, 8))
def test_bpe_decode_inverts_encode_and_each_merge_shortens_by_its_count(text, other, n_merges):
    chars = CharTokenizer.from_text(text + other)
    assume(_plain_bpe(chars.encode(text).tolist(), n_merges, chars.d_vocab) is not None)
    tokenizer = bpe.train_bpe(text, n_merges, chars)
    assert tokenizer.d_vocab == chars.d_vocab + n_merges
    for sample in (text, other):
        tokens = tokenizer.encode(sample)
        assert tokenizer.decode(tokens) == sample
        assert "".join(tokenizer.str_tokens(sample)) == sample
        ids = chars.encode(sample)  # merge by merge: the length falls by the number of non-overlapping matches
        for i, (first, second) in enumerate(tokenizer.merges.tolist()):
            row, matches, j = ids.tolist(), 0, 0
            while j + 1 < len(row):
                if (row[j], row[j + 1]) == (first, second):
                    matches, j = matches + 1, j + 2
                else:
                    j += 1
            merged = bpe.merge_pair(ids, (first, second), chars.d_vocab + i)
            assert len(merged) == len(ids) - matches
            ids = merged
        assert torch.equal(ids, tokens)


# ---------------------------------------------------------------------------------------------- parameter counts
configs = st.builds(
    TransformerConfig,
    d_model=st.sampled_from([2, 4, 6, 8, 12]),
    n_layers=st.integers(1, 3),
    n_heads=st.sampled_from([1, 2]),
    d_head=st.one_of(st.none(), st.integers(1, 5)),
    d_mlp=st.one_of(st.none(), st.integers(1, 9)),
    d_vocab=st.integers(1, 11),
    n_ctx=st.integers(1, 9),
    normalization_type=st.sampled_from(["LN", None]),
    attn_only=st.booleans(),
    positional_embedding=st.sampled_from(["learned", "sinusoidal", "none"]),
    act_fn=st.sampled_from(["relu", "gelu", "gelu_new"]),
)


@PROPERTY
@given(cfg=configs)
def test_count_parameters_equals_the_sum_of_numel_of_a_random_configs_model(cfg):
    model = Transformer(cfg)
    numel = sum(param.numel() for param in model.parameters())
    assert ch04_model.count_parameters(cfg) == numel
    assert sum(parameter_counts(model.named_parameters()).values()) == numel
    assert sum(counts_by_kind({name: p.shape for name, p in model.named_parameters()}).values()) == numel
