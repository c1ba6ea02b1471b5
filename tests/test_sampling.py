"""glassbox.sampling: the KV-cached forward equals the model's own forward on every configuration, cached
generation gives the same tokens as uncached, generation is seeded, and each chapter-5b solution and its library
twin agree (so neither can drift)."""

import pytest
import torch
from glassbox import sampling
from glassbox.config import TransformerConfig
from glassbox.model import Transformer
from glassbox_solutions import ch05b_sampling as solution

VARIANTS = {
    "GPT-2-like": {},
    "no LayerNorm": {"normalization_type": None},
    "attention-only": {"attn_only": True},
    "sinusoidal positions": {"positional_embedding": "sinusoidal"},
    "no positions": {"positional_embedding": "none", "act_fn": "gelu"},
    "no biases, no W_O": {"attn_bias": False, "attn_out_proj": False},
    "no residual, relu": {"use_residual": False, "act_fn": "relu"},
    "d_head ≠ d_model / n_heads": {"n_heads": 3, "d_head": 5},
}


@pytest.fixture(autouse=True)
def one_thread():
    """Generation runs a small model one token at a time: on a busy machine a second thread only adds contention."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _model(**changes) -> Transformer:
    cfg = TransformerConfig(d_model=24, n_layers=2, n_heads=4, d_vocab=17, n_ctx=12, init_range=0.3).with_(**changes)
    model = Transformer(cfg).eval()
    with torch.no_grad():  # non-zero biases and LayerNorm weights, so that reading them wrongly shows
        for param in model.parameters():
            if param.ndim == 1:
                param.add_(0.2 * torch.randn(param.shape, generator=torch.Generator().manual_seed(param.numel())))
    return model


@pytest.mark.parametrize("changes", VARIANTS.values(), ids=VARIANTS.keys())
def test_cached_forward_equals_the_models_forward(changes):
    model = _model(**changes)
    tokens = torch.randint(0, 17, (3, 12), generator=torch.Generator().manual_seed(0))
    cache = sampling.KVCache()
    pieces = [sampling.forward_with_cache(model, tokens[:, a:b], cache) for a, b in ((0, 5), (5, 6), (6, 12))]
    assert cache.length == 12
    torch.testing.assert_close(torch.cat(pieces, dim=1), model(tokens), rtol=1e-4, atol=1e-4)


def test_a_cache_that_forgets_positions_gives_other_logits():
    model = _model()
    tokens = torch.randint(0, 17, (1, 8), generator=torch.Generator().manual_seed(1))
    cache = sampling.KVCache()
    sampling.forward_with_cache(model, tokens[:, :7], cache)
    right = sampling.forward_with_cache(model, tokens[:, 7:], cache)
    forgetful = sampling.KVCache()
    sampling.forward_with_cache(model, tokens[:, :7], forgetful)
    forgetful.keys = [k[:, :0] for k in forgetful.keys]  # positions restart at 0 and the past is gone
    forgetful.values = [v[:, :0] for v in forgetful.values]
    assert not torch.allclose(sampling.forward_with_cache(model, tokens[:, 7:], forgetful), right, atol=1e-3)


def test_the_cache_refuses_to_run_past_the_context():
    model = _model()
    cache = sampling.KVCache()
    sampling.forward_with_cache(model, torch.zeros(1, 12, dtype=torch.long), cache)
    with pytest.raises(ValueError, match="exceed the context n_ctx=12"):
        sampling.forward_with_cache(model, torch.zeros(1, 1, dtype=torch.long), cache)


@pytest.mark.parametrize(
    "options",
    [{}, {"temperature": 1.0}, {"temperature": 0.8, "top_k": 5, "top_p": 0.9, "frequency_penalty_alpha": 0.5}],
    ids=["greedy", "sampled", "every filter"],
)
@pytest.mark.parametrize("changes", [{}, {"positional_embedding": "sinusoidal"}], ids=["learned", "sinusoidal"])
def test_cached_generation_gives_the_same_tokens_past_the_context(options, changes):
    model = _model(**changes)
    prompt = torch.tensor([[1, 2, 3], [4, 5, 6]])
    uncached = sampling.generate(model, prompt, 20, **options)  # 23 tokens: the window slides past n_ctx = 12
    cached = sampling.generate(model, prompt, 20, use_cache=True, **options)
    assert uncached.shape == (2, 23)
    assert torch.equal(cached, uncached)


def test_generation_runs_the_readers_own_cache_of_exercise_5b10():
    """`generate(..., new_cache=...)` samples with any cache that has `length` and `append`: the reader's KVCache
    (the solution here) gives the uncached tokens past the context, and a cache that forgets gives others."""
    model = _model()
    made = []

    def readers_cache():
        made.append(solution.KVCache(model.cfg.n_ctx))
        return made[-1]

    prompt = torch.tensor([[1, 2, 3], [4, 5, 6]])
    cached = sampling.generate(model, prompt, 20, use_cache=True, new_cache=readers_cache)
    assert torch.equal(cached, sampling.generate(model, prompt, 20))
    assert len(made) > 1 and isinstance(made[0], sampling.Cache), "fresh caches of its own once the window slides"

    class Forgets(solution.KVCache):
        def append(self, layer, k, v):
            return k, v  # the new positions only: the earlier ones are lost

    forgetful = sampling.generate(model, prompt, 20, use_cache=True, new_cache=lambda: Forgets(model.cfg.n_ctx))
    assert not torch.equal(forgetful, cached)


def test_generation_is_seeded_and_the_model_method_delegates_to_it():
    model = _model()
    first = sampling.generate(model, [1, 2], 15, temperature=1.0, seed=3)
    assert torch.equal(first, sampling.generate(model, [1, 2], 15, temperature=1.0, seed=3))
    assert not torch.equal(first, sampling.generate(model, [1, 2], 15, temperature=1.0, seed=4))
    assert torch.equal(model.generate(torch.tensor([1, 2]), 15, temperature=1.0, seed=3), first)


def test_bad_input_is_one_clear_error():
    model = _model()
    with pytest.raises(ValueError, match="temperature must be ≥ 0"):
        sampling.generate(model, [1], 3, temperature=-1.0)
    with pytest.raises(ValueError, match="token ids must lie in"):
        sampling.generate(model, [99], 3)
    with pytest.raises(ValueError, match="integer ids"):
        sampling.generate(model, torch.tensor([0.5]), 3)
    with pytest.raises(ValueError, match="top_k must be a positive integer"):
        sampling.top_k_logits(torch.zeros(3), 0)
    with pytest.raises(ValueError, match="top_p must lie in"):
        sampling.top_p_logits(torch.zeros(3), 1.5)
    with pytest.raises(ValueError, match="pos \\+ max_new_tokens ≤ n_ctx=12"):
        sampling.beam_search(model, torch.tensor([1, 2, 3]), 2, 10)


def test_each_solution_and_its_library_twin_agree():
    generator = torch.Generator().manual_seed(0)
    logits = 2 * torch.randn(4, 6, 30, generator=generator)
    tokens = torch.randint(0, 30, (4, 9), generator=generator)
    for k in (1, 4, 30, 40):
        torch.testing.assert_close(solution.top_k_logits(logits, k), sampling.top_k_logits(logits, k))
    for p in (1e-3, 0.3, 0.9, 1.0):
        torch.testing.assert_close(solution.top_p_logits(logits, p), sampling.top_p_logits(logits, p))
    torch.testing.assert_close(
        solution.frequency_penalty(logits[:, 0], tokens, 0.7), sampling.frequency_penalty(logits[:, 0], tokens, 0.7)
    )
    for options in ((0.0, None, None), (0.5, 3, None), (1.5, None, 0.7), (0.9, 8, 0.8)):
        torch.testing.assert_close(solution.sampling_probs(logits, *options), sampling.sampling_probs(logits, *options))
    q, k, v = (torch.randn(2, n, 3, 4, generator=generator) for n in (3, 7, 7))
    torch.testing.assert_close(solution.attend_with_cache(q, k, v), sampling.attend_with_cache(q, k, v))
    model = _model()
    for n_beams in (1, 3, 6):
        prompt = torch.tensor([3, 1])
        assert torch.equal(
            solution.beam_search(model, prompt, n_beams, 6), sampling.beam_search(model, prompt, n_beams, 6)
        )
    for twin in (solution, sampling):
        with pytest.raises(ValueError):
            twin.top_k_logits(logits, 0)
        with pytest.raises(ValueError):
            twin.top_p_logits(logits, 0.0)
        with pytest.raises(ValueError):
            twin.sampling_probs(logits, -0.5)
        with pytest.raises(ValueError):
            twin.beam_search(model, torch.tensor([1]), 0, 2)


def test_top_p_keeps_the_token_that_crosses_p():
    logits = torch.tensor([0.5, 0.3, 0.2]).log()
    kept = sampling.top_p_logits(logits, 0.6).isfinite()
    assert kept.tolist() == [True, True, False]


def _continuation_logprob(model, prompt, continuation) -> float:
    """The total log-probability the model gives `continuation` after `prompt`, one forward pass per sequence."""
    sequence = torch.cat([prompt, torch.tensor(continuation)])
    with torch.no_grad():
        logprobs = model(sequence[None])[0].log_softmax(-1)
    return sum(logprobs[len(prompt) - 1 + i, t].item() for i, t in enumerate(continuation))


@pytest.mark.parametrize("twin", [sampling, solution], ids=["library", "solution"])
def test_beam_search_of_one_beam_is_greedy_and_a_full_beam_is_exhaustive_search(twin):
    """Two invariants (beam search beating greedy is not one: greedy's prefix can be pruned from a narrow beam). One
    beam is greedy decoding; d_vocab^(n-1) beams keep every prefix, so the result is the best of all d_vocab^n
    continuations, found here by enumerating them."""
    import itertools

    model = _model(d_vocab=5, init_range=0.8)
    for prompt in (torch.tensor([1, 2, 3]), torch.tensor([4]), torch.tensor([0, 0])):
        assert torch.equal(twin.beam_search(model, prompt, 1, 5), sampling.generate(model, prompt, 5)[0])
        every = itertools.product(range(5), repeat=3)
        best = max(every, key=lambda c: _continuation_logprob(model, prompt, c))
        assert twin.beam_search(model, prompt, 25, 3)[len(prompt) :].tolist() == list(best)


def test_the_readers_own_model_of_chapter_4_samples_with_every_method_and_the_cache():
    from glassbox_solutions.ch04_model import DemoTransformer  # the model the reader assembles (references filled in)

    cfg = TransformerConfig(d_model=24, n_layers=2, n_heads=4, d_vocab=17, n_ctx=12, init_range=0.3)
    model = DemoTransformer(cfg).eval()
    tokens = torch.randint(0, 17, (2, 12), generator=torch.Generator().manual_seed(2))
    cache = sampling.KVCache()
    with torch.no_grad():
        cached = torch.cat([sampling.forward_with_cache(model, tokens[:, a:b], cache) for a, b in ((0, 4), (4, 12))], 1)
        torch.testing.assert_close(cached, model(tokens), rtol=1e-4, atol=1e-4)
    options = {"temperature": 0.9, "top_k": 6, "top_p": 0.9, "frequency_penalty_alpha": 0.2}
    uncached = sampling.generate(model, tokens[:, :3], 15, **options)
    assert torch.equal(sampling.generate(model, tokens[:, :3], 15, use_cache=True, **options), uncached)
    assert sampling.beam_search(model, tokens[0, :3], 3, 6).shape == (9,)


def test_as_batch_accepts_ids_and_refuses_everything_else():
    """Written to kill mutation-testing survivors: each check of `as_batch` is exercised at its boundary."""
    assert sampling.as_batch([3, 1]).tolist() == [[3, 1]] and sampling.as_batch([3, 1]).dtype == torch.long
    assert sampling.as_batch(torch.tensor([[0, 4]], dtype=torch.int32), d_vocab=5).dtype == torch.long
    assert sampling.as_batch([0, 4], d_vocab=5).tolist() == [[0, 4]]  # both ends of the range are ids
    assert sampling.as_batch([7]).tolist() == [[7]]  # no vocabulary given: no range to check
    for bad, message in (
        (torch.tensor([0.5]), "integer ids"),
        (torch.tensor([True]), "integer ids"),
        (torch.zeros(0, dtype=torch.long), "pos ≥ 1, got \\(1, 0\\)"),
        (torch.zeros(1, 0, dtype=torch.long), "pos ≥ 1, got \\(1, 0\\)"),
        (torch.zeros(1, 2, 2, dtype=torch.long), "\\[batch, pos\\] or \\[pos\\]"),
        ([5], "must lie in \\[0, 4\\], got 5 to 5"),
        ([-1, 2], "must lie in \\[0, 4\\], got -1 to 2"),
    ):
        with pytest.raises(ValueError, match=message):
            sampling.as_batch(bad, d_vocab=5)


def test_sampling_probs_by_hand():
    logits = torch.tensor([[3.0, 1.0, 0.0], [0.0, 2.0, 2.0]])
    # temperature 0: one-hot over the whole vocabulary, on the first largest logit
    assert sampling.sampling_probs(logits, 0.0).tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    with pytest.raises(ValueError, match="temperature must be ≥ 0, got -1"):
        sampling.sampling_probs(logits, -1.0)
    torch.testing.assert_close(sampling.sampling_probs(logits, 2.0), (logits / 2).softmax(-1))
    top_1 = sampling.sampling_probs(torch.tensor([3.0, 1.0, 0.0]), 1.0, top_k=1)
    assert top_1.tolist() == [1.0, 0.0, 0.0]
    # top_p after the temperature: at temperature 1, p 0.5 keeps only the 0.84 token; at 100 it needs two tokens
    assert (sampling.sampling_probs(torch.tensor([3.0, 1.0, 0.0]), 1.0, top_p=0.5) > 0).sum() == 1
    assert (sampling.sampling_probs(torch.tensor([3.0, 1.0, 0.0]), 100.0, top_p=0.5) > 0).sum() == 2


def _exhaustive(model, prompt, max_new, eos, n, k):
    """The k best sequences of at most `max_new` new tokens, by enumeration: a sequence stops at its first eos;
    with repeat blocking of size n, no new token may complete an n-gram the sequence held before it. Padded with
    eos after the end, best first (total log-probability of the new tokens)."""
    import itertools

    vocab = model.cfg.d_vocab
    found = {}
    for new in itertools.product(range(vocab), repeat=max_new):
        new = list(new)
        if eos is not None and eos in new:
            new = new[: new.index(eos) + 1]
        seq = prompt.tolist() + new
        if n is not None:
            repeats = any(
                seq[t - n + 1 : t + 1] == seq[j : j + n] for t in range(len(prompt), len(seq)) for j in range(t - n + 1)
            )
            if repeats:
                continue
        found[tuple(new)] = _continuation_logprob(model, prompt, new)
    ranked = sorted(found.items(), key=lambda item: -item[1])[:k]
    pad = eos if eos is not None else 0
    return [prompt.tolist() + list(new) + [pad] * (max_new - len(new)) for new, _ in ranked]


@pytest.mark.parametrize("twin", [sampling, solution], ids=["library", "solution"])
@pytest.mark.parametrize("eos, n", [(0, None), (None, 2), (0, 2), (3, 1)])
def test_beam_search_sequences_with_a_full_beam_is_exhaustive_search(twin, eos, n):
    """A beam wide enough to keep every live sequence (d_vocab^3 here) returns exactly the k best of all
    sequences: finished beams kept aside and ranked with the live ones by their total log-probability, repeat
    blocking with the prompt counted; rows padded with eos after the end, best first."""
    model = _model(d_vocab=5, init_range=0.8)
    for prompt in (torch.tensor([1, 2]), torch.tensor([4, 4, 1])):
        expected = _exhaustive(model, prompt, 3, eos, n, 6)
        got = twin.beam_search_sequences(model, prompt, 125, 3, 6, eos, n)
        assert got.tolist() == expected, (prompt, eos, n)


def test_a_narrow_beam_with_eos_returns_sorted_padded_sequences_and_beam_search_stops_at_eos():
    model = _model(d_vocab=5, init_range=0.8)
    prompt = torch.tensor([1, 2])
    for eos in range(5):
        rows = sampling.beam_search_sequences(model, prompt, 3, 6, 3, eos_token=eos, no_repeat_ngram_size=3)
        assert rows.shape == (3, 8)
        scores = []
        for row in rows:
            new = row[2:].tolist()
            end = new.index(eos) + 1 if eos in new else len(new)
            assert all(t == eos for t in new[end:]), "after the end, only padding"
            scores.append(_continuation_logprob(model, prompt, new[:end]))
        assert scores == sorted(scores, reverse=True), "best first"
        best = sampling.beam_search(model, prompt, 3, 6, eos_token=eos, no_repeat_ngram_size=3)
        assert best.tolist() == rows[0][: len(best)].tolist() and (len(best) == 8 or best[-1] == eos)


def test_banned_tokens_names_the_tokens_that_would_repeat_an_ngram():
    beams = torch.tensor([[1, 2, 3, 1, 2], [4, 4, 4, 4, 0]])
    for twin in (sampling, solution):
        assert twin.banned_tokens(beams, 3, 6).nonzero().tolist() == [[0, 3]]  # 1 2 → 3 again; no 4 0 seen before
        assert twin.banned_tokens(beams, 2, 6).nonzero().tolist() == [[0, 3]]  # 2 → 3; 0 → nothing yet
        assert twin.banned_tokens(beams, 1, 6).nonzero().tolist() == [[0, 1], [0, 2], [0, 3], [1, 0], [1, 4]]
        assert not twin.banned_tokens(beams, 6, 6).any()  # no 6-gram yet
        with pytest.raises(ValueError, match="positive integer"):
            twin.banned_tokens(beams, 0, 6)


def test_the_solution_cached_forward_on_the_readers_model_equals_its_forward_token_by_token():
    from glassbox_solutions.ch04_model import DemoTransformer

    for changes in ({}, {"attn_only": True}, {"normalization_type": None}):
        cfg = TransformerConfig(d_model=24, n_layers=2, n_heads=4, d_vocab=17, n_ctx=12, init_range=0.3).with_(
            **changes
        )
        model = DemoTransformer(cfg).eval()
        tokens = torch.randint(0, 17, (2, 12), generator=torch.Generator().manual_seed(3))
        cache = sampling.KVCache()
        with torch.no_grad():
            pieces = [
                solution.forward_with_cache(model, tokens[:, a:b], cache)
                for a, b in ((0, 5), *((i, i + 1) for i in range(5, 12)))
            ]
            torch.testing.assert_close(torch.cat(pieces, 1), model(tokens), rtol=1e-4, atol=1e-4)
        assert cache.length == 12
        uncached = sampling.generate(model, tokens[:, :3], 20, temperature=0.9, top_p=0.9)
        cached = sampling.generate(
            model, tokens[:, :3], 20, temperature=0.9, top_p=0.9, use_cache=True, forward=solution.forward_with_cache
        )
        assert torch.equal(cached, uncached)  # 23 > n_ctx: the window slides and the cache is rebuilt


def test_kv_cache_append_fills_layers_in_order():
    cache, k = sampling.KVCache(), torch.zeros(1, 2, 1, 3)
    assert cache.append(0, k, k)[0].shape == (1, 2, 1, 3) and cache.length == 2
    with pytest.raises(ValueError, match="layer 2 appended before layer 1"):
        cache.append(2, k, k)
    assert cache.append(0, k, k + 1)[1].shape == (1, 4, 1, 3)
