"""Where a chapter's exercise has a twin in the library (the reader writes it; later chapters use the library's), the
two are pinned to the same numbers and the same errors here, so neither can drift from the other."""

import pytest
import torch
from glassbox import induction
from glassbox.analysis import attention, interventions
from glassbox_solutions import ch10_interventions, ch11_induction, ch12_gpt2
from transformer_lens.hook_points import HookPoint


def test_recovery_ratio_is_the_same_function_in_the_library_and_the_solution():
    patched = torch.tensor([0.0, 0.5, 2.0, -1.0])
    for clean, corrupted in ((3.0, 1.0), (-2.0, 0.5), (1e-3, 2e-3)):
        torch.testing.assert_close(
            ch10_interventions.recovery_ratio(patched, clean, corrupted),
            interventions.recovery_ratio(patched, clean, corrupted),
        )
    for clean, corrupted in ((2.0, 2.0), (1.0, 1.0 + 1e-12)):  # equal, and equal but for rounding
        for twin in (ch10_interventions.recovery_ratio, interventions.recovery_ratio):
            with pytest.raises(ValueError, match="nothing to recover"):
                twin(patched, clean, corrupted)


def test_previous_token_scores_average_the_same_way():
    patterns = torch.rand(3, 4, 7, 7).tril().softmax(-1)  # [layer, head, query, key]
    torch.testing.assert_close(
        ch12_gpt2.prev_token_scores(patterns), attention.previous_token_score(patterns[:, None])
    )  # the library's has a batch


def test_second_half_loss_is_one_quantity_in_the_exercise_the_library_and_half_losses():
    generator = torch.Generator().manual_seed(0)
    tokens = induction.repeated_random_tokens(5, 6, 11, generator)
    logits = torch.randn(5, 12, 11, generator=generator)
    expected = ch11_induction.second_half_loss(logits, tokens)
    torch.testing.assert_close(induction.second_half_loss(logits, tokens), expected)
    assert induction.half_losses(logits, tokens).second == pytest.approx(expected.item(), rel=1e-6)


# Chapter 3: the reader sees the clear solutions (solutions/ch03_components.py: named steps, einsum, every hook);
# every later chapter runs the library's (glassbox/components.py: fused kernels when no hook is attached, Part III's
# flags). The two are pinned to the same numbers on every config variant that reaches the component, hooked and
# unhooked. The comparison runs in float64: in float32 the fused kernels and the einsum path round differently on
# each CPU kernel set (AVX-512 differed by 1.2e-5 on inputs of std 3), so a float32 tolerance tight enough to catch
# a bug is a tolerance some machine fails; in float64 the same two paths agree to ~1e-14, and 1e-9 is still
# thousands of times smaller than any real mistake.
_CONFIG_VARIANTS = {
    "default": {},
    "relu": {"act_fn": "relu"},
    "exact gelu": {"act_fn": "gelu"},
    "no LayerNorm": {"normalization_type": None},
    "attention only": {"attn_only": True},
    "no residual": {"use_residual": False},
    "attention only, no residual": {"attn_only": True, "use_residual": False},
    "d_head != d_model / n_heads": {"n_heads": 4, "d_head": 3},
    "eps 0.1": {"eps": 0.1},
    "no attention biases (Part III)": {"attn_bias": False},
    "no W_O (Part III)": {"attn_out_proj": False, "attn_bias": False},
}
# The variants each component reads (the others build the very same module): Embed, PosEmbed and Unembed read none
# and have no hook point, so they have one case; a Block reads them all.
_READS = {
    "Embed": ["default"],
    "PosEmbed": ["default"],
    "Unembed": ["default"],
    "LayerNorm": ["default", "eps 0.1"],
    "MLP": ["default", "relu", "exact gelu"],
    "Attention": ["default", "d_head != d_model / n_heads", "no attention biases (Part III)", "no W_O (Part III)"],
    "Block": list(_CONFIG_VARIANTS),
}
_HOOK_FREE = ("Embed", "PosEmbed", "Unembed")
_TWIN_CASES = [
    pytest.param(name, variant, hooked, id=f"{'hooked' if hooked else 'fast path'}-{name}-{variant}")
    for name, variants in _READS.items()
    for variant in variants
    for hooked in ([False] if name in _HOOK_FREE else [False, True])
]


