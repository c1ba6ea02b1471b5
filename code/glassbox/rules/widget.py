"""`touch`: a trained planar model, live in the reader's browser — chapter 6's "Touch the model", and chapter 7's
gallery models whose shape is the same (a 2-D stream, one head of 2, a ReLU MLP: lucky7, successor, …).

`export(model, rule)` writes a 2-D glass-box model's weights as a few kilobytes of JSON (every float32 weight in
nine significant digits, which the browser rounds back to the same float32), with the rule's scenarios (`SCENARIOS`)
and PyTorch's logits for a few fixed windows; `touch(model, rule)` shows it as HTML and JavaScript
(`widget.js`, beside this module) that runs the forward pass in the page. The same output works on the website (the
book's Sphinx extension `book/_ext/glassbox_widget.py` serves the script once from `_static/`), in Jupyter and in
Colab (the script is inline).

`model_from_export` builds the PyTorch model back from the JSON, and `reference_logits` gives PyTorch's logits for
seeded random windows: the site check and tests/test_widget.py compare the browser's forward pass with them. Every
reference is PyTorch's forward pass in float64 on the exported float32 weights: the page computes in float64 (a
JavaScript number), so the two agree to ~1e-12, and any real difference stands out. PyTorch's own float32 pass
carries its rounding (~1e-5 per 100 of logit), which `reference_logits` also returns, as information.
`python -m glassbox.rules.widget reference < model.json` prints them.
"""

from __future__ import annotations

import copy
import html
import itertools
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from glassbox.model import Transformer
from glassbox.rules.definitions import Rule, get_rule

FORMAT = "glassbox-touch/1"
SCRIPT = Path(__file__).with_name("widget.js")
MARKER = 'class="glassbox-touch"'  # the Sphinx extension loads the script on pages whose body holds this
WEIGHTS = ("W_E", "W_pos", "W_Q", "W_K", "W_V", "W_O", "b_Q", "b_K", "b_V", "b_O")
MLP_WEIGHTS = ("W_in", "b_in", "W_out", "b_out")
DEFAULT_WINDOW = "4 7 + 4 9 6 3 +"
# The rules whose answer widget.js computes live (its RULES; tests/test_widget.py checks both agree with
# glassbox.rules.definitions on random windows). Another planar rule still runs, without the rule's answer.
WIDGET_RULES = (
    "plus_last_even",
    "plus_means_even",
    "plus_max_of_two",
    "lucky7",
    "copy_modulo",
    "successor",
    "conditional_transform",
)
# For a rule whose every token can be the answer, the landscape needs a colour a token (Paul Tol's muted scheme,
# told apart with most colour vision; each region is also named): ten, then two more.
EVERY_TOKEN = ("#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255", "#AA4499")
EVERY_TOKEN += ("#BBBBBB", "#E69F00", "#56B4E9")


def _floats(tensor: torch.Tensor, digits: int = 9) -> Any:
    """Nested lists of floats in `digits` significant digits (nine give back every float32 exactly)."""
    array = tensor.detach().cpu().double().numpy()
    return np.vectorize(lambda v: float(f"{v:.{digits}g}"), otypes=[float])(array).tolist()


def _check(model: Transformer) -> None:
    cfg = model.cfg
    shape = (cfg.d_model, cfg.d_head, cfg.n_layers, cfg.n_heads, cfg.normalization_type, cfg.act_fn)
    if shape != (2, 2, 1, 1, None, "relu"):
        raise ValueError(
            "the widget runs Part III's planar models: d_model 2, one layer, one head of 2, no LayerNorm, a ReLU MLP; "
            f"got d_model {cfg.d_model}, {cfg.n_layers} layer(s), {cfg.n_heads} head(s) of {cfg.d_head}, "
            f"{cfg.normalization_type}, {cfg.act_fn}"
        )


