"""Train a glass-box model on an integer-sequence rule, measure how well it follows the rule, and (from a terminal)
write every figure of chapters 6 and 7.

    python -m glassbox.rules plus_last_even --out figures/      # train, then write every figure and the GIFs
    python -m glassbox.rules lucky7 --steps 4000 --seed 1
    python -m glassbox.rules plus_last_even --out figures/ --figures-only   # from the checkpoints of a former run

The models are those of chapter 6: a 2-D residual stream, one attention head of size d_model without biases and
without an output projection (its W_O is fixed to the identity), a ReLU MLP of 32 units, an unembedding with a
bias, and no LayerNorm. Each prediction sees the last `n_ctx` tokens (8 for most rules).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from jaxtyping import Float, Int
from torch import Tensor, nn

from glassbox.config import TransformerConfig
from glassbox.model import Transformer
from glassbox.tasks import Rule, get_rule
from glassbox.train import History, TrainConfig, load_checkpoint, train


# ------------------------------------------------------------------------------------------ one setup per rule
@dataclass(frozen=True)
class Recipe:
    """How to train: batch size and the `TrainConfig` (steps, learning rate, evaluation and checkpoint periods)."""

    batch_size: int
    train: TrainConfig


# The seed project's recipe, kept as it was: AdamW (PyTorch's defaults), lr 1e-3, batch 8, 20,000 steps, no
# gradient clipping, evaluated every 200 steps, checkpointed every 100.
SEED_RECIPE = Recipe(8, TrainConfig(steps=20_000, lr=1e-3, betas=(0.9, 0.999), weight_decay=0.01, grad_clip=None,
                                    eval_every=200, eval_batches=1, checkpoint_every=100))
# The book's recipe: the same optimiser with batches of 128, a learning rate thirty times larger that decays to zero
# along a cosine, 2,000 steps. A larger batch gives a less noisy gradient, so each step can go further, and on a CPU
# a step of a model this small costs about the same at batch 8 or 128; the decay lets the last steps settle the
# attention exactly. See chapter 6 and benchmarks/rules_training.py.
FAST_RECIPE = Recipe(128, TrainConfig(steps=2_000, lr=3e-2, betas=(0.9, 0.999), weight_decay=0.01, grad_clip=None,
                                      eval_every=100, eval_batches=1, checkpoint_every=50, lr_schedule="cosine"))


@dataclass(frozen=True)
class Setup:
    """A rule with the model that learns it: the gallery of chapter 7 is a list of these."""

    rule: str
    d_model: int = 2
    n_ctx: int = 8
    d_mlp: int = 32
    use_residual: bool = True
    n_sequences: int = 2000
    title: str = ""

    def model_config(self, d_vocab: int, seed: int = 0) -> TransformerConfig:
        return TransformerConfig(
            d_model=self.d_model, n_layers=1, n_heads=1, d_head=self.d_model, d_mlp=self.d_mlp, d_vocab=d_vocab,
            n_ctx=self.n_ctx, act_fn="relu", normalization_type=None, attn_bias=False, attn_out_proj=False,
            use_residual=self.use_residual, seed=seed,
        )


@torch.no_grad()
def pytorch_default_init(model: Transformer, seed: int = 0) -> Transformer:
    """Re-draw `model`'s weights as PyTorch's `nn.Embedding` and `nn.Linear` would (the seed project's models were
    built from those): embeddings ~ N(0, 1), every other weight and bias ~ U(-1/√fan_in, 1/√fan_in).

    GPT-2's N(0, 0.02²) suits wide models; in a 2-D model it leaves every dot product near zero and training
    stalls for thousands of steps, so the tiny models start from PyTorch's defaults.
    """
    generator = torch.Generator().manual_seed(seed)
    fan_in = {"W_Q": -2, "W_K": -2, "W_V": -2, "W_in": 0, "W_out": 0, "W_U": 0}  # the dim each weight reads
    for name, param in model.named_parameters():
        kind = name.split(".")[-1]
        if kind in ("W_E", "W_pos"):
            param.copy_(torch.randn(param.shape, generator=generator))
            continue
        reads = {"b_in": model.cfg.d_model, "b_out": model.cfg.d_mlp, "b_U": model.cfg.d_model}.get(kind)
        bound = (reads or param.shape[fan_in[kind]]) ** -0.5
        param.copy_((torch.rand(param.shape, generator=generator) * 2 - 1) * bound)
    return model


# Chapter 7's recipe: the book's steps and schedule with batches of 64 (ten rules must train in one chapter)
GALLERY_RECIPE = Recipe(64, replace(FAST_RECIPE.train, lr=2e-2, eval_every=500, checkpoint_every=None))

GALLERY: dict[str, Setup] = {
    "plus_last_even": Setup("plus_last_even"),
    "lucky7": Setup("lucky7"),
    "lucky7_no_residual": Setup("lucky7", use_residual=False, title="lucky7 without residual"),
    "step_back": Setup("step_back", d_model=4, n_ctx=16),
    "plus_max_of_two": Setup("plus_max_of_two"),
    "plus_means_even": Setup("plus_means_even"),
    "copy_modulo": Setup("copy_modulo"),
    "successor": Setup("successor"),
    "conditional_transform": Setup("conditional_transform"),
    "lookup_permutation": Setup("lookup_permutation"),
}


def get_setup(name: str) -> Setup:
    """The gallery entry called `name`; an unknown name is an error that lists the known ones."""
    if name not in GALLERY:
        raise ValueError(f"unknown rule {name!r}; known rules: {', '.join(GALLERY)}")
    return GALLERY[name]


# ------------------------------------------------------------------------------------------------------ data
@dataclass
class RuleData:
    """Sequences of one rule, split 90/10 by sequence (a validation sequence is never seen in training)."""

    rule: Rule
    train: list[list[int]]
    val: list[list[int]]


def make_data(rule: Rule, n_sequences: int = 2000, seed: int = 0, val_fraction: float = 0.1) -> RuleData:
    """`n_sequences` seeded sequences of `rule`, the last `val_fraction` of them held out."""
    sequences = rule.generate(n_sequences, np.random.default_rng(seed))
    cut = int(round(n_sequences * (1 - val_fraction)))
    return RuleData(rule, sequences[:cut], sequences[cut:])


def padded(sequences: list[list[int]]) -> tuple[Tensor, Tensor]:
    """The sequences as one [n_sequences, max_length] tensor (padded with 0) and their lengths."""
    lengths = torch.tensor([len(s) for s in sequences])
    tokens = torch.zeros(len(sequences), int(lengths.max()), dtype=torch.long)
    for row, sequence in zip(tokens, sequences):
        row[: len(sequence)] = torch.tensor(sequence)
    return tokens, lengths


def window_sampler(sequences: list[list[int]], n_ctx: int, batch_size: int):
    """A batch function for `train`: pick a sequence at random, then a window of n_ctx + 1 tokens in it at random
    (as the seed project did), `batch_size` times, from the generator `train` passes in.

    n_ctx + 1, not n_ctx: the model reads the first n_ctx tokens and is scored on all n_ctx predictions, the last
    one included (see `window_loss`). Train on windows of n_ctx and the prediction at the last position is never
    trained — yet every prediction past the first window is made there.
    """
    tokens, lengths = padded(sequences)
    if int(lengths.min()) < n_ctx + 1:
        raise ValueError(f"every sequence must hold at least one window of {n_ctx + 1} tokens")
    offsets = torch.arange(n_ctx + 1)

    def batch(generator: torch.Generator) -> Tensor:
        rows = torch.randint(len(sequences), (batch_size,), generator=generator)
        starts = (torch.rand(batch_size, generator=generator) * (lengths[rows] - n_ctx)).long()
        return tokens[rows[:, None], starts[:, None] + offsets]

    return batch


def window_loss(model: Transformer, windows: Int[Tensor, "batch n_ctx_plus_1"]) -> Float[Tensor, ""]:
    """Mean cross-entropy of the model reading windows[:, :-1] and predicting windows[:, 1:] (every position)."""
    logits = model(windows[:, :-1])
    return F.cross_entropy(logits.flatten(0, 1), windows[:, 1:].flatten())


def all_windows(sequences: list[list[int]], n_ctx: int) -> Tensor:
    """Every window of n_ctx + 1 consecutive tokens of every sequence (n_ctx to read, each with its next token)."""
    return torch.cat([torch.tensor(s).unfold(0, n_ctx + 1, 1) for s in sequences])


# ------------------------------------------------------------------------------------------- predictions
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
    first_logits = [model(first[None])[0] for first in firsts] if len({len(f) for f in firsts}) > 1 \
        else list(model(torch.stack(firsts)))
    later_logits = model(torch.cat(later))[:, -1].split([len(w) for w in later]) if sum(map(len, later)) \
        else [torch.zeros(0, model.cfg.d_vocab)] * len(sequences)
    return [torch.cat([f, l])[: len(s) - 1] for f, l, s in zip(first_logits, later_logits, sequences)]


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
    return RuleAccuracy({g: int(counts[k]) for k, g in enumerate(targets.groups)},
                        {g: int(correct[k]) for k, g in enumerate(targets.groups)})


# ---------------------------------------------------------------------------------------------- training
@dataclass
class Run:
    """A trained model with everything its figures need."""

    name: str
    setup: Setup
    data: RuleData
    model: Transformer
    history: History
    recipe: Recipe
    seconds: float  # wall time of training, evaluations included

    @property
    def rule(self) -> Rule:
        return self.data.rule

    def at_step(self, step: int) -> Transformer:
        """The model as it was at checkpoint `step`."""
        if step not in self.history.checkpoints:
            raise ValueError(f"no checkpoint at step {step}; checkpoints every {self.recipe.train.checkpoint_every} steps")
        return load_checkpoint(self.model, self.history.checkpoints[step]).eval()


def train_rule(
    name: str,
    recipe: Recipe = FAST_RECIPE,
    *,
    seed: int = 0,
    steps: int | None = None,
    checkpoint_dir: Path | None = None,
    progress: bool = True,
    setup: Setup | None = None,
) -> Run:
    """Generate the data of gallery entry `name`, build its model and train it, evaluating the validation loss and
    the rule error on the validation sequences as it goes. `setup` replaces the gallery's (e.g. to try a rule
    without the residual connection: `replace(get_setup("successor"), use_residual=False)`)."""
    setup = setup or get_setup(name)
    rule = get_rule(setup.rule)
    data = make_data(rule, setup.n_sequences, seed=seed)
    cfg = recipe.train if steps is None else replace(recipe.train, steps=steps)
    cfg = replace(cfg, seed=seed, checkpoint_dir=checkpoint_dir, progress=progress)
    torch.manual_seed(seed)
    model = pytorch_default_init(Transformer(setup.model_config(rule.d_vocab, seed=seed)), seed)
    val_windows = all_windows(data.val, setup.n_ctx)

    targets = rule_targets(rule, data.val, setup.n_ctx)

    def rule_error(model: Transformer) -> dict[str, float]:
        return {"rule_error": 1 - rule_accuracy(model, data.val, rule, targets).overall}

    start = time.perf_counter()
    history = train(
        model,
        train_batches=window_sampler(data.train, setup.n_ctx, recipe.batch_size),
        val_batches=lambda generator: val_windows,
        cfg=cfg,
        loss_fn=window_loss,
        evaluate=rule_error,
    )
    return Run(name, setup, data, model, history, replace(recipe, train=cfg), time.perf_counter() - start)


# ------------------------------------------------------------------------------------ demos and figures
def demo_windows(run: Run, n: int = 3, min_constrained: int = 2) -> tuple[list[list[int]], list[list[int]]]:
    """`n` windows of validation text in which the rule fixes at least `min_constrained` next tokens, each with
    its continuation (the window plus the token after it), for the per-sequence figures."""
    n_ctx, windows, continuations = run.setup.n_ctx, [], []
    for sequence in run.data.val:
        for start in range(0, len(sequence) - n_ctx, n_ctx):
            span = sequence[start: start + n_ctx + 1]
            if sum(run.rule.allowed(span, i) is not None for i in range(1, len(span))) >= min_constrained:
                windows.append(span[:-1])
                continuations.append(span)
                break
        if len(windows) == n:
            return windows, continuations
    raise ValueError(f"fewer than {n} validation windows with {min_constrained} constrained positions")


def generations(model: Transformer, rule: Rule, starts: list[int], length: int = 40, seed: int = 0) -> list[list[int]]:
    """Sequences sampled (temperature 1, seeded) from `model`, one per start token."""
    out = model.generate(torch.tensor(starts)[:, None], max_new_tokens=length - 1, temperature=1.0, seed=seed)
    return out.tolist()


def write_figures(run: Run, out: Path, gifs: bool = True) -> list[Path]:
    """Write every figure of chapter 6 for `run` as PNG files (and the four learning-dynamics GIFs) into `out`.
    Models with d_model > 2 get the figures that do not draw the residual stream as a plane."""
    from glassbox.plots import animation, glassbox as g

    out.mkdir(parents=True, exist_ok=True)
    model, rule = run.model, run.rule
    windows, continuations = demo_windows(run)
    starts = [s[0] for s in run.data.val[:4]]
    figures = {
        "01_architecture": lambda: g.architecture(model),
        "02_learning_curve": lambda: g.learning_curve(run.history),
        "03_training_data": lambda: g.training_data(rule, run.data.train[:6]),
        "04_generated_sequences": lambda: g.generated_sequences(
            rule, generations(run.at_step(0), rule, starts), generations(model, rule, starts)),
    }
    if model.cfg.d_model == 2:
        names = [f"{rule.vocab[t]}_{p}" for t in range(rule.d_vocab) for p in range(model.cfg.n_ctx)]
        colours = [g.token_colour(rule, t) for t in range(rule.d_vocab) for _ in range(model.cfg.n_ctx)]
        focus = rule.plus if rule.has_plus else 7
        figures |= {
            "05_token_embeddings": lambda: g.embeddings(model, rule),
            "06_embedding_scatter": lambda: g.embedding_scatter(model, rule),
            "07_output_probabilities": lambda: g.output_landscape(model, rule),
            "08_qkv_transforms": lambda: g.qkv_transforms(model, rule),
            "09_qk_space": lambda: g.qk_space(model, rule),
            "10_qk_space_focus": lambda: g.qk_focus(model, rule, focus, min(5, model.cfg.n_ctx - 1)),
            "11_probability_heatmap_with_values": lambda: g.output_landscape(
                model, rule, g.self_attention_points(model), labels=names, colours=colours),
            "12_sequence_embeddings": lambda: g.sequence_embeddings(model, rule, windows[0]),
            "13_qk_attention": lambda: g.qk_attention(model, rule, windows),
            "14_value_output": lambda: g.value_output(model, rule, windows),
            "15_residual_stream": lambda: g.residual_stream(model, rule, windows, continuations),
            **{f"{16 + k}_value_demo{k}": (lambda k=k: g.value_demo(model, rule, windows[k], continuations[k]))
               for k in range(3)},
            "supplementary_score_grid": lambda: g.score_grid(model, rule),
        }
    written = []
    for name, draw in figures.items():
        path = out / f"{name}.png"
        path.write_bytes(draw()._repr_png_())
        written.append(path)
    if gifs and model.cfg.d_model == 2:
        plus_or_evens = [t for t in (0, 4, 8) if t < rule.d_vocab] + ([rule.plus] if rule.has_plus else [])
        animations = {
            "learning_embeddings": lambda: animation.embeddings_over_training(run),
            "learning_qkv": lambda: animation.qkv_over_training(run),
            "learning_qk_attention": lambda: animation.qk_attention_over_training(run, windows[0]),
            "learning_output_landscapes": lambda: animation.output_landscapes_over_training(run, plus_or_evens),
        }
        for name, make in animations.items():
            written.append(make().save(out / f"{name}.gif"))
    return written


def save_run(run: Run, out: Path) -> Path:
    """Save what `--figures-only` needs (the model, its history with checkpoint files, the data) to out/run.pt."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "run.pt"
    torch.save({"name": run.name, "recipe": run.recipe, "seconds": run.seconds, "model": run.model.state_dict(),
                "history": run.history, "train": run.data.train, "val": run.data.val}, path)
    return path


