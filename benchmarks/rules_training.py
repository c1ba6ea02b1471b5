"""How long chapter 6's model takes to train, with the book's recipe and with the seed project's, side by side.

What it measures
----------------
The 250-parameter plus_last_even model of chapter 6, trained on the same data (2,000 sequences, 90/10 split) by
our loop and by a plain loop, each with each recipe, all in this one process, each timed end to end with
``time.perf_counter`` (our loop's evaluations and checkpoints included):

* ``seed recipe`` — ``glassbox.rules.train_rule`` with ``SEED_RECIPE``: AdamW lr 1e-3, batch 8, 20,000 steps,
  evaluated every 200 steps (validation loss and rule error), checkpointed every 100 — the seed project's
  recipe, run by our training loop and our hooked model.
* ``book recipe`` — ``FAST_RECIPE``: batch 128, lr 3e-2 with cosine decay, 2,000 steps (what chapter 6 uses).
* ``plain loop, <recipe>`` — the floor: the same model written as a plain ``nn.Module`` (``nn.Embedding``,
  ``nn.Linear``, no hooks) trained with the same batch size, learning rate and steps in a bare loop with no
  evaluation at all.

Only ratios between runs of this process are reported — our loop over the plain loop of the same recipe, and the
book recipe over the seed recipe — never a time measured on another day or machine (a constant such as "the seed's
loop took 27 s" compares two different loads). The script also prints the rule accuracy each trained model reaches
on 500 fresh sequences (the bar: 99.9 % on the cases whose latest even number lies inside the window). Prefer
``--threads 1`` when other work is running. The script only measures: it never fails on slow timings.

    HF_HUB_OFFLINE=1 TQDM_DISABLE=1 .venv/bin/python benchmarks/rules_training.py
    .venv/bin/python benchmarks/rules_training.py --threads 1 --skip-seed     # the book recipe only
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from glassbox import rules
from glassbox.rules import PlusLastEven
from torch import nn


class PlainModel(nn.Module):
    """Chapter 6's model in plain PyTorch modules: the floor of what any hooked implementation can reach."""

    def __init__(self, d_vocab: int = 12, d_model: int = 2, n_ctx: int = 8, d_mlp: int = 32):
        super().__init__()
        self.token, self.position = nn.Embedding(d_vocab, d_model), nn.Embedding(n_ctx, d_model)
        self.query, self.key, self.value = (nn.Linear(d_model, d_model, bias=False) for _ in range(3))
        self.mlp = nn.Sequential(nn.Linear(d_model, d_mlp), nn.ReLU(), nn.Linear(d_mlp, d_model))
        self.unembed = nn.Linear(d_model, d_vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.token(tokens) + self.position.weight[: tokens.shape[1]]
        q, k, v = self.query(x), self.key(x), self.value(x)
        x = x + F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.unembed(x + self.mlp(x))


def plain_loop(data: rules.RuleData, steps: int, batch_size: int, lr: float, seed: int = 0) -> float:
    torch.manual_seed(seed)
    model = PlainModel()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    batches = rules.window_sampler(data.train, 8, batch_size)
    generator = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(steps):
        windows = batches(generator)
        loss = F.cross_entropy(model(windows[:, :-1]).flatten(0, 1), windows[:, 1:].flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--skip-seed", action="store_true", help="skip the two 20,000-step runs")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    rule = PlusLastEven()
    test = rule.generate(500, np.random.default_rng(2026))
    data = rules.make_data(rule)
    recipes = {"book": rules.FAST_RECIPE} | ({} if args.skip_seed else {"seed": rules.SEED_RECIPE})
    print(f"torch threads: {torch.get_num_threads()}")
    print(f"{'recipe':8}{'our loop s':>12}{'plain loop s':>14}{'ours / plain':>14}{'accuracy (inside window)':>27}")
    ours = {}
    for label, recipe in recipes.items():
        run = rules.train_rule("plus_last_even", recipe, progress=False)
        accuracy = rules.rule_accuracy(run.model, test, rule).accuracy("inside the window")
        plain = plain_loop(data, recipe.train.steps, recipe.batch_size, recipe.train.lr)
        ours[label] = run.seconds
        print(f"{label:8}{run.seconds:12.1f}{plain:14.1f}{run.seconds / plain:14.2f}{accuracy:>27.2%}")
    if "seed" in ours:
        print(f"book recipe / seed recipe, both in our loop: {ours['book'] / ours['seed']:.2f}")
    print("goals: book / seed ≤ 0.33 with ≥ 99.9 % inside the window; our loop within a small factor of the plain one.")


if __name__ == "__main__":
    main()