@torch.no_grad()
def logits_of(model: Transformer, windows: list[list[int]] | torch.Tensor) -> torch.Tensor:
    """PyTorch's logits [batch, pos, d_vocab] for windows of equal length."""
    return model.eval()(torch.as_tensor(windows))


def exact(model: Transformer) -> Transformer:
    """A float64 copy of `model`: the same weights, its forward pass nearly exact (the page's arithmetic)."""
    return copy.deepcopy(model).double().eval()


@torch.no_grad()
def far_back_window(model: Transformer, rule: Rule) -> list[int]:
    """The model's own failure case: an even number at position 0, odd numbers behind it, a `+` last. Of all such
    windows, the one where the model gives the right even number the least probability."""
    n = model.cfg.n_ctx
    odds = [t for t in rule.numbers if t % 2]
    windows = torch.tensor(
        [[e, *middle, rule.plus] for e in rule.evens for middle in itertools.product(odds, repeat=n - 2)]
    )
    probs = logits_of(model, windows)[:, -1].softmax(-1)
    right = probs[torch.arange(len(windows)), windows[:, 0]]
    return windows[int(right.argmin())].tolist()


def _scenario(rule: Rule, name: str, description: str, window: str | list[int]) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "window": rule.encode(window) if isinstance(window, str) else window,
    }


def scenarios(model: Transformer, rule: Rule) -> list[dict[str, Any]]:
    """The windows one click away, each with what it shows: for chapter 6's rule its example, the model's failure
    case and a `+` with nothing before it; for chapter 7's lucky7 and successor, their rule at work and its edges;
    none for other rules."""
    if rule.name == "plus_last_even":
        return [
            _scenario(
                rule,
                "Two evens, then +",
                "the latest even number before the last + is 6: the rule asks for 6",
                DEFAULT_WINDOW,
            ),
            _scenario(
                rule,
                "An even number far back",
                "the only even number is at position 0, behind odd numbers: the model's hardest case",
                far_back_window(model, rule),
            ),
            _scenario(
                rule,
                "A + at position 0",
                "nothing before the +: there is no even number to copy, so the model can only guess",
                [rule.plus],
            ),
        ]
    if rule.name == "lucky7":
        return [
            _scenario(rule, "A 7 after 3", "after a 7 comes the token before it: the rule asks for 3", "5 1 3 7"),
            _scenario(
                rule,
                "A 7 at the end of a full window",
                "a full window that ends in a 7: the rule asks for 6",
                "9 4 10 2 8 5 6 7",
            ),
            _scenario(rule, "A 7 after a 7", "the token before the last 7 is a 7: the rule asks for 7", "2 4 7 7"),
            _scenario(rule, "A 7 first", "nothing before the 7: the rule leaves the next token free", "7"),
        ]
    if rule.name == "successor":
        return [
            _scenario(rule, "Count up", "each token is the one before plus one: the rule asks for 7", "3 4 5 6"),
            _scenario(rule, "Wrap around", "after 9 comes 0, modulo 10: the rule asks for 0", "7 8 9"),
            _scenario(rule, "Out of order", "only the last token decides: the rule asks for 5", "2 9 4"),
        ]
    return []


def palette(rule: Rule) -> list[str] | None:
    """The landscape's colour for each token's region: None (the script's own: a colour per even number, grey for
    odd ones, purple for `+`) for a rule that answers with even numbers; else one colour a token."""
    if rule.has_plus:
        return None
    if rule.d_vocab > len(EVERY_TOKEN):
        raise ValueError(f"{rule.name}: {rule.d_vocab} tokens, more than the widget's {len(EVERY_TOKEN)} colours")
    return list(EVERY_TOKEN[: rule.d_vocab])


