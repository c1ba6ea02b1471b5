"""Checks for chapter 5, "Training a small language model": the distribution sampled at a temperature, and the
reader's own training loop — the learning-rate schedule, one training step, and the evaluation loop."""

import math

import torch

from glassbox.checking.answer import Answer, ReaderFailed, randomize
from glassbox.checking.diagnose import SOFTMAX_HINT, describe
from glassbox.checking.judge import Case, Exercise
from glassbox.config import TransformerConfig
from glassbox.model import DemoTransformer, next_token_loss
from glassbox.train import evaluate_loss, param_groups, train_step, warmup_cosine_lr


def _cases() -> list[Case]:
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 7, 11, generator=generator)
    return [
        Case("temperature 1 (the model's own distribution)", (logits, 1.0)),
        Case("temperature 0.5 (sharper)", (logits, 0.5)),
        Case("temperature 2 (flatter)", (logits, 2.0)),
        Case("temperature 0 (greedy: one-hot on the argmax)", (logits, 0.0)),
        Case("temperature 0 with a tie (the first maximum wins)", (torch.tensor([[1.0, 3.0, 3.0, -2.0]]), 0.0)),
        Case("one vector, very large logits", (1e4 * torch.randn(50, generator=generator), 0.7)),
        Case("a negative temperature (a ValueError, as the docstring says)", (logits, -1.0)),
    ]


def _rows_sum_to_one(probs, args) -> str | None:
    if not torch.allclose(probs.sum(-1), torch.ones(())):
        return "each distribution must sum to 1 over the vocabulary (the last dimension)"
    return None


def _multiplied(logits, t):
    return torch.softmax(logits * t, -1)


def _softmax_over_dim0(logits, t):
    return torch.softmax(logits / t, 0) if t else logits


def _independent(logits, t):
    if t:
        return torch.softmax(logits / t, -1)
    return torch.nn.functional.one_hot(logits.argmax(-1), logits.shape[-1]).float()


# ------------------------------------------------------------------------------------ warmup_cosine_lr
def _lr_cases() -> list[Case]:
    return [
        Case("the first step of the warm-up", (1, 3e-3, 10, 100)),
        Case("half-way through the warm-up", (5, 3e-3, 10, 100)),
        Case("the last step of the warm-up (the peak)", (10, 3e-3, 10, 100)),
        Case("the first step after the warm-up", (11, 3e-3, 10, 100)),
        Case("half-way through the decay", (55, 3e-3, 10, 100, 3e-4)),
        Case("the last step (min_lr)", (100, 3e-3, 10, 100, 3e-4)),
        Case("no warm-up at all, step 1", (1, 1.0, 0, 50)),
        Case("no warm-up at all, the last step", (50, 1.0, 0, 50, 0.1)),
        Case("only warm-up (warmup_steps = total_steps)", (20, 1.0, 20, 20)),
        Case("step 0 (steps count from 1: a ValueError)", (0, 1.0, 10, 100)),
        Case("a step after the last (a ValueError)", (101, 1.0, 10, 100)),
        Case("a warm-up longer than training (a ValueError)", (5, 1.0, 200, 100)),
    ]


def _cosine_to_zero(step, max_lr, warmup, total, min_lr=0.0):
    return warmup_cosine_lr(step, max_lr, warmup, total, 0.0)


def _warmup_from_zero(step, max_lr, warmup, total, min_lr=0.0):
    if step <= warmup:
        return max_lr * (step - 1) / warmup
    return warmup_cosine_lr(step, max_lr, warmup, total, min_lr)


def _decay_over_all_steps(step, max_lr, warmup, total, min_lr=0.0):
    if step <= warmup:
        return max_lr * step / warmup
    return min_lr + (max_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * step / total))


def _linear_decay(step, max_lr, warmup, total, min_lr=0.0):
    if step <= warmup:
        return max_lr * step / warmup
    return max_lr - (max_lr - min_lr) * (step - warmup) / (total - warmup)


LR_MISTAKES = {
    "the decay ends at min_lr, not at 0": _cosine_to_zero,
    "the warm-up reaches max_lr at step warmup_steps and starts at max_lr / warmup_steps, not at 0": _warmup_from_zero,
    "the cosine runs over the steps after the warm-up: progress = (step - warmup_steps) / (total_steps - "
    "warmup_steps)": _decay_over_all_steps,
    "after the warm-up the rate follows half a cosine, not a straight line": _linear_decay,
}