@pytest.mark.parametrize(("name", "variant", "hooked"), _TWIN_CASES)
def test_chapter_3_solutions_compute_what_the_library_computes(name, variant, hooked):
    from glassbox import components
    from glassbox.checking.answer import randomize
    from glassbox.config import TransformerConfig
    from glassbox_solutions import ch03_components

    cfg = TransformerConfig(d_model=16, n_heads=2, d_vocab=11, n_ctx=8, d_mlp=24).with_(**_CONFIG_VARIANTS[variant])
    library = randomize(getattr(components, name)(cfg), seed=1).eval().double()
    teaching = getattr(ch03_components, name)(cfg).eval().double()
    teaching.load_state_dict(library.state_dict())  # every weight, and the fixed zeros/identity of Part III's flags
    generator = torch.Generator().manual_seed(2)
    if name in ("Embed", "PosEmbed"):
        x = torch.randint(0, cfg.d_vocab, (3, cfg.n_ctx), generator=generator)
    else:
        x = 3 * torch.randn(3, cfg.n_ctx, cfg.d_model, generator=generator, dtype=torch.float64)
    seen = {"library": {}, "teaching": {}}
    if hooked:  # a hook on every hook point switches the library off its fast paths
        for who, module in (("library", library), ("teaching", teaching)):
            for hook_name, hook in module.named_modules():
                if isinstance(hook, HookPoint):
                    hook.add_hook(lambda act, hook, who=who, n=hook_name: seen[who].__setitem__(n, act))
    with torch.no_grad():
        torch.testing.assert_close(teaching(x), library(x), atol=1e-9, rtol=1e-9)
    assert seen["teaching"].keys() == seen["library"].keys()
    assert bool(seen["library"]) == hooked  # a hooked case that saw no activation would compare nothing
    for hook_name, act in seen["library"].items():
        torch.testing.assert_close(seen["teaching"][hook_name], act, atol=1e-9, rtol=1e-9, msg=hook_name)


def test_the_twin_cases_are_distinct_and_cover_every_variant():
    """Each variant reaches the component it is listed under (its config differs in a field that component reads),
    and a Block, which reads every field, is tried on every variant."""
    assert len(_TWIN_CASES) == 43
    assert _READS["Block"] == list(_CONFIG_VARIANTS)


def _attention_is_all_you_need(n_ctx: int, d_model: int) -> list[list[float]]:
    """PE(pos, 2i) = sin(pos / 10000^(2i/d_model)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model)): the formula of
    section 3.5 of the paper, one number at a time with the math module."""
    import math

    return [
        [(math.sin if j % 2 == 0 else math.cos)(pos / 10000 ** ((j - j % 2) / d_model)) for j in range(d_model)]
        for pos in range(n_ctx)
    ]


def test_sinusoidal_positions_are_the_papers_formula():
    """`SinusoidalPosEmbed` (the library's, what `positional_embedding="sinusoidal"` builds) and chapter 2's
    `sinusoidal_positions` against the paper's formula, and on a case small enough to check on paper."""
    from glassbox import components
    from glassbox.config import TransformerConfig
    from glassbox.model import Transformer
    from glassbox_solutions import ch02_positions

    cfg = TransformerConfig(d_model=6, n_heads=2, d_vocab=5, n_ctx=7, positional_embedding="sinusoidal")
    expected = torch.tensor(_attention_is_all_you_need(cfg.n_ctx, cfg.d_model))
    built = Transformer(cfg).pos_embed
    assert isinstance(built, components.SinusoidalPosEmbed)
    tokens = torch.zeros(2, 5, dtype=torch.long)
    torch.testing.assert_close(built(tokens), expected[:5].expand(2, 5, 6), atol=1e-6, rtol=0)
    torch.testing.assert_close(ch02_positions.sinusoidal_positions(7, 6), expected, atol=1e-6, rtol=0)
    # by hand, d_model 4: frequencies 1 and 1/100; position 0 is (0, 1, 0, 1), position 1 (sin 1, cos 1, .01, ~1)
    small = components.SinusoidalPosEmbed(TransformerConfig(d_model=4, n_heads=1, n_ctx=2)).W_pos
    torch.testing.assert_close(small[0], torch.tensor([0.0, 1.0, 0.0, 1.0]))
    torch.testing.assert_close(small[1], torch.tensor([0.8414710, 0.5403023, 0.0099998, 0.99995]), atol=1e-6, rtol=0)


