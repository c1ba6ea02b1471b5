"""The training loop learns, is seeded, evaluates and checkpoints; the shipped corpus and tokenizer round-trip."""

import pytest
import torch
from glassbox import train as train_module
from glassbox.config import TransformerConfig
from glassbox.data import CharTokenizer, book_text, random_windows, split
from glassbox.model import Transformer
from glassbox.train import TrainConfig, load_checkpoint, train


def copy_task(generator: torch.Generator) -> torch.Tensor:
    """Sequences whose second half repeats the first: a model must learn to copy."""
    first = torch.randint(0, 8, (16, 6), generator=generator)
    return torch.cat([first, first], dim=1)


def small_model() -> Transformer:
    return Transformer(TransformerConfig(d_model=32, n_layers=2, n_heads=2, d_vocab=8, n_ctx=12, attn_only=True))


def test_training_lowers_the_loss_and_records_history(tmp_path):
    cfg = TrainConfig(steps=60, lr=1e-2, eval_every=20, checkpoint_every=30, progress=False)
    model = small_model()
    history = train(model, copy_task, copy_task, cfg, evaluate=lambda m: {"w_norm": m.W_E.norm().item()})
    assert len(history.train_loss) == 60
    assert history.eval_steps == [0, 20, 40, 60]
    assert history.val_loss[-1] < history.val_loss[0] - 0.3
    assert len(history.metrics["w_norm"]) == 4
    assert sorted(history.checkpoints) == [0, 30, 60]
    restored = load_checkpoint(model, history.checkpoints[0])
    assert torch.equal(restored.W_E, small_model().W_E), "the step-0 checkpoint holds the initial weights"


def test_training_is_reproducible_and_checkpoints_can_go_to_disk(tmp_path):
    cfg = TrainConfig(steps=10, eval_every=5, checkpoint_every=5, checkpoint_dir=tmp_path, progress=False)
    a, b = small_model(), small_model()
    history = train(a, copy_task, copy_task, cfg)
    train(b, copy_task, copy_task, cfg)
    assert torch.equal(a.W_E, b.W_E)
    assert history.checkpoints[10] == tmp_path / "step_000010.pt"
    assert torch.equal(load_checkpoint(a, history.checkpoints[10]).W_E, a.W_E)


def test_train_config_is_validated():
    with pytest.raises(ValueError, match="must be positive"):
        TrainConfig(steps=0)
    with pytest.raises(ValueError, match="checkpoint_every"):
        TrainConfig(checkpoint_every=0)


def test_corpus_tokenizer_and_windows():
    text = book_text()
    assert len(text) > 50_000 and "attention" in text
    tokenizer = CharTokenizer.from_text(text)
    ids = tokenizer.encode(text[:500])
    assert tokenizer.decode(ids) == text[:500]
    with pytest.raises(ValueError, match="not in the vocabulary"):
        CharTokenizer.from_text("abc").encode("abd")
    train_ids, val_ids = split(tokenizer.encode(text))
    assert len(val_ids) == pytest.approx(0.1 * len(text), abs=1)
    batch = random_windows(train_ids, 32, 4, torch.Generator().manual_seed(0))
    assert batch.shape == (4, 32)
    with pytest.raises(ValueError, match="shorter than one window"):
        random_windows(train_ids[:10], 32, 4, torch.Generator())


def test_training_inside_no_grad_still_learns_and_leaves_grad_mode_alone():
    cfg = TrainConfig(steps=60, lr=1e-2, eval_every=20, progress=False)
    with torch.no_grad():
        history = train(small_model(), copy_task, copy_task, cfg)
        assert not torch.is_grad_enabled(), "train() must restore the caller's grad mode"
    assert history.val_loss[-1] < history.val_loss[0] - 0.3


def test_parameter_groups_decay_matrices_only_when_asked():
    model = Transformer(TransformerConfig(d_model=8, n_layers=1, n_heads=2, d_vocab=5, n_ctx=4))
    (everything,) = train_module.param_groups(model, 0.1)
    assert everything["weight_decay"] == 0.1 and len(everything["params"]) == len(list(model.parameters()))
    matrices, vectors = train_module.param_groups(model, 0.1, "matrices")
    assert all(p.dim() >= 2 for p in matrices["params"]) and all(p.dim() == 1 for p in vectors["params"])
    assert vectors["weight_decay"] == 0.0 and any(p is model.blocks[0].ln1.w for p in vectors["params"])
    with pytest.raises(ValueError, match="decay must be 'all' or 'matrices'"):
        TrainConfig(decay="biases")


def test_a_small_model_trains_on_one_thread_and_the_callers_count_comes_back():
    seen = []
    before = torch.get_num_threads()
    train(
        small_model(),
        copy_task,
        copy_task,
        TrainConfig(steps=2, eval_every=1, progress=False),
        evaluate=lambda m: seen.append(torch.get_num_threads()) or {},
    )
    assert seen and set(seen) == {1} and torch.get_num_threads() == before
