"""Checks for chapter 15, "Probing the residual stream": training a probe, the model's logits when steered,
balanced accuracy, and a probe's selectivity against a control task."""

import torch
import torch.nn.functional as F

from glassbox.checking.judge import Case, Exercise
from glassbox.config import TransformerConfig
from glassbox.features import probes
from glassbox.features.probes import balanced_accuracy, steer, train_probe
from glassbox.model import Transformer


def _planted(n: int, d: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Features with a bias column, and labels set by a planted direction (with some noise)."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d - 1, generator=generator)
    direction = torch.randn(d - 1, generator=generator)
    labels = x @ direction + 0.5 * torch.randn(n, generator=generator) > 0.3
    return torch.cat([x, torch.ones(n, 1)], -1), labels


def _probe_cases() -> list[Case]:
    return [
        Case("a planted direction, 200 samples, 8 features", (*_planted(200, 8, 0), 50, 0.5)),
        Case("one step (the first gradient from w = 0)", (*_planted(100, 5, 1), 1, 1.0)),
        Case(
            "imbalanced labels, 30 features", (*_planted(300, 30, 2)[0], _planted(300, 30, 2)[0][:, 0] > 1.0, 100, 0.3)
        ),
    ]


def _separates(w: torch.Tensor, args) -> str | None:
    features, labels, steps, _ = args
    if steps < 50:
        return None
    accuracy = ((features @ w > 0) == labels).float().mean()
    if accuracy < 0.8:
        return (
            f"the probe should separate the training data, but its accuracy is {accuracy:.2f}: "
            "predict `labels` with sigmoid(features · w)"
        )
    return None


def _steer_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(3)
    cfg = TransformerConfig(d_model=16, n_layers=2, n_heads=2, n_ctx=10, d_vocab=13, normalization_type="LN", seed=0)
    model = Transformer(cfg).eval()
    tokens = torch.randint(0, 13, (3, 10), generator=generator)
    direction = F.normalize(torch.randn(16, generator=generator), dim=0)
    return [
        Case("after the last layer, α = 2", (model, tokens, "blocks.1.hook_resid_post", direction, 2.0)),
        Case("between the layers, α = −3", (model, tokens, "blocks.1.hook_resid_pre", direction, -3.0)),
        Case(
            "on the embeddings, one sequence, α = 0.5", (model, tokens[:1], "blocks.0.hook_resid_pre", direction, 0.5)
        ),
    ]


def _balanced_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(4)
    rare = torch.rand(400, generator=generator) < 0.05  # 5 % positives, as rare as a property of text often is
    guess = torch.rand(400, generator=generator) < 0.3
    half = torch.rand(300, generator=generator) < 0.5
    flips = torch.rand(400, generator=generator) < 0.04
    return [
        Case("rare positives, a probe that guesses", (guess, rare)),
        Case("rare positives, always answering no", (torch.zeros(400, dtype=torch.bool), rare)),
        Case("rare positives, a probe that finds most of them", (rare ^ flips, rare)),
        Case("balanced labels", (torch.rand(300, generator=generator) < 0.6, half)),
    ]


def _selectivity_cases() -> list[Case]:
    """Tokens of skewed frequencies; the stream holds the token's own vector plus a context feature (was the
    previous token rare?) with noise; the property, about 15 % positive, is that context feature."""

    def case(seed: int, n: int = 600, vocab: int = 12, d: int = 8) -> tuple:
        generator = torch.Generator().manual_seed(seed)
        tokens = torch.multinomial(torch.linspace(1.0, 0.1, vocab), n, replacement=True, generator=generator)
        labels = torch.cat([torch.zeros(1, dtype=torch.bool), tokens[:-1] >= vocab - 4])
        embed, context = torch.randn(vocab, d, generator=generator), torch.randn(d, generator=generator)
        acts = embed[tokens] + labels[:, None] * context + 0.7 * torch.randn(n, d, generator=generator)
        train = torch.rand(n, generator=generator) < 0.7
        return acts, tokens, labels, train, seed

    return [Case(f"600 positions, about 15 % positive, seed {seed}", case(seed)) for seed in (0, 1, 2)]


def _score(acts, targets, train, balanced=True, metric="balanced") -> float:
    probe = probes.fit_probe(acts[train], targets[train], steps=200, balanced=balanced)
    if metric == "balanced":
        return probe.balanced_accuracy(acts[~train], targets[~train])
    return probe.accuracy(acts[~train], targets[~train])


def _selectivity(acts, tokens, labels, train, seed, *, control=None, rate=None, **how) -> torch.Tensor:
    rate = labels.float().mean().item() if rate is None else rate
    control = probes.control_labels(tokens, rate, seed) if control is None else control
    return torch.tensor(_score(acts, labels, train, **how) - _score(acts, control, train, **how))


def _same_labels(acts, tokens, labels, train, seed):
    return _selectivity(acts, tokens, labels, train, seed, control=labels)


def _plain_accuracy(acts, tokens, labels, train, seed):
    return _selectivity(acts, tokens, labels, train, seed, metric="accuracy")


def _unweighted(acts, tokens, labels, train, seed):
    return _selectivity(acts, tokens, labels, train, seed, balanced=False)


def _half_rate(acts, tokens, labels, train, seed):
    return _selectivity(acts, tokens, labels, train, seed, rate=0.5)


def _reversed(acts, tokens, labels, train, seed):
    return -_selectivity(acts, tokens, labels, train, seed)


EXERCISES = [
    Exercise(
        name="train_probe",
        module="ch15_probes",
        cases=_probe_cases,
        mistakes={
            "descend the gradient: w −= lr · grad, not +=": lambda x, y, s, lr: train_probe(x, y, s, -lr),
            "the loss is the MEAN binary cross-entropy over the samples, not the sum": lambda x, y, s, lr: train_probe(
                x, y, s, lr * len(y)
            ),
            "start from w = 0, the zero vector": lambda x, y, s, lr: train_probe(x, y, s, lr) + 0.01,
        },
        properties=[_separates],
        agrees_with={"glassbox.features.probes.train_probe": train_probe},
        atol=1e-4,
    ),
    Exercise(
        name="steer_logits",
        module="ch15_probes",
        cases=_steer_cases,
        mistakes={
            "add alpha · direction to the activation (the hook must return the changed activation)": lambda m,
            t,
            h,
            d,
            a: m(t),
            "multiply the direction by alpha before adding it": lambda m, t, h, d, a: steer(m, t, h, d, 1.0),
            "add the direction, do not replace the activation with it": lambda m, t, h, d, a: m.run_with_hooks(
                t, fwd_hooks=[(h, lambda x, hook: (a * d).expand_as(x))]
            ),
        },
        agrees_with={"glassbox.features.probes.steer": steer},
    ),
    Exercise(
        name="balanced_accuracy",
        module="ch15_probes",
        cases=_balanced_cases,
        mistakes={
            "average the two classes' accuracies with equal weight: plain accuracy weights them by their size, so "
            "rare positives hardly count": lambda p, y: (p == y).float().mean(),
            "the accuracy on the negatives is the fraction of them predicted False, not True": lambda p, y: 0.5
            * (p[y].float().mean() + p[~y].float().mean()),
            "take the mean of the accuracy on the positives AND on the negatives, not the positives' alone": lambda p,
            y: p[y].float().mean(),
            "the accuracy on the positives is over the samples labelled True (recall), not over those predicted True "
            "(precision)": lambda p, y: 0.5 * (y[p].float().mean() + (~p[~y]).float().mean()),
        },
        agrees_with={"glassbox.features.probes.balanced_accuracy": lambda p, y: torch.tensor(balanced_accuracy(p, y))},
    ),
    Exercise(
        name="probe_selectivity",
        module="ch15_probes",
        cases=_selectivity_cases,
        mistakes={
            "the control task needs labels of its own (a random label per token type, control_labels), not the "
            "property's labels": _same_labels,
            "score both probes by balanced accuracy: plain accuracy rewards the majority class on a rare label": (
                _plain_accuracy
            ),
            "train class-weighted probes (balanced=True): an unweighted probe on a rare label predicts the majority": (
                _unweighted
            ),
            "give the control the property's positive rate, labels.float().mean(), not one half": _half_rate,
            "selectivity is the property's score minus the control's, not the other way round": _reversed,
        },
        agrees_with={"the same protocol written with glassbox.features.probes": _selectivity},
        atol=1e-4,
    ),
]
