"""`TransformerConfig`: the shape of a model, with TransformerLens field names (chapters 3–5 and everything after)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from glassbox.device import book_device

ACT_FNS = ("relu", "gelu", "gelu_new")
NORMALIZATION_TYPES = ("LN", None)
POSITIONAL_EMBEDDINGS = ("learned", "sinusoidal", "none")


def whole(value: Any) -> bool:
    """An int that is not a bool (`True` is an int to Python, but `n_heads=True` is a mistake)."""
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class TransformerConfig:
    """Everything that fixes a transformer's shape. Field names follow TransformerLens's `HookedTransformerConfig`."""

    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    d_head: int | None = None  # None: d_model // n_heads, which must then divide evenly
    d_mlp: int | None = None  # None: 4 * d_model, as in GPT-2
    d_vocab: int = 64
    n_ctx: int = 64
    act_fn: str = "gelu_new"  # GPT-2's tanh GELU; "gelu" is the exact one (erf), "relu" the classic
    normalization_type: str | None = "LN"  # None removes every LayerNorm (for models small enough to read)
    attn_only: bool = False  # True: blocks have no MLP (the attention-only models of Part IV)
    positional_embedding: str = "learned"  # "learned" (W_pos, GPT-2), "sinusoidal" (fixed), or "none"
    use_residual: bool = True  # False: each sublayer's output replaces the stream instead of adding to it
    attn_bias: bool = True  # False: no b_Q, b_K, b_V, b_O (they stay as fixed zeros, so every view still works)
    attn_out_proj: bool = True  # False: no learned W_O; heads write z straight into the stream (W_O fixed to I)
    seed: int | None = 0  # seeds the initial weights (torch's global generator untouched); None draws them from it
    eps: float = 1e-5  # LayerNorm epsilon, inside the square root
    init_range: float = 0.02  # std of the normal initialisation, as in GPT-2 and TransformerLens
    device: str = field(
        default_factory=book_device
    )  # where the model is built: glassbox.device chooses, "cpu" unless told

    def __post_init__(self) -> None:
        for name in ("d_model", "n_layers", "n_heads", "d_vocab", "n_ctx"):
            value = getattr(self, name)
            if not whole(value) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name in ("d_head", "d_mlp"):
            value = getattr(self, name)
            if value is not None and (not whole(value) or value <= 0):
                raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
        if self.seed is not None and not whole(self.seed):
            raise ValueError(f"seed must be an integer or None, got {self.seed!r}")
        for name in ("attn_only", "use_residual", "attn_bias", "attn_out_proj"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.d_head is None:
            if self.d_model % self.n_heads:
                raise ValueError(
                    f"d_model={self.d_model} is not divisible by n_heads={self.n_heads}: set d_head explicitly"
                )
            object.__setattr__(self, "d_head", self.d_model // self.n_heads)
        if self.d_mlp is None:
            object.__setattr__(self, "d_mlp", 4 * self.d_model)
        if self.act_fn not in ACT_FNS:
            raise ValueError(f"unknown act_fn {self.act_fn!r}; choose one of {', '.join(ACT_FNS)}")
        if self.normalization_type not in NORMALIZATION_TYPES:
            raise ValueError(f"normalization_type must be 'LN' or None, got {self.normalization_type!r}")
        if self.positional_embedding not in POSITIONAL_EMBEDDINGS:
            raise ValueError(
                f"unknown positional_embedding {self.positional_embedding!r}; "
                f"choose one of {', '.join(POSITIONAL_EMBEDDINGS)}"
            )
        if self.positional_embedding == "sinusoidal" and self.d_model % 2:
            raise ValueError(f"sinusoidal positions need an even d_model, got {self.d_model}")
        if not self.attn_out_proj and self.n_heads * self.d_head != self.d_model:
            raise ValueError(
                f"attn_out_proj=False writes z straight into the stream: n_heads * d_head must equal d_model, "
                f"got {self.n_heads} * {self.d_head} != {self.d_model}"
            )
        if (
            isinstance(self.eps, bool)
            or not isinstance(self.eps, (int, float))
            or isinstance(self.init_range, bool)
            or not isinstance(self.init_range, (int, float))
        ):
            raise ValueError(f"eps and init_range must be positive numbers, got {self.eps!r} and {self.init_range!r}")
        if self.eps <= 0 or self.init_range <= 0:
            raise ValueError(f"eps and init_range must be positive, got {self.eps} and {self.init_range}")

    @property
    def n_key_value_heads(self) -> None:
        """None: every head has its own keys and values (no grouped-query attention). TransformerLens's patching reads
        this to count the key and value heads; a property, not a field, so it never changes a config's repr."""
        return None

    def with_(self, **changes: Any) -> TransformerConfig:
        """A copy with some fields changed (derived sizes recomputed unless given)."""
        fields = asdict(self)
        if "d_model" in changes or "n_heads" in changes:
            fields["d_head"] = None if "d_head" not in changes else changes["d_head"]
        if "d_model" in changes and "d_mlp" not in changes:
            fields["d_mlp"] = None
        return replace(TransformerConfig(**{**fields, **changes}))
