"""Chapter 10, "Interventions": exercise stubs (fill in each body)."""

from collections.abc import Callable

import torch
from glassbox.model import Transformer
from jaxtyping import Float, Int
from torch import Tensor
from transformer_lens import ActivationCache


def zero_ablate_head(z: Float[Tensor, "batch pos head d_head"], head: int) -> Float[Tensor, "batch pos head d_head"]:
    """A copy of a layer's `hook_z` activation with one head's output set to zero (the input stays untouched)."""
    raise NotImplementedError()


def mean_ablate_head(z: Float[Tensor, "batch pos head d_head"], head: int) -> Float[Tensor, "batch pos head d_head"]:
    """A copy of `hook_z` with one head's output replaced, at each position, by its mean over the batch."""
    raise NotImplementedError()


def patch_position(
    corrupted: Float[Tensor, "batch pos d_model"], clean: Float[Tensor, "batch pos d_model"], pos: int
) -> Float[Tensor, "batch pos d_model"]:
    """The corrupted run's residual stream with position `pos` taken from the clean run (a new tensor)."""
    raise NotImplementedError()


def recovery_ratio(patched: Float[Tensor, "*shape"], clean: float, corrupted: float) -> Float[Tensor, "*shape"]:
    """(patched − corrupted) / (clean − corrupted): 0 where a patch recovers nothing, 1 where it recovers all of the
    clean metric. Raises ValueError when clean and corrupted are equal (there is nothing to recover), to within
    float rounding: a difference of 1e-9 would turn rounding noise into ratios of a billion."""
    raise NotImplementedError()


def logit_diff_attribution(
    components: Float[Tensor, "component batch d_model"],
    W_U: Float[Tensor, "d_model d_vocab"],
    correct: Int[Tensor, " batch"],
    wrong: Int[Tensor, " batch"],
) -> Float[Tensor, " component"]:
    """Direct logit attribution: what each component's output, read by the unembedding, adds to
    logit(correct) − logit(wrong), averaged over the batch. Sequence b's direction is W_U[:, correct[b]] −
    W_U[:, wrong[b]]; the unembedding's bias is not a component's, so it is left out."""
    raise NotImplementedError()


def attribution_patch_estimate(
    grad: Float[Tensor, "batch pos head d_head"],
    clean: Float[Tensor, "batch pos head d_head"],
    corrupted: Float[Tensor, "batch pos head d_head"],
    corrupted_metric: float,
) -> Float[Tensor, " head"]:
    """Attribution patching for one layer's heads: the first-order estimate of the metric when each head's
    activation (every position, every sequence) is patched from the clean run into the corrupted one —
    metric(corrupted) + Σ grad · (clean − corrupted), summed over batch, position and d_head, one value per head.
    `grad` is the gradient of the metric with respect to the activation on the corrupted run."""
    raise NotImplementedError()


def add_edge(
    activation: Float[Tensor, "batch pos head d_head"],
    write: Float[Tensor, "batch pos d_model"],
    W: Float[Tensor, "d_model d_head"],
    head: int,
) -> Float[Tensor, "batch pos head d_head"]:
    """Path patching's hook on a receiver's queries, keys or values (`hook_q`/`hook_k`/`hook_v`) in a model without
    LayerNorm: a copy of `activation` in which only head `head` also reads `write` (the sender's clean − corrupted
    output) through its own W_Q, W_K or W_V. The other heads, and the input, are left as they were."""
    raise NotImplementedError()


def patch_head_input(
    model: Transformer,
    corrupted: Int[Tensor, "batch pos"],
    clean_cache: ActivationCache,
    metric: Callable[[Tensor], Tensor],
    part: str,
) -> Float[Tensor, "layer head"]:
    """Patch one head's queries, keys or values (`part` "q", "k" or "v"), at every position, from the clean run's
    cache into the corrupted run: entry [l, h] is `metric(logits)` of the corrupted run with only head h's slice of
    `blocks.l.attn.hook_<part>` ([batch, pos, head, d_head]) replaced by the clean one."""
    raise NotImplementedError()


def noise_block_outputs(
    model: Transformer,
    clean: Int[Tensor, "batch pos"],
    corrupted_cache: ActivationCache,
    metric: Callable[[Tensor], Tensor],
    block: str,
) -> Float[Tensor, "layer"]:
    """Noising, one block at a time: entry [l] is `metric(logits)` of the CLEAN run with layer l's attention output
    (`block` "attn") or MLP output (`block` "mlp"), `blocks.l.hook_<block>_out`, replaced at every position by the
    corrupted run's. A large drop from the clean metric says the block is necessary."""
    raise NotImplementedError()


def path_patch_frozen(
    model: Transformer,
    base: Int[Tensor, "batch pos"],
    source: Int[Tensor, "batch pos"],
    metric: Callable[[Tensor], Tensor],
    sender: tuple[int, int],
    receivers: list[tuple[int, int]],
    part: str,
) -> Float[Tensor, ""]:
    """Path patching with the other heads frozen (Wang et al. 2022): `metric(logits)` of the run on `base` in which
    only the `receivers`' (layer, head) queries, keys or values (`part`) see the `sender` head's output from the run
    on `source`. Step 1: cache both runs. Step 2: run `base` with the sender's `hook_z` slice from the source run and
    every other head's `hook_z` frozen at its base value (MLPs and LayerNorms recompute); keep the receivers'
    `hook_<part>`. Step 3: run `base` with only the receivers' slices of `hook_<part>` from step 2; return the
    metric."""
    raise NotImplementedError()
