"""Forward+backward time of our `Transformer` against a minimal reference model and a TransformerLens bridge.

What it measures
----------------
Three models of the same shape (2 layers, d_model 64, 4 heads, d_mlp 256, vocabulary 512, context 32, LayerNorm,
GELU-tanh, learned positions), all holding the *same weights*, on the same random batch (64 × 32 token ids):

* ``ours``     — ``glassbox.model.Transformer``; loss from ``model(tokens, return_type="loss")``.
* ``minimal``  — a nanoGPT-style model written below (fused QKV ``nn.Linear``,
  ``F.scaled_dot_product_attention(is_causal=True)``, ``nn.LayerNorm``, GELU-tanh MLP); the floor of what
  plain PyTorch does for this shape.
* ``TL bridge`` — ``model.to_transformer_lens()``: a TransformerLens ``TransformerBridge`` booted natively with
  our weights; loss = ``glassbox.model.next_token_loss(bridge(tokens), tokens)``. (It has no unembedding bias,
  hence 512 parameters fewer; ours is zero at initialisation, so the three initial losses agree.)

One *step* is ``optimizer.zero_grad(set_to_none=True)``, forward to the mean next-token loss, ``loss.backward()``
(and, with ``--adamw``, an ``AdamW`` step). Each model is warmed up, then timed over ``--steps`` steps with
``time.perf_counter``; this is repeated ``--repeats`` times, the models interleaved within each repeat (in a
rotating order) so that background load hits all of them alike, and the median ms/step is reported (repeating
stops early, after at least 3 repeats, once `--budget` seconds are spent, so a loaded machine still gives a short
run). On a busy machine prefer `--threads 1`: a thread pool wider than the idle cores stalls on every op.
The script only measures: it never fails on slow timings.

Run it from the repository root::

    HF_HUB_OFFLINE=1 TQDM_DISABLE=1 .venv/bin/python benchmarks/forward_backward.py
    .venv/bin/python benchmarks/forward_backward.py --threads 1 --steps 30 --repeats 7
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TQDM_DISABLE", "1")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from glassbox.config import TransformerConfig  # noqa: E402
from glassbox.model import Transformer, next_token_loss  # noqa: E402
from torch import Tensor, nn  # noqa: E402


# ------------------------------------------------------------------------------------ minimal reference model
class MinimalBlock(nn.Module):
    """Pre-LN block: fused QKV projection, PyTorch's fused causal attention, GELU-tanh MLP."""

    def __init__(self, d_model: int, n_heads: int, d_mlp: int, eps: float):
        super().__init__()
        self.n_heads = n_heads
        self.ln1 = nn.LayerNorm(d_model, eps=eps)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.ln2 = nn.LayerNorm(d_model, eps=eps)
        self.fc_in = nn.Linear(d_model, d_mlp)
        self.fc_out = nn.Linear(d_mlp, d_model)

    def forward(self, x: Tensor) -> Tensor:
        batch, pos, d_model = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d_model, dim=-1)
        q, k, v = (t.view(batch, pos, self.n_heads, -1).transpose(1, 2) for t in (q, k, v))
        z = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(z.transpose(1, 2).reshape(batch, pos, d_model))
        return x + self.fc_out(F.gelu(self.fc_in(self.ln2(x)), approximate="tanh"))