@pytest.mark.parametrize(
    "changes",
    [{}, {"attn_only": True}, {"normalization_type": None}, {"n_layers": 3, "n_heads": 4, "d_head": 3}],
    ids=["GPT-2-like", "attention only", "no LayerNorm", "d_head 3"],
)
def test_chapter_4_demo_transformer_computes_what_transformer_computes(changes):
    """The reader's assembled model (from the library's parts or from chapter 3's clear solutions) and the library's
    `Transformer`, on the same weights: the same logits and the same cache."""
    from glassbox.checking.answer import randomize
    from glassbox.config import TransformerConfig
    from glassbox.model import DemoTransformer, Transformer
    from glassbox_solutions import ch03_components

    cfg = TransformerConfig(d_model=16, n_layers=2, n_heads=2, d_vocab=13, n_ctx=8, d_mlp=24).with_(**changes)
    library = randomize(Transformer(cfg), seed=3).eval()
    tokens = torch.randint(0, cfg.d_vocab, (3, cfg.n_ctx), generator=torch.Generator().manual_seed(4))
    expected, expected_cache = library.run_with_cache(tokens)
    for parts in (None, ch03_components):
        demo = DemoTransformer(cfg, parts=parts).eval()
        demo.load_state_dict(library.state_dict())
        logits, cache = demo.run_with_cache(tokens)
        torch.testing.assert_close(logits, expected, atol=1e-5, rtol=1e-5)
        assert set(cache.keys()) == set(expected_cache.keys())
        for name in expected_cache.keys():
            torch.testing.assert_close(cache[name], expected_cache[name], atol=1e-5, rtol=1e-5, msg=name)


def test_demo_transformer_refuses_positions_it_does_not_have():
    from glassbox.config import TransformerConfig
    from glassbox.model import DemoTransformer

    with pytest.raises(ValueError, match="learned positions only"):
        DemoTransformer(TransformerConfig(positional_embedding="sinusoidal"))


def test_head_input_patching_is_the_same_in_the_library_and_the_solution():
    from glassbox.config import TransformerConfig
    from glassbox.model import Transformer

    cfg = TransformerConfig(d_model=8, n_layers=2, n_heads=2, d_vocab=7, n_ctx=6, attn_only=True, seed=5)
    model = Transformer(cfg).eval()
    clean = torch.randint(0, 7, (2, 6), generator=torch.Generator().manual_seed(0))
    corrupted = (clean + 1) % 7
    _, cache = model.run_with_cache(clean)

    def metric(logits):
        return logits[:, -1, 0].mean()

    for part in "qkv":
        torch.testing.assert_close(
            ch10_interventions.patch_head_input(model, corrupted, cache, metric, part),
            interventions.patch_head_input(model, corrupted, cache, metric, part),
        )


def test_chapter_12s_induction_score_and_logit_difference_are_the_librarys():
    from glassbox.analysis.attribution import logit_difference

    patterns = torch.rand(2, 3, 4, 11, 11).tril().softmax(-1)  # [layer, batch, head, query, key]: BOS + 5 + 5
    torch.testing.assert_close(
        ch12_gpt2.repeated_induction_scores(patterns, 5, 1), attention.diagonal_score(patterns, 4, 6)
    )
    logits = torch.randn(3, 4, 9)
    answers = torch.tensor([[1, 2], [3, 0], [8, 7]])
    for per_prompt in (False, True):
        torch.testing.assert_close(
            ch12_gpt2.logit_difference(logits, answers, per_prompt), logit_difference(logits, answers, per_prompt)
        )
