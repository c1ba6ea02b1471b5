"""The reader's own code, used by the chapters (glassbox.yours): what passed its check is what later cells get,
what did not is replaced by the reference with one line; later notebooks carry earlier answers forward."""

from pathlib import Path

import glassbox_solutions.ch03_components as clear
import pytest
import torch
from glassbox import sampling, yours
from glassbox.checking.checks.ch04_model import _reader_parts
from glassbox.config import TransformerConfig
from glassbox.model import DemoTransformer
from glassbox_build.notebooks import CARRIED, carried_cells, chapter_to_notebook

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def fresh_runtime(monkeypatch):
    monkeypatch.setattr(yours, "_checked", {})


def test_nothing_checked_gives_the_reference_silently(capsys):
    assert yours.mine("DemoTransformer") is DemoTransformer
    assert capsys.readouterr().out == ""


def test_a_passing_answer_is_used_and_a_stub_is_replaced_with_one_line(capsys):
    def train_step(model, optimizer, batch, max_grad_norm):
        raise NotImplementedError()

    yours.check(clear.Embed)
    yours.check(train_step)
    capsys.readouterr()
    assert yours.mine("Embed") is clear.Embed
    assert yours.mine("train_step") is not train_step
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["Embed: yours", "train_step: the reference (yours has not passed its check yet)"]
    parts = yours.my_parts()
    assert parts.Embed is clear.Embed  # the references of chapter 3 are its clear solutions too
    assert capsys.readouterr().out.strip() == (
        "chapter 3 parts: yours Embed; the reference PosEmbed, LayerNorm, Block, Unembed"
    )


def test_check_prints_what_glassbox_checking_prints(capsys):
    from glassbox.checking import check

    check(clear.Unembed)
    expected = capsys.readouterr().out
    yours.check(clear.Unembed)
    assert capsys.readouterr().out == expected


def test_check_4_3_builds_the_model_from_the_readers_passing_parts():
    for name in yours.PARTS:
        yours._checked[name] = (getattr(clear, name), True)
    from glassbox.checking.answer import Answer

    label, parts = _reader_parts(Answer(DemoTransformer, DemoTransformer))[0]
    assert "your chapter 3 parts" in label and parts.Block is clear.Block


def test_later_notebooks_carry_the_earlier_answers_and_check_them():
    assert carried_cells("ch01_attention", False, ROOT) == []
    for stem, solutions in (("ch05b_sampling", True), ("ch04_model", False)):
        cells = carried_cells(stem, solutions, ROOT)
        code = [c.source for c in cells if c.cell_type == "code"]
        joined = "\n".join(code)
        assert "class Block(nn.Module)" in joined and "check_quietly(Embed, PosEmbed" in joined
        assert ("raise NotImplementedError" in joined) is not solutions
        for source in code:
            compile(source, stem, "exec")
    assert set(CARRIED) == {"ch04_model", "ch05_training", "ch05b_sampling"}
    notebook = chapter_to_notebook(ROOT / "book" / "part2" / "ch05_training.md", root=ROOT, fill_solutions=True)
    sources = [c.source for c in notebook.cells]
    carried = next(i for i, s in enumerate(sources) if s.startswith("# Yours, from ch04_model"))
    used = next(i for i, s in enumerate(sources) if 'DemoTransformer = mine("DemoTransformer")' in s)
    exercise = next(i for i, s in enumerate(sources) if s == "check(evaluate_loss)")
    assert carried < exercise < used, "the chapter uses the reader's answers after they are defined and checked"


def test_generation_takes_the_readers_sampler_and_refuses_a_cache_through_parts_that_take_none():
    cfg = TransformerConfig(d_model=16, n_layers=1, n_heads=2, d_vocab=11, n_ctx=8)
    torch.manual_seed(0)
    model = DemoTransformer(cfg).eval()
    calls = {"probs": 0}

    def probs_fn(*args):
        calls["probs"] += 1
        return sampling.sampling_probs(*args)

    plain = sampling.generate(model, [1, 2], 12, temperature=1.0, seed=3)
    mine = sampling.generate(model, [1, 2], 12, temperature=1.0, seed=3, use_cache=True, probs_fn=probs_fn)
    assert torch.equal(plain, mine) and calls["probs"] == 12
    readers = DemoTransformer(cfg, parts=clear).eval()  # the clear chapter 3 parts: their blocks take no cache
    with pytest.raises(ValueError, match="take no cache .* forward=forward_with_cache"):
        sampling.generate(readers, [1, 2], 3, use_cache=True)


def test_generation_takes_the_readers_cached_forward():
    """Chapter 5b samples the reader's model with the reader's cached forward (exercise 5b.9): generate calls it
    for the prompt and for every new token, and gives the uncached tokens."""
    from glassbox_solutions.ch05b_sampling import forward_with_cache

    cfg = TransformerConfig(d_model=16, n_layers=2, n_heads=2, d_vocab=11, n_ctx=8)
    torch.manual_seed(0)
    model = DemoTransformer(cfg).eval()
    calls = []

    def forward(model, tokens, cache):
        calls.append(tokens.shape[1])
        return forward_with_cache(model, tokens, cache)

    plain = sampling.generate(model, [1, 2], 12, temperature=1.0, seed=3)
    mine = sampling.generate(model, [1, 2], 12, temperature=1.0, seed=3, use_cache=True, forward=forward)
    assert torch.equal(plain, mine) and calls[:7] == [2, 1, 1, 1, 1, 1, 1]  # the prompt, then a token a step
    assert calls[7:] == [8] * 5  # past n_ctx = 8 the window slides: each step a new cache from the last 8 tokens


def test_chapter_5b_uses_the_readers_decoding_and_cache_after_checking_them():
    notebook = chapter_to_notebook(ROOT / "book" / "part2" / "ch05b_sampling.md", root=ROOT, fill_solutions=True)
    sources = [c.source for c in notebook.cells]
    used = next(i for i, s in enumerate(sources) if 'mine("forward_with_cache")' in s)
    for name in ("banned_tokens", "beam_search_sequences", "forward_with_cache", "attend_with_cache"):
        assert sources.index(f"check({name})") < used, name
    assert "forward=my_forward" in sources[used] and 'mine("beam_search_sequences")' in sources[used]