def _lr_close(got, args) -> str | None:
    """Learning rates compared with a tolerance (several right formulas round differently)."""
    expected = warmup_cosine_lr(*args)
    if math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-12):
        return None
    for sentence, wrong in LR_MISTAKES.items():
        if math.isclose(got, wrong(*args), rel_tol=1e-6, abs_tol=1e-12):
            return f"expected {expected:.6g}, got {got:.6g} — {sentence}"
    return f"expected {expected:.6g}, got {got:.6g}"


# ------------------------------------------------------------------------------------------ train_step
TRAIN_CFG = TransformerConfig(d_model=16, n_layers=1, n_heads=2, d_vocab=11, n_ctx=8, d_mlp=32, seed=0)


def _model_and_optimizer():
    model = randomize(DemoTransformer(TRAIN_CFG), seed=0)
    return model, torch.optim.AdamW(param_groups(model, 0.1, "matrices"), lr=1e-2)


def _batches(n: int = 3) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(7)
    return [torch.randint(0, TRAIN_CFG.d_vocab, (4, TRAIN_CFG.n_ctx), generator=generator) for _ in range(n)]


def _no_zero_grad(model, optimizer, batch, max_grad_norm):
    loss = next_token_loss(model(batch), batch)
    loss.backward()
    if max_grad_norm is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    optimizer.step()
    return loss.item()


def _no_clip(model, optimizer, batch, max_grad_norm):
    return train_step(model, optimizer, batch, None)


def clip_after_step(model, optimizer, batch, max_grad_norm):
    """A wrong step (tests/wrong_answers.py): clips after the optimizer has already used the gradients."""
    optimizer.zero_grad()
    loss = next_token_loss(model(batch), batch)
    loss.backward()
    optimizer.step()
    if max_grad_norm is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    return loss.item()


STEP_MISTAKES = {
    "clear the old gradients (optimizer.zero_grad()) before backward: backward adds to them": _no_zero_grad,
    # clipping after the step looks, in the weights, exactly like not clipping at all: one sentence for both
    "clip the gradient norm to max_grad_norm (torch.nn.utils.clip_grad_norm_) after backward and before "
    "optimizer.step()": _no_clip,
}


def _step_cases() -> list[Case]:
    """Smoke cases (each its own fresh model and optimizer): the step runs and returns a float. The reference steps
    first, on the same model, so the values are judged by `_train_step_behaves`, from identical starts."""
    batches = _batches()
    return [
        Case("a batch of 4 windows, max_grad_norm=1.0", (*_model_and_optimizer(), batches[0], 1.0)),
        Case("no clipping (max_grad_norm=None)", (*_model_and_optimizer(), batches[1], None)),
        Case("a batch of one window", (*_model_and_optimizer(), batches[2][:1], 0.5)),
    ]


def _weights(model) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def _run_steps(step_fn, max_grad_norm, call=None):
    """Three steps of `step_fn` from the same start, on the same batches: the losses and the final weights."""
    model, optimizer = _model_and_optimizer()
    call = call or (lambda fn, *args: fn(*args))
    losses = [call(step_fn, model, optimizer, batch, max_grad_norm) for batch in _batches()]
    return losses, _weights(model)


def _train_step_behaves(answer: Answer) -> str | None:
    """The reader's step, three times from the reference's start: the same losses and the same weights after."""
    for label, max_grad_norm in (("max_grad_norm=0.05", 0.05), ("max_grad_norm=1.0", 1.0), ("no clipping", None)):
        expected_losses, expected = _run_steps(train_step, max_grad_norm)
        try:
            losses, got = _run_steps(answer.obj, max_grad_norm, lambda fn, *a: answer.call(fn, *a, first=True))
        except ReaderFailed as failure:
            return failure.reason
        if any(loss is None for loss in losses):
            return "returned None — return the batch's loss (loss.item())"
        if not all(isinstance(loss, float) for loss in losses):
            return f"return the batch's loss as a float (loss.item()), got {describe(losses[0])}"
        if not math.isclose(losses[0], expected_losses[0], rel_tol=1e-5):
            return (
                f"{label}: the first loss is {losses[0]:.6g}, expected {expected_losses[0]:.6g} — return the "
                "next-token loss of the batch, computed before the update"
            )
        if not torch.allclose(got, expected, rtol=1e-4, atol=1e-6):
            for sentence, wrong in STEP_MISTAKES.items():
                if torch.allclose(got, _run_steps(wrong, max_grad_norm)[1], rtol=1e-4, atol=1e-6):
                    return f"{label}: the weights after three steps differ from the reference's — {sentence}"
            gap = (got - expected).abs().max().item()
            return f"{label}: the weights after three steps differ from the reference's by up to {gap:.3g}"
        if not all(math.isclose(a, b, rel_tol=1e-4) for a, b in zip(losses, expected_losses, strict=True)):
            return f"{label}: the losses of steps 2 and 3 differ from the reference's"
    return None