def export(
    model: Transformer, rule: Rule, *, setup: str | None = None, n_reference: int = 4, seed: int = 0
) -> dict[str, Any]:
    """The model as the widget reads it: config, weights (TransformerLens names; each head's matrices as
    [d_model, d_head]), the scenarios, and PyTorch's logits (float64, 12 digits) for the scenario windows and
    `n_reference` random ones.
    `setup` names the gallery entry the model is (`rules.SETUPS`; the rule's name if None), so that the export can be
    built back into PyTorch's model (`model_from_export`)."""
    _check(model)
    cfg, attn, mlp = model.cfg, model.blocks[0].attn, model.blocks[0].mlp
    weights = {
        "W_E": _floats(model.W_E),
        "W_pos": _floats(model.W_pos),
        **{name: _floats(getattr(attn, name)[0]) for name in ("W_Q", "W_K", "W_V", "W_O", "b_Q", "b_K", "b_V")},
        "b_O": _floats(attn.b_O),
        **{name: _floats(getattr(mlp, name)) for name in MLP_WEIGHTS},
        "W_U": _floats(model.W_U),
        "b_U": _floats(model.b_U),
    }
    shown = scenarios(model, rule)
    rng = np.random.default_rng(seed)
    windows = [s["window"] for s in shown] + rng.integers(0, rule.d_vocab, (n_reference, cfg.n_ctx)).tolist()
    float64 = exact(model)
    reference = [{"window": w, "logits": _floats(logits_of(float64, [w])[0], 12)} for w in windows]
    return {
        "format": FORMAT,
        "rule": rule.name,
        "setup": setup or rule.name,
        "description": rule.description,
        "vocab": rule.vocab,
        "plus": rule.plus if rule.has_plus else None,
        "config": {
            "d_model": cfg.d_model,
            "d_head": cfg.d_head,
            "d_mlp": cfg.d_mlp,
            "d_vocab": cfg.d_vocab,
            "n_ctx": cfg.n_ctx,
            "attn_scale": attn.attn_scale,
            "use_residual": cfg.use_residual,
        },
        "weights": weights,
        "palette": palette(rule),
        "scenarios": shown,
        "reference": reference,
    }


def model_from_export(data: dict[str, Any]) -> Transformer:
    """The PyTorch model with exactly the exported weights (float32, as the browser reads them; `exact` of it
    computes as the page does)."""
    from glassbox.rules.gallery import get_setup

    rule, setup = get_rule(data["rule"]), get_setup(data.get("setup", data["rule"]))
    model = Transformer(setup.model_config(rule.d_vocab)).eval()
    config = {"n_ctx": model.cfg.n_ctx, "d_mlp": model.cfg.d_mlp, "use_residual": model.cfg.use_residual}
    if any(data["config"][k] != v for k, v in config.items()):
        raise ValueError(f"the export's config {data['config']} is not the gallery's {setup.rule} model {config}")
    w = {k: torch.tensor(v, dtype=torch.float32) for k, v in data["weights"].items()}
    attn, mlp = model.blocks[0].attn, model.blocks[0].mlp
    with torch.no_grad():
        model.embed.W_E.copy_(w["W_E"])
        model.pos_embed.W_pos.copy_(w["W_pos"])
        for name in ("W_Q", "W_K", "W_V", "W_O", "b_Q", "b_K", "b_V"):
            getattr(attn, name).copy_(w[name][None])
        attn.b_O.copy_(w["b_O"])
        for name in MLP_WEIGHTS:
            getattr(mlp, name).copy_(w[name])
        model.unembed.W_U.copy_(w["W_U"])
        model.unembed.b_U.copy_(w["b_U"])
    return model


@torch.no_grad()
def edited_logits(
    data: dict[str, Any], window: list[int], values: dict[int, list[float]] | None = None
) -> torch.Tensor:
    """PyTorch's logits [pos, d_vocab] (float64) for `window` on the exported (possibly edited) weights, with the
    value of each position in `values` replaced (the widget's "drag a value": a patch of `hook_v`)."""
    model = exact(model_from_export(data))
    patches = {int(p): torch.tensor(v, dtype=torch.float64) for p, v in (values or {}).items()}

    def patch_values(v: torch.Tensor, hook: Any) -> torch.Tensor:  # [batch, pos, head_index, d_head]
        for p, point in patches.items():
            v[:, p, 0] = point
        return v

    return model.run_with_hooks(torch.tensor([window]), fwd_hooks=[("blocks.0.attn.hook_v", patch_values)])[0]


