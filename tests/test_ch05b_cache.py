"""Exercise 5b.10, the learner's `KVCache`: the reference is pinned to the library's `sampling.KVCache` (the same keys,
values and length append by append, the same logits inside the library's cached forward, the same refusal past
n_ctx, which the library's forward makes), and every mistake the check names fails in one line that names it."""

import pytest
import torch
from glassbox import sampling
from glassbox.checking.checks import EXERCISES
from glassbox.checking.checks import kvcache_cases as cases
from glassbox.checking.judge import run_checks
from glassbox_solutions.ch05b_sampling import KVCache, forward_with_cache


def test_the_reference_cache_and_the_librarys_return_the_same_tensors_append_by_append():
    ours, library = KVCache(cases.CACHE_CTX), sampling.KVCache()
    for step, (layer, n_new) in enumerate(cases.CACHE_APPENDS):
        k, v = cases._new_kv(step, n_new)
        for got, expected in zip(ours.append(layer, k, v), library.append(layer, k, v), strict=True):
            torch.testing.assert_close(got, expected, rtol=0, atol=0)
        assert ours.length == library.length
    assert ours.length == sum(n for layer, n in cases.CACHE_APPENDS if layer == 0)


def test_the_reference_cache_in_the_reference_forward_gives_the_librarys_cached_logits():
    """The library's forward takes only its own cache (annotated `KVCache`, checked at run time in the tests): the
    reference cache runs in the reference forward, which exercise 5b.9 pins to the uncached model."""
    model = cases._own_model(seed=1)
    tokens = torch.randint(0, 17, (2, model.cfg.n_ctx), generator=torch.Generator().manual_seed(2))
    ours, library = KVCache(model.cfg.n_ctx), sampling.KVCache()
    with torch.no_grad():
        for a, b in cases.FULL_CONTEXT_SPLITS:
            torch.testing.assert_close(
                forward_with_cache(model, tokens[:, a:b], ours),
                sampling.forward_with_cache(model, tokens[:, a:b], library),
                rtol=1e-5,
                atol=1e-5,
            )
    assert ours.length == library.length == model.cfg.n_ctx


def test_past_n_ctx_the_reference_cache_refuses_where_the_librarys_forward_does():
    model = cases._own_model(seed=1)
    n_ctx = model.cfg.n_ctx
    tokens = torch.randint(0, 17, (1, n_ctx + 1), generator=torch.Generator().manual_seed(3))
    ours, library = KVCache(n_ctx), sampling.KVCache()
    with torch.no_grad():
        forward_with_cache(model, tokens[:, :n_ctx], ours)  # the whole context: taken
        sampling.forward_with_cache(model, tokens[:, :n_ctx], library)
        with pytest.raises(ValueError, match=f"exceed the context n_ctx={n_ctx}"):
            sampling.forward_with_cache(model, tokens[:, n_ctx:], library)
        k, v = cases._new_kv(0, 1)
        with pytest.raises(ValueError, match=f"exceed the context n_ctx={n_ctx}") as refused:
            ours.append(0, k, v)
    assert "\n" not in str(refused.value) and ours.length == n_ctx
    with pytest.raises(ValueError, match="exceed the context n_ctx=4"):
        KVCache(4).append(0, *cases._new_kv(0, 5))  # a prompt longer than the context, into an empty cache


def _first_failure(answer) -> str:
    failures = [result for result in run_checks(answer, EXERCISES["KVCache"], 5.0) if not result.passed]
    assert failures, f"{answer.__name__} passed the KVCache check"
    assert "\n" not in str(failures[0])
    return str(failures[0])


@pytest.mark.parametrize("sentence", list(cases.CACHE_MISTAKES), ids=lambda s: s[:40])
def test_each_storage_mistake_fails_with_its_sentence(sentence):
    assert sentence in _first_failure(cases.CACHE_MISTAKES[sentence])


CONTEXT_REASONS = {
    "growing past n_ctx silently": "grew the cache past n_ctx without a word",
    "refusing a full context": "refuses only what goes past",
    "an assert instead of a ValueError": "raised AssertionError: raise a ValueError",
    "storing before refusing": "check before you store",
    "a long prompt let in": "a prompt of 5 positions into an empty cache",
}


@pytest.mark.parametrize("kind", list(cases.CONTEXT_MISTAKES))
def test_each_refusal_mistake_fails_naming_it(kind):
    assert CONTEXT_REASONS[kind] in _first_failure(cases.CONTEXT_MISTAKES[kind])


def test_the_stub_is_one_line_and_the_reference_passes():
    from glassbox_exercises.ch05b_sampling import KVCache as stub

    (result,) = run_checks(stub, EXERCISES["KVCache"])
    assert result.reason.startswith("not implemented yet")
    assert all(result.passed for result in run_checks(KVCache, EXERCISES["KVCache"]))


def test_chapter_5b_generates_with_the_readers_cache_after_checking_it():
    """In the solutions notebook the reader's KVCache is checked, then the chapter's last section makes its caches
    with it (`mine("KVCache")`), for the tokens compared with the uncached ones and for the timing."""
    from pathlib import Path

    from glassbox_build.notebooks import chapter_to_notebook

    root = Path(__file__).resolve().parents[1]
    notebook = chapter_to_notebook(root / "book" / "part2" / "ch05b_sampling.md", root=root, fill_solutions=True)
    sources = [cell.source for cell in notebook.cells]
    picked = next(i for i, source in enumerate(sources) if 'mine("KVCache")' in source)
    assert sources.index("check(KVCache)") < picked
    assert "new_cache=lambda: my_cache(own_cfg.n_ctx)" in sources[picked]
    assert "torch.equal(my_cached, sampling.generate(my_model" in sources[picked]
    timed = next(i for i, source in enumerate(sources) if "my_cached_s = fastest(" in source)
    assert timed > picked and "new_cache=long_cache" in sources[timed]