class MinimalGPT(nn.Module):
    """nanoGPT-style decoder with untied embeddings and the same parameters as ours; forward returns the loss."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.tok = nn.Embedding(cfg.d_vocab, cfg.d_model)
        self.pos = nn.Embedding(cfg.n_ctx, cfg.d_model)
        self.blocks = nn.ModuleList(
            MinimalBlock(cfg.d_model, cfg.n_heads, cfg.d_mlp, cfg.eps) for _ in range(cfg.n_layers)
        )
        self.ln_f = nn.LayerNorm(cfg.d_model, eps=cfg.eps)
        self.head = nn.Linear(cfg.d_model, cfg.d_vocab)

    def forward(self, tokens: Tensor) -> Tensor:
        x = self.tok(tokens) + self.pos(torch.arange(tokens.shape[1], device=tokens.device))
        for block in self.blocks:
            x = block(x)
        logits = self.head(self.ln_f(x))
        return F.cross_entropy(logits[:, :-1].flatten(0, 1), tokens[:, 1:].flatten())

    @torch.no_grad()
    def load_from(self, ours: Transformer) -> None:
        """Copy the weights of our model (TransformerLens layouts) into the fused nn.Linear layouts."""
        self.tok.weight.copy_(ours.embed.W_E)
        self.pos.weight.copy_(ours.pos_embed.W_pos)
        for mine, theirs in zip(self.blocks, ours.blocks, strict=True):
            a = theirs.attn
            H, M, D = a.W_Q.shape
            mine.qkv.weight.copy_(torch.cat([W.permute(0, 2, 1).reshape(H * D, M) for W in (a.W_Q, a.W_K, a.W_V)]))
            mine.qkv.bias.copy_(torch.cat([b.reshape(H * D) for b in (a.b_Q, a.b_K, a.b_V)]))
            mine.proj.weight.copy_(a.W_O.reshape(H * D, M).T)
            mine.proj.bias.copy_(a.b_O)
            for ln, ln_ours in ((mine.ln1, theirs.ln1), (mine.ln2, theirs.ln2)):
                ln.weight.copy_(ln_ours.w)
                ln.bias.copy_(ln_ours.b)
            mine.fc_in.weight.copy_(theirs.mlp.W_in.T)
            mine.fc_in.bias.copy_(theirs.mlp.b_in)
            mine.fc_out.weight.copy_(theirs.mlp.W_out.T)
            mine.fc_out.bias.copy_(theirs.mlp.b_out)
        self.ln_f.weight.copy_(ours.ln_final.w)
        self.ln_f.bias.copy_(ours.ln_final.b)
        self.head.weight.copy_(ours.unembed.W_U.T)
        self.head.bias.copy_(ours.unembed.b_U)


# ----------------------------------------------------------------------------------------------- timing
def make_step(
    model: nn.Module, loss_fn: Callable[[Tensor], Tensor], tokens: Tensor, adamw: bool
) -> Callable[[], float]:
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)  # stepped only with --adamw

    def step() -> float:
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(tokens)
        loss.backward()
        if adamw:
            optimizer.step()
        return loss.item()

    return step


def time_steps(step: Callable[[], float], n: int) -> float:
    """Milliseconds per step over `n` consecutive steps."""
    start = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - start) * 1000 / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's own)")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per model per repeat (default 10)")
    parser.add_argument("--repeats", type=int, default=7, help="repeats; the median is reported (default 7)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per model first (default 3)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seq", type=int, default=32)
    parser.add_argument("--vocab", type=int, default=512)
    parser.add_argument(
        "--budget",
        type=float,
        default=15.0,
        help="stop repeating (after 3 repeats) once timing has taken this many seconds (default 15)",
    )
    parser.add_argument("--adamw", action="store_true", help="include an AdamW step in every timed step")
    args = parser.parse_args()

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = TransformerConfig(
        d_model=64,
        n_layers=2,
        n_heads=4,
        d_vocab=args.vocab,
        n_ctx=args.seq,
        act_fn="gelu_new",
        normalization_type="LN",
    )
    generator = torch.Generator().manual_seed(1234)
    tokens = torch.randint(0, cfg.d_vocab, (args.batch, args.seq), generator=generator)

    ours = Transformer(cfg).train()
    minimal = MinimalGPT(cfg).train()
    minimal.load_from(ours)
    bridge = ours.to_transformer_lens()  # keeps its own copy of our weights

    models = {
        "ours": make_step(ours, lambda t: ours(t, return_type="loss"), tokens, args.adamw),
        "minimal": make_step(minimal, minimal, tokens, args.adamw),
        "TL bridge": make_step(bridge, lambda t: next_token_loss(bridge(t), t), tokens, args.adamw),
    }
    n_params = {
        "ours": sum(p.numel() for p in ours.parameters()),
        "minimal": sum(p.numel() for p in minimal.parameters()),
        "TL bridge": sum(p.numel() for p in bridge.parameters()),
    }

    with torch.no_grad():  # same weights, same batch: the three losses should agree
        init_losses = {
            "ours": ours(tokens, return_type="loss").item(),
            "minimal": minimal(tokens).item(),
            "TL bridge": next_token_loss(bridge(tokens), tokens).item(),
        }

    load_before = os.getloadavg()[0]
    for step in models.values():
        for _ in range(args.warmup):
            step()

    names = list(models)
    times: dict[str, list[float]] = {name: [] for name in names}
    start = time.perf_counter()
    for r in range(args.repeats):
        order = names[r % len(names) :] + names[: r % len(names)]  # rotate who goes first
        for name in order:
            times[name].append(time_steps(models[name], args.steps))
        if r + 1 >= 3 and time.perf_counter() - start > args.budget:
            break  # a loaded machine: keep the run short rather than complete
    repeats_done = len(times["ours"])

    median = {name: statistics.median(ts) for name, ts in times.items()}
    best = {name: min(ts) for name, ts in times.items()}
    what = "zero_grad + forward + loss + backward" + (" + AdamW step" if args.adamw else " (no optimizer step)")
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s) on {os.cpu_count()} CPU(s); "
        f"batch {args.batch} × seq {args.seq}, {cfg.n_layers} layers, d_model {cfg.d_model}, {cfg.n_heads} heads, "
        f"d_mlp {cfg.d_mlp}, vocab {cfg.d_vocab}"
    )
    print(
        f"one step = {what}; {args.warmup} warm-up steps, then {repeats_done} repeats × {args.steps} steps, "
        f"models interleaved; ms/step is the median over repeats, best the fastest repeat"
    )
    print()
    print(f"{'model':<10} {'params':>8} {'loss@init':>10} {'ms/step':>9} {'best':>8} {'worst':>9} {'× minimal':>10}")
    for name in names:
        print(
            f"{name:<10} {n_params[name]:>8} {init_losses[name]:>10.5f} {median[name]:>9.2f} {best[name]:>8.2f} "
            f"{max(times[name]):>9.2f} {median[name] / median['minimal']:>10.2f}"
        )
    print()
    print(
        f"ours / minimal = {median['ours'] / median['minimal']:.2f} (target ≤ 1.2)"
        f"   [best repeats: {best['ours'] / best['minimal']:.2f}]"
    )
    print(
        f"ours / TransformerLens bridge = {median['ours'] / median['TL bridge']:.2f} (target < 1)"
        f"   [best repeats: {best['ours'] / best['TL bridge']:.2f}]"
    )
    if not all(math.isclose(v, init_losses["ours"], rel_tol=1e-4) for v in init_losses.values()):
        print("note: the initial losses differ, so the models do not compute the same function")
    load = max(load_before, os.getloadavg()[0])
    idle_cores = (os.cpu_count() or 1) - torch.get_num_threads()
    if load > idle_cores + 0.5 or any(max(ts) > 2 * min(ts) for ts in times.values()):
        print(
            f"note: the machine was busy (1-min load average up to {load:.1f}, or repeats differing over 2×): "
            "other processes compete for the cores, so these numbers are noisy; with more threads than idle "
            "cores torch's thread pool stalls, so prefer --threads 1 (and compare the best-repeat ratios)"
        )


if __name__ == "__main__":
    main()