# --------------------------------------------------------------------------------------- evaluate_loss
def _eval_cases() -> list[Case]:
    model = randomize(DemoTransformer(TRAIN_CFG), seed=3).eval()
    generator = torch.Generator().manual_seed(4)
    windows = torch.randint(0, TRAIN_CFG.d_vocab, (10, TRAIN_CFG.n_ctx), generator=generator)
    return [
        Case("10 windows in batches of 4 (the last batch holds 2)", (model, windows, 4)),
        Case("10 windows in one batch", (model, windows, 256)),
        Case("one window", (model, windows[:1], 3)),
        Case("no windows at all (a ValueError)", (model, windows[:0], 4)),
    ]


def _mean_of_batch_means(model, windows, batch_size):
    means = [next_token_loss(model(chunk), chunk).item() for chunk in windows.split(batch_size)]
    return sum(means) / len(means)


def _first_batch_only(model, windows, batch_size):
    chunk = windows[:batch_size]
    return next_token_loss(model(chunk), chunk).item()


EVAL_MISTAKES = {
    "weigh each batch by its number of windows: the last batch may be smaller": _mean_of_batch_means,
    "average over every batch of windows, not only the first": _first_batch_only,
}


def _eval_close(got, args) -> str | None:
    with torch.no_grad():
        expected = evaluate_loss(*args)
        if math.isclose(got, expected, rel_tol=1e-5):
            return None
        for sentence, wrong in EVAL_MISTAKES.items():
            if math.isclose(got, wrong(*args), rel_tol=1e-5):
                return f"expected {expected:.6g}, got {got:.6g} — {sentence}"
    return f"expected {expected:.6g}, got {got:.6g}"


def _eval_keeps_mode(answer: Answer) -> str | None:
    """Evaluation runs in eval mode without gradients (seen from inside every forward pass) and leaves the model as it
    found it (training goes on after it)."""
    model = randomize(DemoTransformer(TRAIN_CFG), seed=3)
    windows = torch.randint(0, TRAIN_CFG.d_vocab, (6, TRAIN_CFG.n_ctx), generator=torch.Generator().manual_seed(5))
    seen: list[tuple[bool, bool]] = []  # (training mode, gradients enabled) at each forward pass
    handle = model.register_forward_pre_hook(
        lambda module, args: seen.append((module.training, torch.is_grad_enabled()))
    )
    try:
        for mode in (True, False):
            model.train(mode)
            answer.call(answer.obj, model, windows, 4)
            if model.training != mode:
                return f"the model was in {'training' if mode else 'eval'} mode and your function left it in the other"
    finally:
        handle.remove()
    if any(training for training, _ in seen):
        return "the model ran in training mode: call model.eval() before evaluating (and restore the mode after)"
    if any(grad for _, grad in seen) or any(p.grad is not None for p in model.parameters()):
        return "evaluation recorded gradients: run the forward passes under torch.no_grad()"
    return None


EXERCISES = [
    Exercise(
        name="temperature_probs",
        non_finite_hint=SOFTMAX_HINT,
        module="ch05_training",
        cases=_cases,
        mistakes={
            "divide the logits by the temperature; multiplying sharpens where it should flatten": _multiplied,
            "the softmax runs over the vocabulary (the last dimension)": _softmax_over_dim0,
        },
        properties=[_rows_sum_to_one],
        agrees_with={"torch.softmax(logits / T) for T > 0, one-hot argmax for T = 0": _independent},
    ),
    Exercise(
        name="warmup_cosine_lr",
        module="ch05_training",
        cases=_lr_cases,
        compare_values=False,  # floats compared with a tolerance, by _lr_close
        properties=[_lr_close],
    ),
    Exercise(
        name="train_step",
        module="ch05_training",
        cases=_step_cases,
        compare_values=False,  # a step changes the model and the optimizer: its values are judged by the behaviour
        behaviours={"three steps give the reference's losses and weights": _train_step_behaves},
    ),
    Exercise(
        name="evaluate_loss",
        module="ch05_training",
        cases=_eval_cases,
        compare_values=False,  # floats compared with a tolerance, by _eval_close
        properties=[_eval_close],
        behaviours={"eval mode, no gradients, the model left as it was": _eval_keeps_mode},
    ),
]
