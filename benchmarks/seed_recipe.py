"""Why the seed project's recipe learns plus_last_even in its loop and reached 42 % in ours: one change at a time.

The recipe: AdamW (PyTorch's defaults), lr 1e-3, batch 8, 20,000 steps, no clipping, no schedule. Every run uses the
same 2,000 sequences (seed 0, 90/10 split), the same window sampler, and is scored on the same 500 fresh sequences
(seed 2026) on the learnable cases (the latest even number inside the window). What changes:

* ``ours``: ``rules.train_rule`` — our loop, our hooked ``Transformer``, weights drawn by ``pytorch_default_init``;
* ``plain``: the seed's model written with ``nn.Embedding``/``nn.Linear`` (PyTorch's own initialisation, drawn after
  ``torch.manual_seed(seed)``) in a bare loop — the seed project's loop;
* ``ours from plain's init``: our loop and model, starting from exactly the plain model's initial weights;
* ``plain from our init``: the bare loop, starting from exactly our initial weights.

Each for the seeds given. Writes ``code/glassbox/rules/seed_recipe.json``, which chapter 7 reads (this takes
minutes per run on one core, far more than a chapter may spend):

    HF_HUB_OFFLINE=1 TQDM_DISABLE=1 .venv/bin/python benchmarks/seed_recipe.py --workers 2
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from glassbox import rules
from glassbox.model import Transformer
from glassbox.train import train
from torch import nn

OUT = Path(__file__).parents[1] / "code" / "glassbox" / "rules" / "seed_recipe.json"  # package data: Colab reads it too
TEST_SEED, N_TEST = 2026, 500


class SeedModel(nn.Module):
    """The seed project's model for plus_last_even, in plain PyTorch modules: token and position embeddings, one
    head of size 2 (no biases, no output projection), a ReLU MLP of 16 × d_model units, an unembedding with a bias."""

    def __init__(self, d_vocab: int = 12, d_model: int = 2, n_ctx: int = 8):
        super().__init__()
        self.token, self.position = nn.Embedding(d_vocab, d_model), nn.Embedding(n_ctx, d_model)
        self.key, self.query, self.value = (nn.Linear(d_model, d_model, bias=False) for _ in range(3))
        self.mlp = nn.Sequential(nn.Linear(d_model, 16 * d_model), nn.ReLU(), nn.Linear(16 * d_model, d_model))
        self.unembed = nn.Linear(d_model, d_vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.token(tokens) + self.position.weight[: tokens.shape[1]]
        x = x + F.scaled_dot_product_attention(self.query(x), self.key(x), self.value(x), is_causal=True)
        return self.unembed(x + self.mlp(x))


def copy_weights(plain: SeedModel, ours: Transformer, to_ours: bool) -> None:
    """Copy every weight between the two implementations (ours stores matrices as [d_in, d_out], nn.Linear as
    [d_out, d_in])."""
    attn, mlp = ours.blocks[0].attn, ours.blocks[0].mlp
    pairs = [
        (plain.token.weight, ours.embed.W_E, False),
        (plain.position.weight, ours.pos_embed.W_pos, False),
        (plain.query.weight, attn.W_Q[0], True),
        (plain.key.weight, attn.W_K[0], True),
        (plain.value.weight, attn.W_V[0], True),
        (plain.mlp[0].weight, mlp.W_in, True),
        (plain.mlp[0].bias, mlp.b_in, False),
        (plain.mlp[2].weight, mlp.W_out, True),
        (plain.mlp[2].bias, mlp.b_out, False),
        (plain.unembed.weight, ours.unembed.W_U, True),
        (plain.unembed.bias, ours.unembed.b_U, False),
    ]
    with torch.no_grad():
        for p, o, transpose in pairs:
            if to_ours:
                o.copy_(p.T if transpose else p)
            else:
                p.copy_(o.T if transpose else o)


def our_model(seed: int) -> Transformer:
    setup = rules.get_setup("plus_last_even")
    return rules.pytorch_default_init(Transformer(setup.model_config(12, seed=seed)), seed)


def run(variant: str, seed: int) -> dict:
    torch.set_num_threads(1)
    rule = rules.PlusLastEven()
    test = rule.generate(N_TEST, np.random.default_rng(TEST_SEED))
    data = rules.make_data(rule, 2000, seed=0)
    recipe = rules.SEED_RECIPE
    start = time.perf_counter()
    torch.manual_seed(seed)
    plain = SeedModel()  # PyTorch's own initialisation, drawn after manual_seed(seed)
    ours = our_model(seed)
    if variant == "ours from plain's init":
        copy_weights(plain, ours, to_ours=True)
    if variant == "plain from our init":
        copy_weights(plain, ours, to_ours=False)
    batches = rules.window_sampler(data.train, 8, recipe.batch_size)
    if variant.startswith("ours"):
        cfg = replace(recipe.train, seed=seed, progress=False, checkpoint_every=None, eval_every=recipe.train.steps)
        train(ours, batches, lambda generator: rules.all_windows(data.val, 8), cfg, loss_fn=rules.window_loss)
    else:
        optimizer = torch.optim.AdamW(plain.parameters(), lr=recipe.train.lr)
        generator = torch.Generator().manual_seed(seed)
        for _ in range(recipe.train.steps):
            windows = batches(generator)
            loss = F.cross_entropy(plain(windows[:, :-1]).flatten(0, 1), windows[:, 1:].flatten())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        copy_weights(plain, ours, to_ours=True)  # scored by the same code as every other run
    accuracy = rules.rule_accuracy(ours.eval(), test, rule).accuracy("inside the window")
    return {"variant": variant, "seed": seed, "learnable": accuracy, "seconds": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    jobs = [(v, s) for v in ("ours", "plain") for s in args.seeds]
    jobs += [("ours from plain's init", args.seeds[0]), ("plain from our init", args.seeds[0])]
    with Pool(args.workers) as pool:
        results = []
        for result in pool.starmap(run, jobs):
            results.append(result)
    for r in results:
        print(f"{r['variant']:24} seed {r['seed']}: {r['learnable']:.2%} ({r['seconds']:.0f} s)")
    OUT.write_text(json.dumps({"recipe": repr(rules.SEED_RECIPE), "runs": results}, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
