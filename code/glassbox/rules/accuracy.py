"""How well a model follows its rule: teacher-forced predictions at the positions the rule fixes, by group.

`next_token_logits` runs every window of every sequence through the model in two batches; `rule_accuracy` scores the
argmax at each constrained position and reports each group (e.g. "inside the window", "no even number") with its
count and its hits, so a headline number never hides the cases no model can get right.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from glassbox.rules.definitions import Rule


@torch.no_grad()
def next_token_logits(model: nn.Module, sequences: list[list[int]]) -> list[Tensor]:
    """Teacher-forced logits for the token after each position of each sequence, [len - 1, d_vocab] each.

    The prediction after position p sees tokens max(0, p - n_ctx + 1) … p, at positions 0 … of its own window:
    the first n_ctx predictions come from the sequence's first window, each later one from the window ending at
    p. All windows of all sequences go through the model in two batches.
    """
    n_ctx = model.cfg.n_ctx
    if any(len(s) < 2 for s in sequences):
        raise ValueError("every sequence needs at least 2 tokens (one to read, one to predict)")
    firsts = [torch.tensor(s[:n_ctx]) for s in sequences]
    later = [torch.tensor(s[1:-1]).unfold(0, n_ctx, 1) for s in sequences]  # windows ending at n_ctx … len-2
    first_logits = (
        [model(first[None])[0] for first in firsts]
        if len({len(f) for f in firsts}) > 1
        else list(model(torch.stack(firsts)))
    )
    later_logits = (
        model(torch.cat(later))[:, -1].split([len(w) for w in later])
        if sum(map(len, later))
        else [torch.zeros(0, model.cfg.d_vocab)] * len(sequences)
    )
    rows = zip(first_logits, later_logits, sequences, strict=True)
    return [torch.cat([head, tail])[: len(s) - 1] for head, tail, s in rows]


@dataclass
class RuleTargets:
    """The constrained positions of a set of sequences, computed once: where each one's prediction sits in the
    concatenated predictions, which tokens count as right, and its group."""

    index: Tensor  # [n] position in torch.cat(predictions)
    right: Tensor  # [n, d_vocab] bool: the tokens that count as a correct prediction
    group: Tensor  # [n] index into `groups`
    groups: list[str]


def rule_targets(rule: Rule, sequences: list[list[int]], n_ctx: int) -> RuleTargets:
    """What a prediction must be at every constrained position, and its group: both are the rule's to say
    (`Rule.scored_tokens`, `Rule.accuracy_group`)."""
    index, rights, groups, names = [], [], [], []
    offset = 0
    for sequence in sequences:
        for i in range(1, len(sequence)):
            scored = rule.scored_tokens(sequence, i)
            if scored is None:
                continue
            group = rule.accuracy_group(sequence, i, n_ctx)
            right = torch.zeros(rule.d_vocab, dtype=torch.bool)
            right[sorted(scored)] = True
            if group not in names:
                names.append(group)
            index.append(offset + i - 1)
            rights.append(right)
            groups.append(names.index(group))
        offset += len(sequence) - 1
    if not index:
        raise ValueError(f"no position of these sequences is constrained by {rule.name!r}")
    return RuleTargets(torch.tensor(index), torch.stack(rights), torch.tensor(groups), names)


@dataclass
class RuleAccuracy:
    """Teacher-forced argmax accuracy on the positions a rule constrains, by group: `counts[g]` cases of which
    `correct[g]` were predicted right."""

    counts: dict[str, int]
    correct: dict[str, int]

    def accuracy(self, group: str | None = None) -> float:
        """Accuracy in one group, or over every constrained position."""
        if group is not None and group not in self.counts:
            raise ValueError(f"no group {group!r}; groups: {', '.join(self.counts)}")
        n = self.counts[group] if group else sum(self.counts.values())
        return (self.correct[group] if group else sum(self.correct.values())) / n

    @property
    def overall(self) -> float:
        return self.accuracy()

    @property
    def learnable(self) -> float:
        """Accuracy on the cases a model with this context can get right: all but plus_last_even's "no even
        number" (a random target) and "outside the window" (hidden by the context)."""
        groups = [g for g in self.counts if g not in Rule.UNLEARNABLE]
        return sum(self.correct[g] for g in groups) / sum(self.counts[g] for g in groups)


@torch.no_grad()
def rule_accuracy(
    model: nn.Module, sequences: list[list[int]], rule: Rule, targets: RuleTargets | None = None
) -> RuleAccuracy:
    """Teacher-forced argmax accuracy of `model` on every position `rule` constrains in `sequences` (pass
    `targets = rule_targets(...)` to skip recomputing them, e.g. at every evaluation during training)."""
    targets = targets or rule_targets(rule, sequences, model.cfg.n_ctx)
    predicted = torch.cat(next_token_logits(model, sequences)).argmax(-1)[targets.index]
    right = targets.right[torch.arange(len(predicted)), predicted]
    counts = torch.bincount(targets.group, minlength=len(targets.groups))
    correct = torch.bincount(targets.group[right], minlength=len(targets.groups))
    return RuleAccuracy(
        {g: int(counts[k]) for k, g in enumerate(targets.groups)},
        {g: int(correct[k]) for k, g in enumerate(targets.groups)},
    )