def load_run(out: Path) -> Run:
    """The run saved by `save_run` in `out`; a clear error when there is none."""
    path = out / "run.pt"
    if not path.exists():
        raise FileNotFoundError(f"no saved run in {out}: train first (without --figures-only)")
    saved = torch.load(path, weights_only=False)
    setup = get_setup(saved["name"])
    rule = get_rule(setup.rule)
    model = Transformer(setup.model_config(rule.d_vocab))
    model.load_state_dict(saved["model"])
    return Run(saved["name"], setup, RuleData(rule, saved["train"], saved["val"]), model.eval(), saved["history"],
               saved["recipe"], saved["seconds"])


# ---------------------------------------------------------------------------------------------- command line
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m glassbox.rules", description=__doc__.split("\n\n")[0])
    parser.add_argument("rule", help=f"one of: {', '.join(GALLERY)}")
    parser.add_argument("--out", type=Path, default=None, help="folder for the figures, GIFs and checkpoints "
                        "(default: figures/RULE)")
    parser.add_argument("--steps", type=int, default=None, help="training steps (default: the book's recipe)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seed-recipe", action="store_true", help="train with the seed project's recipe "
                        "(batch 8, lr 1e-3, 20,000 steps)")
    parser.add_argument("--figures-only", action="store_true", help="no training: draw from the checkpoints "
                        "saved in --out by a former run")
    parser.add_argument("--no-gifs", action="store_true", help="skip the learning-dynamics animations")
    args = parser.parse_args(argv)
    if args.rule not in GALLERY:
        parser.error(f"unknown rule {args.rule!r}; known rules: {', '.join(GALLERY)}")
    out = args.out or Path("figures") / args.rule
    if args.figures_only:
        try:
            run = load_run(out)
        except FileNotFoundError as error:
            parser.error(str(error))
    else:
        recipe = SEED_RECIPE if args.seed_recipe else FAST_RECIPE
        run = train_rule(args.rule, recipe, seed=args.seed, steps=args.steps, checkpoint_dir=out / "checkpoints")
        save_run(run, out)
        accuracy = rule_accuracy(run.model, run.data.val, run.rule)
        groups = ", ".join(f"{g}: {accuracy.correct[g]}/{n}" for g, n in accuracy.counts.items())
        print(f"{args.rule}: trained {run.recipe.train.steps} steps in {run.seconds:.1f} s; "
              f"validation rule accuracy {accuracy.overall:.2%} ({groups})")
    written = write_figures(run, out, gifs=not args.no_gifs)
    print(f"wrote {len(written)} files to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
