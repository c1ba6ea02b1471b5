"""Checks for chapter 4, "The full model": parameter counting, the next-token loss, and the reader's own model
assembled from chapter 3's parts (against ours and TransformerLens's on the same weights, its hooks, and GPT-2's
checkpoint format loaded into it)."""

from functools import partial

import torch
from transformer_lens.utilities import lm_cross_entropy_loss

from glassbox.checking.answer import Answer, ReaderFailed
from glassbox.checking.diagnose import close, value_difference
from glassbox.checking.judge import Case, Exercise
from glassbox.config import TransformerConfig
from glassbox.model import DemoTransformer, Transformer
from glassbox.tl_bridge import config_from_gpt2, gpt2_weights, load_tl_parameters


def _configs() -> list[Case]:
    base = TransformerConfig(d_model=64, n_layers=2, n_heads=4, d_vocab=100, n_ctx=32)
    variants = {
        "GPT-2-like": {},
        "attention-only": {"attn_only": True},
        "no LayerNorm": {"normalization_type": None},
        "sinusoidal positions (not parameters)": {"positional_embedding": "sinusoidal"},
        "d_head ≠ d_model / n_heads": {"n_heads": 3, "d_head": 5},
        "two-dimensional residual stream": {"d_model": 2, "n_heads": 1, "d_mlp": 32, "n_layers": 1},
        "no position embedding at all": {"positional_embedding": "none"},
        "d_mlp ≠ 4 · d_model": {"d_mlp": 48},
    }
    return [Case(name, (base.with_(**changes),)) for name, changes in variants.items()]


def _counted(cfg: TransformerConfig) -> int:
    return sum(p.numel() for p in Transformer(cfg).parameters())


def _counts_without_building(answer: Answer) -> str | None:
    """The exercise asks for the count from the configuration alone: building a module inside it is caught."""
    built = []
    original = torch.nn.Module.__init__

    def counting_init(self, *args, **kwargs):
        built.append(type(self).__name__)
        original(self, *args, **kwargs)

    torch.nn.Module.__init__ = counting_init
    try:
        answer.call(answer.obj, TransformerConfig(d_model=8, n_layers=1, n_heads=2, d_vocab=11, n_ctx=4))
    except ReaderFailed as failure:
        return failure.reason
    finally:
        torch.nn.Module.__init__ = original
    if built:
        return f"you built the model ({built[0]} …) to count it: derive the count from the configuration alone"
    return None


def _loss_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(0)

    def case(name, batch, pos, vocab, scale=1.0):
        logits = scale * torch.randn(batch, pos, vocab, generator=generator)
        return Case(name, (logits, torch.randint(0, vocab, (batch, pos), generator=generator)))

    return [
        case("random batch", 3, 8, 20),
        case("batch of 1, two positions", 1, 2, 5),
        case("large logits", 2, 6, 50, scale=1e3),
    ]


def _no_shift(logits, tokens):
    return torch.nn.functional.cross_entropy(logits.flatten(0, 1), tokens.flatten())


def _sum_not_mean(logits, tokens):
    return torch.nn.functional.cross_entropy(logits[:, :-1].flatten(0, 1), tokens[:, 1:].flatten(), reduction="sum")


# ---------------------------------------------------------------------------------- DemoTransformer
DEMO_CFG = TransformerConfig(d_model=16, n_layers=2, n_heads=2, d_vocab=13, n_ctx=8, d_mlp=24)


def _demo_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(0)

    def tokens(cfg, batch, pos):
        return torch.randint(0, cfg.d_vocab, (batch, pos), generator=generator)

    variants = {
        "config n_layers=1": DEMO_CFG.with_(n_layers=1),
        "config n_layers=3, d_head=3 (d_head ≠ d_model / n_heads)": DEMO_CFG.with_(n_layers=3, n_heads=4, d_head=3),
        "config attn_only=True": DEMO_CFG.with_(attn_only=True),
    }
    return [
        Case("random batch", (DEMO_CFG, tokens(DEMO_CFG, 2, 5))),
        Case("batch of 1, one position", (DEMO_CFG, tokens(DEMO_CFG, 1, 1))),
        Case("full context", (DEMO_CFG, tokens(DEMO_CFG, 3, DEMO_CFG.n_ctx))),
        *(Case(name, (cfg, tokens(cfg, 2, 6))) for name, cfg in variants.items()),
        Case(
            "config normalization_type=None", (DEMO_CFG.with_(normalization_type=None), tokens(DEMO_CFG, 2, 6)), False
        ),
    ]


def _demo(cfg, state, tokens, *, positions=True, final_ln=True, blocks=None):
    """What the reference computes, with one step left out (the wrong variants)."""
    model = DemoTransformer(cfg)
    model.load_state_dict(state)
    residual = model.embed(tokens) + (model.pos_embed(tokens) if positions else 0)
    for block in model.blocks if blocks is None else model.blocks[:blocks]:
        residual = block(residual)
    return model.unembed(model.ln_final(residual) if final_ln else residual)


def _ours(cfg, state, tokens):
    model = Transformer(cfg)
    model.load_state_dict(state)
    return model(tokens)


def _bridge(cfg, state, tokens):
    model = Transformer(cfg)
    model.load_state_dict(state)
    return model.to_transformer_lens()(tokens)