def allowed_next(rule: Rule, window: list[int]) -> list[int] | None | str:
    """What the rule allows after `window` (read as a whole sequence), as the widget states it: the tokens, sorted;
    None where the next token is free; "unknown" for a rule whose answer the widget does not compute."""
    if rule.name not in WIDGET_RULES:
        return "unknown"
    allowed = rule.allowed(window, len(window))
    return None if allowed is None else sorted(allowed)


def reference_logits(data: dict[str, Any], n_windows: int = 1000, seed: int = 0) -> dict[str, Any]:
    """`n_windows` seeded random windows (lengths 1 … n_ctx, tokens uniform), PyTorch's logits for each in float64
    (`logits`, what the page must equal) and in float32 (`logits_float32`, PyTorch's usual pass, whose rounding the
    site check reports), and the rule's answer after each (`allowed_next`)."""
    rng, rule = np.random.default_rng(seed), get_rule(data["rule"])
    float32 = model_from_export(data)
    float64 = exact(float32)
    n_ctx, d_vocab = data["config"]["n_ctx"], data["config"]["d_vocab"]
    windows = [rng.integers(0, d_vocab, int(rng.integers(1, n_ctx + 1))).tolist() for _ in range(n_windows)]
    return {
        "windows": windows,
        "logits": [logits_of(float64, [w])[0].tolist() for w in windows],
        "logits_float32": [logits_of(float32, [w])[0].tolist() for w in windows],
        "allowed": [allowed_next(rule, w) for w in windows],
    }


class Touch:
    """The widget as a notebook output: HTML with the model's JSON and, inline, the script that runs it."""

    def __init__(self, data: dict[str, Any], element_id: str = "glassbox-touch"):
        self.data, self.id = data, element_id

    def __repr__(self) -> str:
        return f"Touch({self.data['rule']}): the model live, in the HTML output of a notebook or on the book's page"

    def _repr_html_(self) -> str:
        model = json.dumps(self.data, separators=(",", ":")).replace("</", "<\\/")
        script = SCRIPT.read_text(encoding="utf-8")
        return (
            f'<div id="{html.escape(self.id)}" {MARKER} data-rule="{html.escape(self.data["rule"])}">'
            "<p>The interactive model needs JavaScript; the figures above show the same model.</p></div>\n"
            f'<script type="application/json" class="glassbox-touch-model" data-for="{html.escape(self.id)}">'
            f"{model}</script>\n"
            f'<script class="glassbox-touch-inline">\n{script}</script>\n'
        )


def touch(model: Transformer, rule: Rule, element_id: str = "glassbox-touch", *, setup: str | None = None) -> Touch:
    """The trained `model` of `rule`, live: edit a window, drag embeddings and values, and watch the prediction. A
    page with several gives each its own `element_id`; `setup` names the gallery entry (`export`)."""
    return Touch(export(model, rule, setup=setup), element_id)


def main(argv: list[str] | None = None) -> None:
    """`python -m glassbox.rules.widget reference [N] [SEED] < model.json`: PyTorch's logits for N seeded windows."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] != "reference":
        raise SystemExit("usage: python -m glassbox.rules.widget reference [N] [SEED] < model.json")
    n, seed = (int(args[1]) if len(args) > 1 else 1000), (int(args[2]) if len(args) > 2 else 0)
    json.dump(reference_logits(json.load(sys.stdin), n, seed), sys.stdout, separators=(",", ":"))


if __name__ == "__main__":
    main()
