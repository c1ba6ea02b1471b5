"""The model cache: a recipe trains once, is stored under a key of everything that decides its weights, and reloads."""

import torch
from glassbox import zoo
from glassbox.train import TrainConfig

TINY = zoo.CharRecipe(
    n_ctx=8,
    batch_size=2,
    d_model=8,
    n_layers=1,
    n_heads=2,
    train=TrainConfig(steps=3, eval_every=1, eval_batches=1, checkpoint_every=1, progress=False),
)


def test_char_model_trains_once_then_loads_the_same_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSBOX_CACHE", str(tmp_path))
    trained, tokenizer = zoo.char_model(TINY)
    assert len(list(tmp_path.glob("char_model-*.pt"))) == 1
    loaded, _ = zoo.char_model(TINY)
    pairs = zip(trained.state_dict().values(), loaded.state_dict().values(), strict=True)
    assert all(torch.equal(a, b) for a, b in pairs)
    assert trained.cfg.d_vocab == tokenizer.d_vocab and not loaded.training


def test_a_changed_recipe_never_loads_stale_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSBOX_CACHE", str(tmp_path))
    zoo.char_model(TINY)
    zoo.char_model(
        zoo.CharRecipe(
            **{
                **TINY.__dict__,
                "train": TrainConfig(steps=4, eval_every=1, eval_batches=1, checkpoint_every=1, progress=False),
            }
        )
    )
    assert len(list(tmp_path.glob("char_model-*.pt"))) == 2


def test_what_chapter_5_remembers_is_what_char_model_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSBOX_CACHE", str(tmp_path))
    tokenizer, _, _ = zoo.char_data()
    model = zoo.Transformer(TINY.model_config(tokenizer.d_vocab))
    zoo.remember(model, TINY.train, TINY.batch_size)
    loaded, _ = zoo.char_model(TINY)  # found in the cache: no training, so the weights are the untrained ones
    pairs = zip(model.state_dict().values(), loaded.state_dict().values(), strict=True)
    assert all(torch.equal(a, b) for a, b in pairs)


def test_a_model_trained_on_first_use_learns_inside_no_grad(tmp_path, monkeypatch):
    """Chapter 12 reads models with gradients off; its fallback trains chapter 5's model on an empty cache (Colab)."""
    monkeypatch.setenv("GLASSBOX_CACHE", str(tmp_path))
    with torch.no_grad():
        trained, tokenizer = zoo.char_model(TINY)
    untrained = zoo.Transformer(TINY.model_config(tokenizer.d_vocab))
    assert not torch.equal(trained.W_E, untrained.W_E), "the model came back untrained"


def test_the_induction_model_trains_inside_no_grad(tmp_path, monkeypatch):
    from glassbox import induction

    monkeypatch.setenv("GLASSBOX_CACHE", str(tmp_path))
    recipe = induction.InductionRecipe(
        d_vocab=8,
        half=4,
        min_period=2,
        d_model=8,
        n_heads=2,
        batch_size=4,
        train=TrainConfig(steps=3, eval_every=1, eval_batches=1, progress=False),
    )
    with torch.no_grad():
        trained = induction.induction_model(recipe)
        assert not torch.is_grad_enabled(), "training must restore the caller's grad mode"
    assert not torch.equal(trained.W_E, zoo.Transformer(recipe.model_config()).W_E)