def _hook_names(answer: Answer) -> str | None:
    """Every hook of the reference fires in the reader's model (so run_with_cache and patching see everything)."""
    mine, reference = answer.build(DEMO_CFG, seed=5)
    tokens = torch.randint(0, DEMO_CFG.d_vocab, (2, 5), generator=torch.Generator().manual_seed(5))
    try:
        _, cache = answer.call(mine.run_with_cache, tokens)
    except ReaderFailed as failure:
        return f"run_with_cache {failure.reason}"
    _, expected = reference.run_with_cache(tokens)
    missing = [name for name in expected.keys() if name not in cache.keys()]
    if missing:
        return f"these hooks never fire in your forward: {', '.join(missing[:4])} — pass the embeddings through them"
    return None


def _tiny_gpt2(seed: int = 0):
    """A two-layer GPT-2 in Hugging Face's format, with random LayerNorms and biases (so none is loaded by luck)."""
    from transformers import GPT2Config, GPT2LMHeadModel
    from transformers.utils import logging

    logging.set_verbosity_error()
    config = GPT2Config(vocab_size=40, n_positions=16, n_embd=16, n_layer=2, n_head=2, bos_token_id=0, eos_token_id=0)
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(config).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "ln" in name or "bias" in name:
                param.add_(0.3 * torch.randn(param.shape))
    return model


def _reader_parts(answer: Answer) -> list[tuple[str, object]]:
    """The chapter 3 parts to build the reader's model from, most the reader's own first: in a notebook those that
    passed their checks there (`glassbox.yours`); from a package of answers (`--impl exercises`), its
    `ch03_components`; the library's last (used only when the reader's own parts are not written yet)."""
    import importlib
    from types import SimpleNamespace

    from glassbox import yours

    candidates = []
    if any(yours.yours_used(name) for name in yours.PARTS):
        candidates.append(("your chapter 3 parts that pass their checks", yours.my_parts(say=False)))
    package, _, module = getattr(answer.obj, "__module__", "").rpartition(".")
    if package and module == "ch04_model":
        try:
            sibling = importlib.import_module(f"{package}.ch03_components")
            candidates.append(
                (f"{package}.ch03_components", SimpleNamespace(**{n: getattr(sibling, n) for n in yours.PARTS}))
            )
        except (ImportError, AttributeError):
            pass
    candidates.append(("the library's parts", None))
    return candidates


def _loads_gpt2(answer: Answer) -> str | None:
    """GPT-2's own checkpoint, renamed by `gpt2_weights`, gives GPT-2's logits to 1e-4 in the reader's model built
    from the reader's own chapter 3 parts (the library's only where those are not written yet)."""
    from glassbox.checking.answer import preserved_random_state

    with preserved_random_state():
        hf = _tiny_gpt2()
    cfg = config_from_gpt2(hf.config)
    for label, parts in _reader_parts(answer):
        try:
            mine = answer.call(answer.obj, cfg, parts) if parts is not None else answer.call(answer.obj, cfg)
            load_tl_parameters(mine, gpt2_weights(hf.state_dict(), cfg))
            with torch.no_grad():
                answer.call(mine.eval(), torch.zeros(1, 1, dtype=torch.long))
        except ReaderFailed as failure:
            if parts is not None and isinstance(failure.error, NotImplementedError):
                continue  # those parts are not all written yet: try the next
            return f"could not load GPT-2's weights (with {label}): {failure.reason}"
        except ValueError as failure:
            return f"could not load GPT-2's weights (with {label}): {failure}"
        break
    tokens = torch.randint(0, cfg.d_vocab, (2, 12), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = hf(tokens).logits
        try:
            got = answer.call(mine.eval(), tokens)
        except ReaderFailed as failure:
            return f"on GPT-2's weights your model (with {label}) {failure.reason}"
    if not close(got, expected, 1e-4, 0.0):
        return f"on GPT-2's weights (with {label}) the logits differ from GPT-2's: {value_difference(got, expected)}"
    return None


EXERCISES = [
    Exercise(
        name="count_parameters",
        module="ch04_model",
        cases=_configs,
        agrees_with={"the parameters of Transformer(cfg)": _counted},
        behaviours={"counted from the configuration, without building the model": _counts_without_building},
    ),
    Exercise(
        name="next_token_loss",
        module="ch04_model",
        cases=_loss_cases,
        mistakes={
            "shift by one: logits at position t predict the token at t+1 (drop the last logit and the first "
            "token)": _no_shift,
            "take the mean over positions and batch, not the sum": _sum_not_mean,
        },
        agrees_with={"transformer_lens lm_cross_entropy_loss": lm_cross_entropy_loss},
        atol=1e-4,
    ),
    Exercise(
        name="DemoTransformer",
        module="ch04_model",
        cases=_demo_cases,
        is_module=True,
        mistakes={
            "did you forget the position embedding? Add pos_embed(tokens) to embed(tokens)": partial(
                _demo, positions=False
            ),
            "did you forget the final LayerNorm (ln_final) before the unembedding?": partial(_demo, final_ln=False),
            "run every block, one after the other (each reads the stream the previous one wrote)": partial(
                _demo, blocks=1
            ),
        },
        agrees_with={
            "glassbox.model.Transformer on the same weights": _ours,
            "TransformerLens (a native bridge with the same weights)": _bridge,
        },
        behaviours={
            "every hook fires (run_with_cache)": _hook_names,
            "GPT-2's checkpoint loads into your model, built from your chapter 3 parts where they are written, and "
            "gives GPT-2's logits": _loads_gpt2,
        },
        atol=1e-4,
    ),
]
