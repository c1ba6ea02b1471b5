"""glassbox.bpe: encoding round-trips, merges are learned as the chapter-5c solutions learn them (the twins agree on
random inputs and runs), and GPT-2's tokenizer is given up on at once, with a reason, when the hub is forbidden."""

import time

import pytest
import torch
from glassbox import bpe
from glassbox.data import CharTokenizer
from glassbox_solutions import ch05c_tokens as solution


@pytest.mark.parametrize("seed", range(6))
def test_each_solution_and_its_library_twin_agree(seed):
    generator = torch.Generator().manual_seed(seed)
    d_vocab = 2 + seed
    ids = torch.randint(0, d_vocab, (50 + 10 * seed,), generator=generator)
    ids[5:12] = 0  # a run, where overlapping matches would go wrong
    assert torch.equal(solution.pair_counts(ids, d_vocab), bpe.pair_counts(ids, d_vocab))
    for pair in ((0, 0), (1, 0), (0, 1)):
        assert torch.equal(solution.merge_pair(ids, pair, d_vocab), bpe.merge_pair(ids, pair, d_vocab))
    assert torch.equal(solution.learn_merges(ids, 8, d_vocab), bpe.learn_merges(ids, 8, d_vocab))
    for twin in (solution, bpe):
        with pytest.raises(ValueError, match="n_merges must be a non-negative integer"):
            twin.learn_merges(ids, -1, d_vocab)


def test_a_run_is_merged_left_to_right_without_overlaps():
    assert bpe.merge_pair(torch.tensor([0, 0, 0, 0, 0, 1]), (0, 0), 2).tolist() == [2, 2, 0, 1]


def test_the_tokenizer_round_trips_and_shortens_text():
    text = "the cat sat on the mat; the cat ate the rat. " * 20
    tokenizer = bpe.train_bpe(text, 20)
    ids = tokenizer.encode(text)
    assert tokenizer.decode(ids) == text
    assert len(ids) < len(text) / 3
    assert tokenizer.d_vocab == CharTokenizer.from_text(text).d_vocab + 20
    assert "".join(tokenizer.str_tokens("the rat")) == "the rat"
    with pytest.raises(ValueError, match="characters not in the vocabulary"):
        tokenizer.encode("the dog")


def test_gpt2_tokenizer_is_given_up_on_at_once_offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))  # an empty cache: GPT-2 is nowhere on disk
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    start = time.perf_counter()
    tokenizer, reason = bpe.gpt2_tokenizer()
    assert tokenizer is None and "HF_HUB_OFFLINE" in reason
    assert time.perf_counter() - start < 5


def test_gpt2_tokenizer_loads_a_saved_gpt2_and_shows_the_leading_space_quirk(tmp_path, monkeypatch):
    from test_pretrained import save_tiny_gpt2  # GPT-2's format with a byte-level BPE, as the hub serves it

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tokenizer, reason = bpe.gpt2_tokenizer(str(save_tiny_gpt2(tmp_path)))
    assert tokenizer is not None and "folder" in reason
    assert tokenizer.bos_token == "<|endoftext|>"
    assert tokenizer.encode("The") != tokenizer.encode(" The")  # the chapter's first quirk
    assert tokenizer.decode(tokenizer.encode(" The capital")) == " The capital"


def test_merges_by_hand():
    """Written to kill mutation-testing survivors: a run of exactly three, no merges at all, a tie broken by hand."""
    assert bpe.merge_pair(torch.tensor([0, 0, 0, 1]), (0, 0), 2).tolist() == [2, 0, 1]  # two overlapping matches
    assert bpe.learn_merges(torch.tensor([0, 1, 0, 1, 2]), 0, 3).shape == (0, 2)  # zero merges is a valid request
    # (0, 1) occurs twice: token 3, giving 3 3 2; then (3, 3) and (3, 2) tie at once each: the smaller, (3, 2), wins
    assert bpe.learn_merges(torch.tensor([0, 1, 0, 1, 2]), 2, 3).tolist() == [[0, 1], [3, 2]]
